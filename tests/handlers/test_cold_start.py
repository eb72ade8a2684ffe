"""Each function reads its environment once, at its first invocation: a variable outside what the declaration allows
stops that invocation with one error naming the variable, before any AWS client is built or any event is handled."""

from __future__ import annotations

import importlib

import pytest

from tests.fixtures.fakes import LambdaContext
from tests.unit.test_settings import AGGREGATOR_ENV, INBOUND_ENV, INGEST_ENV, SHARED_BRIDGE_ENV
from whatsapp_buffer.errors import ConfigurationError
from whatsapp_buffer.settings import ENVIRONMENT, FUNCTIONS, TRANSCRIPTS_SWEEP_EVENT

ENVIRONMENTS = {
    "ingest": INGEST_ENV,
    "aggregator": AGGREGATOR_ENV,
    "inbound": INBOUND_ENV,
    "outbound": {
        **SHARED_BRIDGE_ENV,
        "RAW_TABLE_NAME": "raw",
        "RETENTION_HOURS": "24",
        "REENGAGEMENT_TEMPLATE": "",
        "REENGAGEMENT_TEMPLATE_LANGUAGE": "en_US",
        "AGENT_PRESENCE": "true",
    },
    "sweeper": {"RAW_TABLE_NAME": "raw", "MAX_WAIT_SECONDS": "60"},
    "outreach": {"META_API_VERSION": "v20.0", "WHATSAPP_PHONE_NUMBER_IDS": "none", "SESSIONS_TABLE_NAME": "sessions"},
}
BROKEN = {
    "ingest": ("RETENTION_HOURS", "0"),
    "aggregator": ("BUFFER_SECONDS", "0"),
    "inbound": ("TRANSCRIPT_WAIT_SECONDS", "61"),
    "outbound": ("REENGAGEMENT_TEMPLATE_LANGUAGE", "English"),
    "sweeper": ("MAX_WAIT_SECONDS", "901"),
    "outreach": ("WHATSAPP_PHONE_NUMBER_IDS", "+15550001111"),
}
FIRST_EVENT = {"inbound": dict(TRANSCRIPTS_SWEEP_EVENT)}
"""The inbound function recognises its trigger before it builds; the others build first."""


@pytest.fixture
def entry(request, monkeypatch):
    module = importlib.import_module(f"whatsapp_buffer.entrypoints.{request.param}")
    for name in ENVIRONMENT[request.param]:
        monkeypatch.delenv(name, raising=False)
    module.installed.reset()
    yield request.param, module
    module.installed.reset()


def test_every_function_has_a_valid_environment_and_one_variable_to_break_here():
    assert set(ENVIRONMENTS) == set(BROKEN) == set(FUNCTIONS)


@pytest.mark.parametrize("entry", FUNCTIONS, indirect=True)
def test_an_invalid_variable_stops_the_first_invocation_with_an_error_naming_it(entry, monkeypatch):
    function, module = entry
    variable, value = BROKEN[function]
    # GIVEN the function's environment with one variable outside its declared range or pattern
    for name, good in {**ENVIRONMENTS[function], variable: value}.items():
        monkeypatch.setenv(name, good)

    # WHEN Lambda invokes it for the first time
    with pytest.raises(ConfigurationError) as raised:
        module.handler(FIRST_EVENT.get(function, {}), LambdaContext())

    # THEN the error names the variable and its value, and nothing was installed
    assert str(raised.value).startswith(f"environment variable {variable}={value!r} is not ")
    assert module.installed.current is None


@pytest.mark.parametrize("entry", FUNCTIONS, indirect=True)
def test_a_valid_environment_is_read_once_into_the_functions_typed_settings(entry, monkeypatch):
    function, module = entry
    for name, good in ENVIRONMENTS[function].items():
        monkeypatch.setenv(name, good)

    first = module.installed.get()

    assert module.installed.get() is first
