"""Stack config validation: every key's default, accepted values, and the one-line error for each bad value."""

from __future__ import annotations

import types
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest
import yaml

from components.config_docs import SETTINGS_MODULE, render_settings_module
from components.stack_config import CONFIG_KEYS, LOG_RETENTION_DAYS, ConfigError, StackSettings, parse_settings

UUID_A = "11111111-2222-3333-4444-555555555555"
UUID_B = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
REQUIRED = {"connectInstanceId": UUID_A, "contactFlowId": UUID_B}
FLOWS_EXPECTED = (
    'expected a JSON object of business number -> flow id like {"phone-number-id-0123abcd": '
    '"00000000-0000-0000-0000-000000000000"}; a number is its End User Messaging id or Meta\'s phone number id'
)
PROJECT_FILE = Path(__file__).resolve().parents[2] / "Pulumi.yaml"


def parse(**values: str | None) -> StackSettings:
    return parse_settings({**REQUIRED, **values})


def test_the_typed_settings_module_is_written_from_the_declaration():
    assert SETTINGS_MODULE.read_text() == render_settings_module(), "run python -m components.config_docs --write"


def _conforms(value: Any, hint: Any) -> bool:
    if isinstance(hint, types.UnionType):
        return any(_conforms(value, arm) for arm in get_args(hint))
    if get_origin(hint) is tuple:
        return isinstance(value, tuple) and all(isinstance(item, str) for item in value)
    return type(value) is hint  # an int field holding True is wrong too


@pytest.mark.parametrize(
    "values",
    [
        {},
        {
            "transcribeLanguages": "en-US,es-US",
            "whatsappPhoneNumberIds": "phone-number-id-0123456789abcdef0123456789abcdef",
            "reengagementTemplate": "hello_world",
            "alarmEmail": "ops@example.com",
            "alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
            "maxWaitSeconds": "0",
            "markAsRead": "true",
        },
    ],
)
def test_parsed_settings_hold_the_types_their_fields_declare(values):
    # The annotations of the generated StackSettings are what mypy checks the components against.
    settings = parse(**values)
    hints = get_type_hints(StackSettings)

    wrong = {
        f.name: getattr(settings, f.name)
        for f in fields(settings)
        if not _conforms(getattr(settings, f.name), hints[f.name])
    }
    assert wrong == {}


def test_defaults_apply_when_only_the_connect_ids_are_set():
    settings = parse()

    assert settings == StackSettings(connect_instance_id=UUID_A, contact_flow_id=UUID_B)
    assert (settings.buffer_seconds, settings.max_wait_seconds, settings.max_messages, settings.window_seconds) == (
        11,
        60,
        50,
        1,
    )
    assert settings.end_of_turn == "cues"
    assert settings.ignore_reactions and settings.ignore_stickers and not settings.mark_as_read
    assert (settings.retention_hours, settings.log_retention_days, settings.chat_duration_minutes) == (24, 14, 60)
    assert settings.whatsapp_phone_number_ids == ()


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"bufferSeconds": "1", "windowSeconds": "1"}, "buffer_seconds", 1),
        ({"bufferSeconds": "300", "maxWaitSeconds": "900"}, "buffer_seconds", 300),
        ({"bufferSeconds": "90"}, "max_wait_seconds", 90),
        ({"bufferSeconds": "3"}, "window_seconds", 1),
        ({"bufferSeconds": "90", "maxWaitSeconds": "0"}, "max_wait_seconds", 90),
        ({"maxWaitSeconds": "20"}, "max_wait_seconds", 20),
        ({"maxMessages": "100"}, "max_messages", 100),
        ({"bufferSeconds": "20", "windowSeconds": "20"}, "window_seconds", 20),
        ({"endOfTurn": "fixed"}, "end_of_turn", "fixed"),
        ({"chatDurationMinutes": "10080"}, "chat_duration_minutes", 10080),
        ({"ignoreReactions": "false"}, "ignore_reactions", False),
        ({"ignoreStickers": "False"}, "ignore_stickers", False),
        ({"markAsRead": "true"}, "mark_as_read", True),
        ({"retentionHours": "168"}, "retention_hours", 168),
        ({"logRetentionDays": "3653"}, "log_retention_days", 3653),
        ({"metaApiVersion": "v21.0"}, "meta_api_version", "v21.0"),
        ({"contactFlows": ""}, "contact_flows", ()),
        ({"contactFlows": "{}"}, "contact_flows", ()),
        (
            {"contactFlows": '{"phone-number-id-b2": "' + UUID_A + '", "106540352242922": "' + UUID_B + '"}'},
            "contact_flows",
            (("106540352242922", UUID_B), ("phone-number-id-b2", UUID_A)),
        ),
        ({"lambdaMemoryMb": "1024"}, "lambda_memory_mb", 1024),
        ({"logLevel": "debug"}, "log_level", "DEBUG"),
        (
            {"whatsappPhoneNumberIds": "phone-number-id-a1, phone-number-id-b2"},
            "whatsapp_phone_number_ids",
            ("phone-number-id-a1", "phone-number-id-b2"),
        ),
        ({"whatsappPhoneNumberIds": ""}, "whatsapp_phone_number_ids", ()),
        ({"alarmEmail": "ops@example.com"}, "alarm_email", "ops@example.com"),
        (
            {"alarmTopicArn": "arn:aws:sns:us-east-1:123456789012:ops"},
            "alarm_topic_arn",
            "arn:aws:sns:us-east-1:123456789012:ops",
        ),
    ],
)
def test_valid_value_is_parsed_into_its_typed_field(values, field, expected):
    assert getattr(parse(**values), field) == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"bufferSeconds": "0"}, "bufferSeconds=0 is invalid: expected an integer from 1 to 300"),
        ({"bufferSeconds": "301"}, "bufferSeconds=301 is invalid: expected an integer from 1 to 300"),
        ({"bufferSeconds": "2.5"}, "bufferSeconds=2.5 is invalid: expected an integer from 1 to 300"),
        ({"bufferSeconds": "soon"}, "bufferSeconds=soon is invalid: expected an integer from 1 to 300"),
        (
            {"bufferSeconds": "20", "maxWaitSeconds": "19"},
            "maxWaitSeconds=19 is invalid: expected an integer from 20 (bufferSeconds) to 900, or 0 for the default",
        ),
        (
            {"bufferSeconds": "20", "maxWaitSeconds": "901"},
            "maxWaitSeconds=901 is invalid: expected an integer from 20 (bufferSeconds) to 900, or 0 for the default",
        ),
        ({"endOfTurn": "smart"}, "endOfTurn=smart is invalid: expected fixed or cues"),
        ({"maxMessages": "0"}, "maxMessages=0 is invalid: expected an integer from 1 to 100"),
        ({"maxMessages": "101"}, "maxMessages=101 is invalid: expected an integer from 1 to 100"),
        (
            {"bufferSeconds": "20", "windowSeconds": "0"},
            "windowSeconds=0 is invalid: expected an integer from 1 to 20 (bufferSeconds)",
        ),
        (
            {"bufferSeconds": "20", "windowSeconds": "21"},
            "windowSeconds=21 is invalid: expected an integer from 1 to 20 (bufferSeconds)",
        ),
        (
            {"connectInstanceId": None},
            "connectInstanceId=<unset> is invalid: expected a UUID like 00000000-0000-0000-0000-000000000000",
        ),
        (
            {"connectInstanceId": "arn:aws:connect:us-east-1:123456789012:instance/x"},
            "connectInstanceId=arn:aws:connect:us-east-1:123456789012:instance/x is invalid: expected a UUID like 00000000-0000-0000-0000-000000000000",
        ),
        (
            {"contactFlowId": ""},
            "contactFlowId=<unset> is invalid: expected a UUID like 00000000-0000-0000-0000-000000000000",
        ),
        (
            {"contactFlowId": "flow-1"},
            "contactFlowId=flow-1 is invalid: expected a UUID like 00000000-0000-0000-0000-000000000000",
        ),
        ({"contactFlows": "flows"}, "contactFlows=flows is invalid: " + FLOWS_EXPECTED),
        ({"contactFlows": '["a"]'}, 'contactFlows=["a"] is invalid: ' + FLOWS_EXPECTED),
        (
            {"contactFlows": '{"sales": "' + UUID_B + '"}'},
            'contactFlows={"sales": "' + UUID_B + "\"} is invalid: 'sales' is not a business number; " + FLOWS_EXPECTED,
        ),
        (
            {"contactFlows": '{\n  "phone-number-id-a1": "flow-1"\n}'},
            'contactFlows={ "phone-number-id-a1": "flow-1" } is invalid: \'flow-1\' (for phone-number-id-a1) is not a flow id; '
            + FLOWS_EXPECTED,
        ),
        (
            {"contactFlows": '{"106540352242922": 7}'},
            'contactFlows={"106540352242922": 7} is invalid: 7 (for 106540352242922) is not a flow id; '
            + FLOWS_EXPECTED,
        ),
        ({"chatDurationMinutes": "59"}, "chatDurationMinutes=59 is invalid: expected an integer from 60 to 10080"),
        (
            {"chatDurationMinutes": "10081"},
            "chatDurationMinutes=10081 is invalid: expected an integer from 60 to 10080",
        ),
        ({"ignoreReactions": "yes"}, "ignoreReactions=yes is invalid: expected true or false"),
        ({"ignoreStickers": "1"}, "ignoreStickers=1 is invalid: expected true or false"),
        ({"markAsRead": "maybe"}, "markAsRead=maybe is invalid: expected true or false"),
        ({"retentionHours": "0"}, "retentionHours=0 is invalid: expected an integer from 1 to 168"),
        ({"retentionHours": "169"}, "retentionHours=169 is invalid: expected an integer from 1 to 168"),
        (
            {"logRetentionDays": "10"},
            "logRetentionDays=10 is invalid: expected one of " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        ),
        (
            {"logRetentionDays": "forever"},
            "logRetentionDays=forever is invalid: expected one of " + ", ".join(map(str, LOG_RETENTION_DAYS)),
        ),
        ({"metaApiVersion": "20"}, "metaApiVersion=20 is invalid: expected a Meta Graph API version like v20.0"),
        (
            {"whatsappPhoneNumberIds": "phone-number-id-a1,+15550001111"},
            "whatsappPhoneNumberIds=phone-number-id-a1,+15550001111 is invalid: expected a comma-separated list of End User Messaging ids like phone-number-id-0123abcd",
        ),
        ({"lambdaMemoryMb": "127"}, "lambdaMemoryMb=127 is invalid: expected an integer from 128 to 10240"),
        ({"lambdaMemoryMb": "10241"}, "lambdaMemoryMb=10241 is invalid: expected an integer from 128 to 10240"),
        ({"logLevel": "TRACE"}, "logLevel=TRACE is invalid: expected one of DEBUG, INFO, WARNING, ERROR"),
        ({"alarmEmail": "ops"}, "alarmEmail=ops is invalid: expected an email address"),
        ({"alarmTopicArn": "ops-topic"}, "alarmTopicArn=ops-topic is invalid: expected an SNS topic ARN"),
    ],
)
def test_invalid_value_fails_with_one_line_naming_key_value_and_range(values, message):
    with pytest.raises(ConfigError) as raised:
        parse(**values)

    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


def test_wait_and_window_defaults_follow_a_large_buffer():
    settings = parse(bufferSeconds="120")

    assert settings.max_wait_seconds == 120
    assert settings.window_seconds == 1


def test_project_file_documents_every_key_with_the_programs_default():
    documented = yaml.safe_load(PROJECT_FILE.read_text())["config"]
    defaults = parse()
    field_of = {key: _snake_case(key) for key in CONFIG_KEYS}

    assert set(documented) == set(CONFIG_KEYS)
    for key, schema in documented.items():
        assert schema["description"], key
        # An IdMap (contactFlows) is untyped: the CLI checks typed keys only, and no type takes both a map and JSON text.
        assert schema.get("type") in ("string", "integer", "boolean") or key == "contactFlows", key
        if key in REQUIRED:
            assert "default" not in schema, f"{key} is required, so Pulumi must not default it"
            continue
        # The CLI passes Pulumi.yaml's default on as if the stack had set it: the program must read it as its default.
        declared = schema["default"]
        handed_in = str(declared).lower() if isinstance(declared, bool) else str(declared)
        assert getattr(parse(**{key: handed_in}), field_of[key]) == getattr(defaults, field_of[key]), key


def _snake_case(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
