"""Each function reads its environment from the declaration: typed by its settings' fields, errors name the variable."""

from __future__ import annotations

import pytest

from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.environment import (
    AggregatorSettings,
    InboundSettings,
    IngestSettings,
    OutboundSettings,
)
from whatsapp_buffer.errors import ConfigurationError
from whatsapp_buffer.settings import ENVIRONMENT

INGEST_ENV = {
    "RAW_TABLE_NAME": "raw",
    "RETENTION_HOURS": "24",
    "IGNORE_REACTIONS": "true",
    "IGNORE_STICKERS": "false",
    "MAX_WAIT_SECONDS": "60",
}
AGGREGATOR_ENV = {
    "RAW_TABLE_NAME": "raw",
    "BURSTS_QUEUE_URL": "https://sqs.example/bursts.fifo",
    "BUFFER_SECONDS": "20",
    "MAX_WAIT_SECONDS": "60",
    "MAX_MESSAGES": "50",
    "WINDOW_SECONDS": "5",
    "END_OF_TURN": "fixed",
}
SHARED_BRIDGE_ENV = {
    "SESSIONS_TABLE_NAME": "sessions",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "MEDIA_BUCKET_NAME": "media",
    "META_API_VERSION": "v20.0",
}
INBOUND_ENV = {
    **SHARED_BRIDGE_ENV,
    "OUT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:out",
    "CONNECT_INSTANCE_ID": "c800978e-fdc0-406e-bbb0-4f575f5842a6",
    "CONTACT_FLOW_ID": "7d3e0a55-1111-4222-8333-444455556666",
    "CONTACT_FLOWS": '{"phone-number-id-abc":"8e4f1b66-2222-4333-8444-555566667777"}',
    "CHAT_DURATION_MINUTES": "60",
    "MARK_AS_READ": "false",
    "TRANSCRIBE_LANGUAGES": "none",
    "ECHO_TRANSCRIPTS": "false",
    "TRANSCRIPT_WAIT_SECONDS": "10",
}


def test_ingest_reads_its_variables_typed():
    assert IngestSettings.from_env(INGEST_ENV) == IngestSettings("raw", 24.0, True, False, 60.0)
    assert isinstance(IngestSettings.from_env(INGEST_ENV).retention_hours, float)


def test_aggregator_groups_the_debounce_settings_into_its_policy():
    settings = AggregatorSettings.from_env(AGGREGATOR_ENV)

    assert settings == AggregatorSettings(
        raw_table_name="raw",
        bursts_queue_url="https://sqs.example/bursts.fifo",
        policy=BufferPolicy(
            buffer_seconds=20.0, max_wait_seconds=60.0, max_messages=50, window_seconds=5.0, end_of_turn="fixed"
        ),
    )
    assert isinstance(settings.policy.max_messages, int)


def test_inbound_reads_the_flows_per_number_as_a_map():
    inbound = InboundSettings.from_env(INBOUND_ENV)

    assert inbound.contact_flows == {"phone-number-id-abc": "8e4f1b66-2222-4333-8444-555566667777"}


@pytest.mark.parametrize("value", ["[]", "not json", '{"phone-number-id-abc": 1}'])
def test_inbound_refuses_flows_per_number_that_are_not_a_json_object_of_strings(value):
    with pytest.raises(ConfigurationError, match="CONTACT_FLOWS is not a JSON object of strings"):
        InboundSettings.from_env({**INBOUND_ENV, "CONTACT_FLOWS": value})


def test_an_end_of_turn_policy_the_aggregator_does_not_know_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="^environment variable END_OF_TURN='sometimes' is not fixed or cues$"):
        AggregatorSettings.from_env({**AGGREGATOR_ENV, "END_OF_TURN": "sometimes"})


def test_inbound_and_outbound_read_theirs():
    inbound = InboundSettings.from_env(INBOUND_ENV)

    assert (inbound.chat_duration_minutes, inbound.mark_as_read, inbound.out_topic_arn) == (
        60,
        False,
        "arn:aws:sns:us-east-1:123456789012:out",
    )
    outbound_env = {
        **SHARED_BRIDGE_ENV,
        "RAW_TABLE_NAME": "raw",
        "RETENTION_HOURS": "24",
        "REENGAGEMENT_TEMPLATE": "",
        "REENGAGEMENT_TEMPLATE_LANGUAGE": "en_US",
        "AGENT_PRESENCE": "true",
    }
    assert OutboundSettings.from_env(outbound_env) == OutboundSettings(
        "raw", 24.0, "sessions", "idempotency", "media", "v20.0", None, "en_US", True
    )


def test_an_optional_setting_left_empty_is_none_and_a_set_one_is_read():
    env = {
        **SHARED_BRIDGE_ENV,
        "RAW_TABLE_NAME": "raw",
        "RETENTION_HOURS": "24",
        "REENGAGEMENT_TEMPLATE_LANGUAGE": "pt_BR",
        "AGENT_PRESENCE": "false",
    }
    assert OutboundSettings.from_env(env).reengagement_template is None
    env["REENGAGEMENT_TEMPLATE"] = "order_update"
    assert OutboundSettings.from_env(env).reengagement_template == "order_update"


@pytest.mark.parametrize(
    ("value", "languages"), [("none", ()), ("en-US", ("en-US",)), ("en-US,es-US", ("en-US", "es-US"))]
)
def test_inbound_reads_the_transcribe_languages_list_and_none_as_empty(value, languages):
    assert InboundSettings.from_env({**INBOUND_ENV, "TRANSCRIBE_LANGUAGES": value}).transcribe_languages == languages


def test_variables_powertools_reads_itself_are_given_but_not_read_here():
    assert {"POWERTOOLS_LOG_LEVEL", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"} <= set(
        ENVIRONMENT["ingest"]
    )
    assert IngestSettings.from_env(INGEST_ENV)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**INGEST_ENV, "RAW_TABLE_NAME": " "}, "environment variable RAW_TABLE_NAME is not set"),
        (
            {k: v for k, v in INGEST_ENV.items() if k != "RETENTION_HOURS"},
            "environment variable RETENTION_HOURS is not set",
        ),
        ({**INGEST_ENV, "RETENTION_HOURS": "a day"}, "environment variable RETENTION_HOURS='a day' is not a float"),
        (
            {**INGEST_ENV, "IGNORE_STICKERS": "Maybe"},
            "environment variable IGNORE_STICKERS='Maybe' is not a boolean: true or false",
        ),
    ],
)
def test_a_missing_or_invalid_variable_is_a_configuration_error_naming_it(env, message):
    with pytest.raises(ConfigurationError) as raised:
        IngestSettings.from_env(env)

    assert str(raised.value) == message


@pytest.mark.parametrize("value", ["yes", "no", "1", "0", "TRUE", "False"])
def test_a_boolean_variable_takes_only_what_the_program_writes(value):
    """The program writes "true" or "false" (components.stack_config), the only words Pulumi's stack config takes for
    a boolean (tests/infra/test_stack_file_rules.py): the function holds its environment to the same rule."""
    with pytest.raises(ConfigurationError, match=f"^environment variable IGNORE_REACTIONS='{value}' is not a boolean"):
        IngestSettings.from_env({**INGEST_ENV, "IGNORE_REACTIONS": value})


def test_an_integer_variable_refuses_a_fraction():
    with pytest.raises(ConfigurationError, match=r"^environment variable MAX_MESSAGES='2.5' is not a int$"):
        AggregatorSettings.from_env({**AGGREGATOR_ENV, "MAX_MESSAGES": "2.5"})


def test_the_first_missing_variable_in_field_order_is_named():
    with pytest.raises(ConfigurationError, match="RAW_TABLE_NAME is not set"):
        AggregatorSettings.from_env({})


def test_a_policy_built_in_code_with_an_unknown_end_of_turn_is_refused():
    with pytest.raises(ConfigurationError, match="^end_of_turn='sometimes' is not one of fixed, cues$"):
        BufferPolicy(buffer_seconds=20, max_wait_seconds=60, max_messages=50, window_seconds=5, end_of_turn="sometimes")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BUFFER_SECONDS", "0", "an integer from 1 to 300"),
        ("BUFFER_SECONDS", "301", "an integer from 1 to 300"),
        ("BUFFER_SECONDS", "12.5", "an integer from 1 to 300"),
        ("BUFFER_SECONDS", "nan", "an integer from 1 to 300"),
        ("BUFFER_SECONDS", "inf", "an integer from 1 to 300"),
        ("MAX_WAIT_SECONDS", "19", "an integer from 20 to 900"),
        ("WINDOW_SECONDS", "21", "an integer from 1 to 20"),
        ("MAX_MESSAGES", "101", "an integer from 1 to 100"),
    ],
)
def test_a_number_outside_its_declared_range_is_a_configuration_error_naming_the_variable(variable, value, expected):
    # GIVEN the aggregator's environment with bufferSeconds 20 and one number outside what the declaration allows
    with pytest.raises(ConfigurationError) as raised:
        AggregatorSettings.from_env({**AGGREGATOR_ENV, variable: value})

    assert str(raised.value) == f"environment variable {variable}={value!r} is not {expected}"


def test_a_bound_that_is_a_key_the_function_does_not_read_is_that_keys_own_bound():
    # maxWaitSeconds runs from bufferSeconds to 900; ingest does not read bufferSeconds, so its floor is bufferSeconds'
    assert IngestSettings.from_env({**INGEST_ENV, "MAX_WAIT_SECONDS": "1"}).max_wait_seconds == 1.0
    with pytest.raises(
        ConfigurationError, match=r"^environment variable MAX_WAIT_SECONDS='0' is not an integer from 1 "
    ):
        IngestSettings.from_env({**INGEST_ENV, "MAX_WAIT_SECONDS": "0"})


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("META_API_VERSION", "20.0", "a Meta Graph API version like v20.0"),
        ("CONNECT_INSTANCE_ID", "arn:aws:connect:us-east-1:123456789012:instance/x", "a UUID like"),
        ("TRANSCRIBE_LANGUAGES", "en-US,english", "a comma-separated list of Amazon Transcribe language codes"),
        ("CONTACT_FLOWS", '{"phone-number-id-abc":"flow"}', "a JSON object of business number -> flow id"),
        ("CONTACT_FLOWS", '{"my number":"8e4f1b66-2222-4333-8444-555566667777"}', "a JSON object of business number"),
    ],
)
def test_text_that_does_not_match_its_declared_pattern_is_a_configuration_error_naming_the_variable(
    variable, value, expected
):
    with pytest.raises(ConfigurationError) as raised:
        InboundSettings.from_env({**INBOUND_ENV, variable: value})

    assert str(raised.value).startswith(f"environment variable {variable}={value!r} is not {expected}")
