"""`python -m sandbox plan`: the offline tree of what the program would create."""

from __future__ import annotations

import pytest

from sandbox.__main__ import main
from sandbox.plan import parse_overrides, render
from whatsapp_buffer.settings import FUNCTIONS


def test_plan_shows_components_functions_mappings_and_policies(graph):
    text = render(graph)

    for expected in (
        "WhatsAppBuffer whatsapp-buffer",
        "  Ingest whatsapp-buffer-buffered-ingest",
        "  Aggregator whatsapp-buffer-stream-aggregator",
        "  Inbound whatsapp-buffer-connect-bridge",
        "  Outbound whatsapp-buffer-connect-bridge",
        "python3.13 arm64, 256 MB",
        "tumbling window 1 s",
        '"record_type": {"S": ["control", "tick"]}',
        "redrive -> sqs:whatsapp-buffer-dev-bursts-dlq.fifo after 5 receives",
        "stream NEW_IMAGE, TTL expires_at",
        "Allow social-messaging.amazonaws.com: sns:Publish",
        "env RAW_TABLE_NAME=",
        "inTopicArn",
    ):
        assert expected in text, expected


def test_plan_nests_each_resource_under_its_component_once(graph):
    lines = render(graph).splitlines()

    assert sum(line.startswith("Function ") for line in lines) == 0
    assert sum(line.strip().startswith("Function ") for line in lines) == len(FUNCTIONS)


def test_plan_command_applies_overrides(capsys):
    assert main(["plan", "--set", "windowSeconds=7", "--set", "aws:region=eu-west-1"]) == 0

    out = capsys.readouterr().out
    assert "tumbling window 7 s" in out
    assert "(eu-west-1," in out


def test_plan_command_reports_a_bad_value_in_one_line_and_fails(capsys):
    assert main(["plan", "--set", "maxMessages=500"]) == 2

    captured = capsys.readouterr()
    assert captured.err == "error: maxMessages=500 is invalid: expected an integer from 1 to 100\n"
    assert captured.out == ""


@pytest.mark.parametrize("bad", ["bufferSeconds", "=5"])
def test_overrides_need_key_and_value(bad):
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides([bad])


def test_overrides_keep_namespaced_keys_and_empty_values():
    assert parse_overrides(["aws:region=eu-west-1", "whatsappPhoneNumberIds="]) == {
        "aws:region": "eu-west-1",
        "whatsappPhoneNumberIds": "",
    }


def test_a_json_object_after_the_first_equals_sign_is_one_value():
    """Replay contract v3: `--set contactFlows=<JSON object>`: the JSON text is kept whole, spaces and quotes
    included."""
    assert parse_overrides(['contactFlows={"phone-number-id-a1": "x", "106540352242922": "y"}']) == {
        "contactFlows": '{"phone-number-id-a1": "x", "106540352242922": "y"}'
    }


def test_replay_with_contact_flows_that_are_not_a_map_of_flow_ids_fails_in_one_line_before_anything_runs(
    capsys, tmp_path
):
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"at": 0, "type": "whatsapp", "from": "15550001111", "text": "hi"}\n')

    assert main(["replay", str(trace), "--set", 'contactFlows={"sales": "flow-1"}']) == 2

    err = capsys.readouterr().err
    assert err.startswith('replay failed: contactFlows={"sales": "flow-1"} is invalid: \'sales\' is not a business')
    assert err.count("\n") == 1
