"""The flow-language example docs/deploy.md links (examples/flows/outreach_flow.json) stays true to the outreach
function: it parses, invokes the function with parameters the handler reads, and branches on what it answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from whatsapp_buffer.outreach import request

FLOW = Path(__file__).resolve().parents[2] / "examples" / "flows" / "outreach_flow.json"
RESULTS = {"sent", "refused"}
"""What `Outreach.handle` answers in `result` (outreach/send_template.py)."""


@pytest.fixture(scope="module")
def flow() -> dict:
    return json.loads(FLOW.read_text(encoding="utf-8"))


def actions_of(flow: dict, kind: str) -> list[dict]:
    return [a for a in flow["Actions"] if a["Type"] == kind]


def test_every_transition_reaches_an_action_of_the_flow(flow):
    identifiers = {a["Identifier"] for a in flow["Actions"]}
    targets = {flow["StartAction"]}
    for action in flow["Actions"]:
        transitions = action.get("Transitions", {})
        targets |= {transitions["NextAction"]} if "NextAction" in transitions else set()
        targets |= {t["NextAction"] for t in transitions.get("Errors", []) + transitions.get("Conditions", [])}

    assert flow["Version"] == "2019-10-30"
    assert targets <= identifiers


def test_the_block_invokes_synchronously_within_eight_seconds_expecting_a_string_map(flow):
    """Flow language, InvokeLambdaFunction: "InvocationTimeLimitSeconds ... no larger than 8"; with ResponseType
    STRING_MAP "the Lambda function should return a flat object of key/value pairs of the string type"."""
    (invoke,) = actions_of(flow, "InvokeLambdaFunction")
    parameters = invoke["Parameters"]

    assert 0 < int(parameters["InvocationTimeLimitSeconds"]) <= 8
    assert parameters["InvocationType"] == "SYNCHRONOUS"
    assert parameters["ResponseValidation"] == {"ResponseType": "STRING_MAP"}
    assert parameters["LambdaFunctionARN"].endswith("-outreach")
    assert invoke["Transitions"]["Errors"], "the Error branch (function failed or timed out) goes somewhere"


def test_it_sends_exactly_the_parameters_the_handler_reads(flow):
    (invoke,) = actions_of(flow, "InvokeLambdaFunction")
    sent = set(invoke["Parameters"]["LambdaInvocationAttributes"])
    numbered = {k for k in sent if k.startswith(request.PARAMETER_PREFIX)}
    carried = {k for k in sent if k.startswith(request.ATTRIBUTE_PREFIX)}

    assert {"to", "template", "phoneNumberId"} <= sent
    assert sent - numbered - carried <= set(request.KNOWN_KEYS)
    assert numbered == {f"parameter{i}" for i in range(1, len(numbered) + 1)}
    assert all(request.ATTRIBUTE_KEY.fullmatch(k.removeprefix(request.ATTRIBUTE_PREFIX)) for k in carried)
    number = invoke["Parameters"]["LambdaInvocationAttributes"]["phoneNumberId"]
    assert request.PHONE_NUMBER_ID.fullmatch(number)


def test_it_branches_on_every_result_the_handler_answers_and_keeps_the_reason(flow):
    (compare,) = actions_of(flow, "Compare")
    operands = {o for c in compare["Transitions"]["Conditions"] for o in c["Condition"]["Operands"]}
    kept = [a["Parameters"]["Attributes"] for a in actions_of(flow, "UpdateContactAttributes")]

    assert compare["Parameters"]["ComparisonValue"] == "$.External.result"
    assert operands == RESULTS
    assert {"outreachResult": "$.External.result", "outreachReason": "$.External.reason"} in kept
