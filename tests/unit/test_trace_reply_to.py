"""Replay contract v2 `reply_to`: a trace line that replies to an earlier message becomes WhatsApp's `context.id`."""

import json

import pytest

from sandbox import trace
from tests.fixtures import eum
from whatsapp_buffer.aggregator.merge import build_burst
from whatsapp_buffer.ingest import webhook


def _event(line: int, **data) -> trace.TraceEvent:
    return trace._validate(line, {"at": 1.0, "type": "whatsapp", "from": eum.CUSTOMER, **data})


def test_a_trace_reply_reaches_the_agent_as_a_reply():
    # GIVEN a trace line replying to an earlier message of the trace
    event = _event(2, text="actually the walnut one", reply_to="wamid.SBX00000000")
    # WHEN the sandbox turns it into End User Messaging's SNS message and ingest parses it
    body, _ = trace.eum_message(event, "wamid.SBX00000001", start_epoch=1_767_225_600, region="us-east-1",
                                account_id=eum.ACCOUNT)  # fmt: skip
    meta = json.loads(json.loads(body)["whatsAppWebhookEntry"])["changes"][0]["value"]["messages"][0]
    (message,) = webhook.parse_sns_message(body, received_at=0.0).messages
    # THEN the Meta message carries context.id, and the agent reads that it is a reply
    assert meta["context"] == {"from": eum.CUSTOMER, "id": "wamid.SBX00000000"}
    (item,) = build_burst([message], now=0.0).items
    assert item.text == "[Replying to an earlier message]\nactually the walnut one"


def test_a_line_without_reply_to_has_no_context():
    body, _ = trace.eum_message(_event(1, text="hi"), "wamid.SBX00000000", start_epoch=0, region="us-east-1",
                                account_id=eum.ACCOUNT)  # fmt: skip
    assert "context" not in json.loads(json.loads(body)["whatsAppWebhookEntry"])["changes"][0]["value"]["messages"][0]


def test_reply_to_must_be_a_string():
    with pytest.raises(trace.TraceError, match="reply_to"):
        _event(3, text="x", reply_to=7)
