"""The outreach function as the stack declares it: who may invoke it, what its role may do, how long it may run."""

from __future__ import annotations

import re

import pytest
from iam_lint import NEWER_THAN_PARLIAMENT, _import_parliament
from infra_helpers import allowed, function, role_statements

from components.functions import FUNCTIONS
from sandbox.program import ACCOUNT_ID, deployed_graph
from sandbox.wiring import connect_invocable, from_graph
from whatsapp_buffer.storage_keys import OUTREACH_PREFIX

INSTANCE_ID = "00000000-0000-0000-0000-000000000000"
INSTANCE = f"arn:aws:connect:us-east-1:{ACCOUNT_ID}:instance/{INSTANCE_ID}"
NUMBERS = f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:phone-number-id/*"
WABAS = f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:waba/*"


def test_only_the_configured_instance_of_this_account_may_invoke_it(graph):
    """Amazon Connect admin guide / Lambda developer guide, "Grant Amazon Connect access to your AWS Lambda
    functions": the resource permission has "a principal of connect.amazonaws.com and the ARN of your Amazon Connect
    instance"."""
    outreach = function(graph, "outreach")
    (permission,) = [
        p
        for p in graph.by_type("aws:lambda/permission:Permission")
        if p.inputs.get("principal") == "connect.amazonaws.com"
    ]

    assert permission.inputs["function"] == outreach.outputs["name"]
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["sourceArn"] == INSTANCE
    assert permission.inputs["sourceAccount"] == ACCOUNT_ID


def test_the_function_is_associated_with_the_instance_so_flows_can_pick_it(graph):
    (association,) = graph.by_type("aws:connect/lambdaFunctionAssociation:LambdaFunctionAssociation")

    assert association.inputs["instanceId"] == INSTANCE_ID
    assert association.inputs["functionArn"] == function(graph, "outreach").outputs["arn"]
    assert from_graph(graph, region="us-east-1", account_id=ACCOUNT_ID).connect_invocable == {"outreach": INSTANCE_ID}


def test_a_function_connect_may_not_invoke_is_not_invocable_in_the_sandbox(graph):
    """The sandbox's flow refuses to call a function without the permission, as Connect's invocation would fail."""
    without = type(graph)(
        [r for r in graph.resources if r.type != "aws:lambda/permission:Permission"], graph.stack_outputs
    )
    wiring = from_graph(graph, region="us-east-1", account_id=ACCOUNT_ID)

    assert connect_invocable(without, wiring.functions, wiring.account) == {}


def test_it_answers_within_the_flow_blocks_eight_seconds(graph):
    """Flow language, InvokeLambdaFunction: InvocationTimeLimitSeconds "Must be greater than 0, no larger than 8"."""
    assert function(graph, "outreach").inputs["timeout"] == FUNCTIONS["outreach"].timeout_seconds <= 8


def test_its_role_may_send_from_the_numbers_read_templates_and_touch_only_outreach_records(graph):
    grants = allowed(graph, "outreach")
    sessions = graph.get("whatsapp-buffer-connect-bridge-sessions-table").outputs["arn"]

    assert grants == {
        "logs:CreateLogStream": grants["logs:CreateLogStream"],
        "logs:PutLogEvents": grants["logs:PutLogEvents"],
        "social-messaging:GetLinkedWhatsAppBusinessAccountPhoneNumber": {NUMBERS},
        "social-messaging:SendWhatsAppMessage": {NUMBERS},
        "social-messaging:ListWhatsAppMessageTemplates": {WABAS},
        "social-messaging:GetWhatsAppMessageTemplate": {WABAS},
        "dynamodb:GetItem": {sessions},
        "dynamodb:PutItem": {sessions},
        "dynamodb:UpdateItem": {sessions},
    }
    (records,) = [s for s in role_statements(graph, "outreach") if s.get("Sid") == "RecordOutreach"]
    assert records["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{OUTREACH_PREFIX}*"]}}


def test_configured_numbers_narrow_what_it_may_send_from():
    graph = deployed_graph({"whatsappPhoneNumberIds": "phone-number-id-abc123"}, stack="dev")

    grants = allowed(graph, "outreach")

    expected = {f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:phone-number-id/abc123"}
    assert grants["social-messaging:SendWhatsAppMessage"] == expected
    assert grants["social-messaging:GetLinkedWhatsAppBusinessAccountPhoneNumber"] == expected


@pytest.mark.parametrize("action", sorted(NEWER_THAN_PARLIAMENT))
def test_actions_parliament_does_not_know_are_granted_on_the_resource_type_the_reference_lists(graph, action):
    """parliament's database predates the template actions (tests/infra/iam_lint.py quotes the reference); their
    one resource type is `waba`: `arn:${Partition}:social-messaging:${Region}:${Account}:waba/${WabaId}`."""
    service = next(s for s in _import_parliament().iam_definition if s["prefix"] == "social-messaging")
    (waba,) = [r for r in service["resources"] if r["resource"] == NEWER_THAN_PARLIAMENT[action]]
    pattern = re.escape(waba["arn"]).replace(r"\$\{Partition\}", "aws").replace(r"\$\{Region\}", "us-east-1")
    pattern = pattern.replace(r"\$\{Account\}", ACCOUNT_ID).replace(r"\$\{WabaId\}", r"\*")

    for resource in allowed(graph, "outreach")[action]:
        assert re.fullmatch(pattern, resource), resource
