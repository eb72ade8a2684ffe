"""Each stack config key reaches the resource or environment variable it controls; bad values stop the program."""

from __future__ import annotations

import json

import pytest
from iam_lint import _import_parliament
from infra_helpers import env, function

from components.stack_config import ConfigError
from sandbox.program import run_program
from whatsapp_buffer.settings import FUNCTIONS

UUID_INSTANCE = "12345678-1234-1234-1234-123456789abc"
UUID_FLOW = "87654321-4321-4321-4321-cba987654321"
UUID_SALES_FLOW = "11112222-3333-4444-5555-666677778888"


@pytest.fixture(scope="module")
def tuned():
    """One stack with every key set away from its default."""
    return run_program(
        {
            "bufferSeconds": "45",
            "maxWaitSeconds": "300",
            "maxMessages": "12",
            "windowSeconds": "9",
            "connectInstanceId": UUID_INSTANCE,
            "contactFlowId": UUID_FLOW,
            "contactFlows": json.dumps({"phone-number-id-sales01": UUID_SALES_FLOW, "106540352242922": UUID_FLOW}),
            "chatDurationMinutes": "1440",
            "ignoreReactions": "false",
            "ignoreStickers": "false",
            "retentionHours": "48",
            "logRetentionDays": "30",
            "markAsRead": "true",
            "metaApiVersion": "v21.0",
            "lambdaMemoryMb": "512",
            "logLevel": "DEBUG",
            "aws:region": "eu-west-1",
        }
    )


@pytest.mark.parametrize(
    ("function_name", "variable", "expected"),
    [
        ("aggregator", "BUFFER_SECONDS", "45"),
        ("aggregator", "MAX_WAIT_SECONDS", "300"),
        ("aggregator", "MAX_MESSAGES", "12"),
        ("aggregator", "WINDOW_SECONDS", "9"),
        ("inbound", "CONNECT_INSTANCE_ID", UUID_INSTANCE),
        ("inbound", "CONTACT_FLOW_ID", UUID_FLOW),
        (
            "inbound",
            "CONTACT_FLOWS",
            json.dumps(
                {"106540352242922": UUID_FLOW, "phone-number-id-sales01": UUID_SALES_FLOW}, separators=(",", ":")
            ),
        ),
        ("inbound", "CHAT_DURATION_MINUTES", "1440"),
        ("ingest", "IGNORE_REACTIONS", "false"),
        ("ingest", "IGNORE_STICKERS", "false"),
        ("ingest", "RETENTION_HOURS", "48"),
        ("inbound", "MARK_AS_READ", "true"),
        ("inbound", "META_API_VERSION", "v21.0"),
        ("outbound", "META_API_VERSION", "v21.0"),
        ("outbound", "POWERTOOLS_LOG_LEVEL", "DEBUG"),
    ],
)
def test_config_key_reaches_the_environment_variable_it_controls(tuned, function_name, variable, expected):
    assert env(function(tuned, function_name))[variable] == expected


def test_window_seconds_is_the_stream_mappings_tumbling_window(tuned):
    assert tuned.get("whatsapp-buffer-stream-aggregator-stream-mapping").inputs["tumblingWindowInSeconds"] == 9


def test_memory_and_log_retention_apply_to_every_function(tuned):
    functions = tuned.by_type("aws:lambda/function:Function")

    assert len(functions) == len(FUNCTIONS)
    for f in functions:
        assert f.inputs["memorySize"] == 512
    assert {g.inputs["retentionInDays"] for g in tuned.by_type("aws:cloudwatch/logGroup:LogGroup")} == {30}


def test_connect_instance_scopes_the_out_topic_policy_and_the_inbound_role(tuned):
    instance = f"arn:aws:connect:eu-west-1:123456789012:instance/{UUID_INSTANCE}"
    statement = json.loads(tuned.get("whatsapp-buffer-connect-bridge-out-topic-policy").inputs["policy"])["Statement"][
        0
    ]

    assert statement["Condition"]["ArnEquals"] == {"aws:SourceArn": instance}
    inbound_policy = json.loads(tuned.get("whatsapp-buffer-connect-bridge-inbound-policy").inputs["policy"])
    connect = next(s for s in inbound_policy["Statement"] if "connect:StartChatContact" in s["Action"])
    assert f"{instance}/contact-flow/{UUID_FLOW}" in connect["Resource"]


def test_the_inbound_role_may_start_chats_in_the_default_flow_and_each_numbers_flow_only(tuned):
    """Service Authorization Reference (parliament): StartChatContact's required resource type is `contact-flow`, so
    a chat in a flow the role does not name is refused; the tuned stack names two flows (one twice)."""
    instance = f"arn:aws:connect:eu-west-1:123456789012:instance/{UUID_INSTANCE}"
    inbound_policy = json.loads(tuned.get("whatsapp-buffer-connect-bridge-inbound-policy").inputs["policy"])
    connect = next(s for s in inbound_policy["Statement"] if "connect:StartChatContact" in s["Action"])

    flows = [r for r in connect["Resource"] if "/contact-flow/" in r]
    assert flows == [f"{instance}/contact-flow/{UUID_FLOW}", f"{instance}/contact-flow/{UUID_SALES_FLOW}"]


def test_region_shapes_arns_and_the_sdk_layer():
    graph = run_program({"aws:region": "eu-west-1"})

    assert graph.stack_outputs["inTopicArn"].startswith("arn:aws:sns:eu-west-1:123456789012:")
    (layer,) = [
        r for r in graph.by_type("aws:lambda/layerVersion:LayerVersion") if r.name.endswith("sdk-layer-version")
    ]
    assert layer.outputs["arn"].startswith("arn:aws:lambda:eu-west-1:123456789012:layer:whatsapp-buffer-dev-sdk:")
    assert function(graph, "ingest").inputs["layers"] == [layer.outputs["arn"]]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bufferSeconds": "0"}, "bufferSeconds=0 is invalid: expected an integer from 1 to 300"),
        ({"windowSeconds": "30"}, "windowSeconds=30 is invalid: expected an integer from 1 to 20 (bufferSeconds)"),
        (
            {"connectInstanceId": "my-instance"},
            "connectInstanceId=my-instance is invalid: expected a UUID like 00000000-0000-0000-0000-000000000000",
        ),
        (
            {"logRetentionDays": "10"},
            "logRetentionDays=10 is invalid: expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
        ),
    ],
)
def test_invalid_config_stops_the_program_with_its_one_line_error(overrides, message):
    with pytest.raises(ConfigError) as raised:
        run_program(overrides)

    assert str(raised.value) == message


def test_program_runs_again_after_a_config_error():
    with pytest.raises(ConfigError):
        run_program({"maxMessages": "0"})

    assert len(run_program().by_type("aws:lambda/function:Function")) == len(FUNCTIONS)


def test_a_persistent_chat_needs_no_permission_beyond_start_chat_contact_on_the_flow_and_the_instance_s_contacts(tuned):
    """Service Authorization Reference (parliament's copy): StartChatContact's resource types are `contact-flow`
    (required) and `contact` (optional: the related or continued contact, `instance/${InstanceId}/contact/
    ${ContactId}`), with no dependent action; PersistentChat is a parameter of that call, so the inbound role's one
    statement (every flow, the instance's contacts) covers it."""
    connect = next(s for s in _import_parliament().iam_definition if s["prefix"] == "connect")
    (start,) = [p for p in connect["privileges"] if p["privilege"] == "StartChatContact"]
    kinds = {r["resource_type"]: r["dependent_actions"] for r in start["resource_types"] if r["resource_type"]}
    assert kinds == {"contact-flow*": [], "contact": []}
    instance = f"arn:aws:connect:eu-west-1:123456789012:instance/{UUID_INSTANCE}"
    inbound_policy = json.loads(tuned.get("whatsapp-buffer-connect-bridge-inbound-policy").inputs["policy"])
    statement = next(s for s in inbound_policy["Statement"] if "connect:StartChatContact" in s["Action"])
    assert f"{instance}/contact/*" in statement["Resource"]
