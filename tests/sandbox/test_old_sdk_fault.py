"""The `old-sdk` fault (sandbox/faults.py): a process whose botocore lacks a parameter refuses requests that carry it,
through botocore's own validation, before anything is sent."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError

from sandbox import faults
from sandbox.sdk_events import without_parameters

REQUEST = {
    "InstanceId": "11111111-2222-3333-4444-555555555555",
    "ContactFlowId": "flow",
    "ParticipantDetails": {"DisplayName": "customer"},
    "ChatStreamingConfiguration": {"StreamingEndpointArn": "arn:aws:sns:us-east-1:123456789012:out"},
}


def _connect():
    """A connect client of a new session (as a function's process builds at import), which sends nothing."""
    session = botocore.session.get_session()
    client = session.create_client("connect", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")

    def no_network(**_):
        raise AssertionError("the request was sent")

    client.meta.events.register("before-send.connect.StartChatContact", no_network)
    return client


def test_the_inbound_function_gets_a_botocore_without_chat_streaming_configuration(tmp_path, monkeypatch):
    plan = faults.parse("old-sdk")
    (rule,) = [faults.WorkerFault(**r) for r in faults.worker_spec(plan, "inbound")]

    monkeypatch.setenv("AWS_DATA_PATH", without_parameters([rule], str(tmp_path)))

    with pytest.raises(ParamValidationError, match='Unknown parameter in input: "ChatStreamingConfiguration"'):
        _connect().start_chat_contact(**REQUEST)
    assert all(not faults.worker_spec(plan, f) for f in faults.FUNCTIONS if f != "inbound")


def test_without_the_fault_botocore_accepts_the_parameter_and_sends(monkeypatch):
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    with pytest.raises(AssertionError, match="the request was sent"):
        _connect().start_chat_contact(**REQUEST)


def test_the_old_sdk_is_a_misconfiguration_chosen_by_name_never_part_of_all():
    assert "old-sdk" not in faults.parse("all").mixes
    assert faults.parse("old-sdk,ddb").mixes == ("old-sdk", "ddb")
