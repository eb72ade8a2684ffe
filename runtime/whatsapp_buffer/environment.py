"""What one function reads from its environment: its typed settings, read once, at its first invocation.

`settings` declares every setting and variable and which functions read it; here `IngestSettings.from_env()` and its
siblings read exactly their function's variables into fields named after the declared ones, typed by their
annotations and held to the declared range or pattern. A missing or invalid variable is a deployment bug:
`ConfigurationError` names it and its value. Besides the standard library it imports only `settings`, `errors` and
`buffer_policy`, which groups the debounce's settings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, Self, get_origin, get_type_hints

from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.errors import ConfigurationError
from whatsapp_buffer.settings import (
    AGGREGATOR,
    INBOUND,
    INGEST,
    NO_VALUES,
    OUTBOUND,
    OUTREACH,
    SWEEPER,
    IdMap,
    Integer,
    Setting,
    Text,
    TextList,
    Variable,
    environment_of,
)

BOOLEANS = {"true": True, "false": False}
"""What the program writes for a boolean setting, the only words Pulumi's stack config accepts for one."""


def _get(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _read(env: Mapping[str, str], variable: Variable, kind: Any, read: Mapping[str, Any]) -> Any:
    """The variable's value, typed by the field's annotation and held to the declared rule (`read`: the settings this
    function read before it, by key, for a bound that is another key's value)."""
    name = variable.env
    assert name is not None
    optional = kind == str | None  # an optional setting left empty: the program sets the variable to ""
    value = (env.get(name, "").strip() or None) if optional else _typed(name, _get(env, name), kind)
    if isinstance(variable, Setting) and value is not None:
        _hold_to_rule(variable, name, env[name].strip(), value, read)
    return value


def _typed(name: str, raw: str, kind: Any) -> Any:
    if kind is str:
        return raw
    if get_origin(kind) is dict:
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigurationError(f"environment variable {name} is not a JSON object of strings")
        return value
    if get_origin(kind) is tuple:
        return () if raw == NO_VALUES else TextList.items(raw)
    if kind is bool:
        if raw in BOOLEANS:
            return BOOLEANS[raw]
        raise ConfigurationError(f"environment variable {name}={raw!r} is not a boolean: true or false")
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name}={raw!r} is not a {kind.__name__}") from None


def _hold_to_rule(setting: Setting, name: str, raw: str, value: Any, read: Mapping[str, Any]) -> None:
    """The declared range or pattern (`settings.SETTINGS`), which the program checked the stack's config against."""
    rule = setting.rule
    if isinstance(rule, Integer) and not rule.holds(value, read):
        low, high = rule.bounds(read)
        raise ConfigurationError(f"environment variable {name}={raw!r} is not an integer from {low:g} to {high:g}")
    if isinstance(rule, Text | TextList | IdMap) and not rule.holds(value):
        raise ConfigurationError(f"environment variable {name}={raw!r} is not {rule.expected}")


class _FromEnvironment:
    """A function's settings read from the variables the declaration gives it. The fields are named after the
    declared fields and their annotations say how each variable is read (`retention_hours: float`); a nested dataclass
    (`policy: BufferPolicy`) groups some of them."""

    FUNCTION: ClassVar[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        declared = {v.field: v for v in environment_of(cls.FUNCTION) if not v.powertools}
        settings = _build(cls, declared, env, {})
        if declared:
            raise TypeError(f"{cls.__name__} has no field for {', '.join(sorted(declared))}")
        return settings


def _build(cls: type, declared: dict[str, Variable], env: Mapping[str, str], read: dict[str, Any]) -> Any:
    """`cls` from `env`, field by field in its order, taking each field's variable out of `declared` and noting a
    setting's value in `read` under its key."""
    hints = get_type_hints(cls)
    values = {}
    for field in fields(cls):
        kind = hints[field.name]
        if isinstance(kind, type) and is_dataclass(kind):
            values[field.name] = _build(kind, declared, env, read)
        else:
            variable = declared.pop(field.name, None)
            if variable is None or variable.env is None:
                raise TypeError(f"{cls.__name__}.{field.name} is not a declared variable of this function")
            values[field.name] = _read(env, variable, kind, read)
            if isinstance(variable, Setting):
                read[variable.key] = values[field.name]
    return cls(**values)


@dataclass(frozen=True)
class IngestSettings(_FromEnvironment):
    FUNCTION: ClassVar[str] = INGEST
    raw_table_name: str
    retention_hours: float
    ignore_reactions: bool
    ignore_stickers: bool
    max_wait_seconds: float
    """The cap of the follow-up gap ingest reports (`FollowUpGap`): bufferSeconds is at most this, so every longer gap
    ends a burst alike."""


@dataclass(frozen=True)
class AggregatorSettings(_FromEnvironment):
    FUNCTION: ClassVar[str] = AGGREGATOR
    raw_table_name: str
    bursts_queue_url: str
    policy: BufferPolicy


@dataclass(frozen=True)
class InboundSettings(_FromEnvironment):
    FUNCTION: ClassVar[str] = INBOUND
    sessions_table_name: str
    idempotency_table_name: str
    media_bucket_name: str
    out_topic_arn: str
    connect_instance_id: str
    contact_flow_id: str
    contact_flows: dict[str, str]
    """Business number (End User Messaging id or Meta's id) -> the flow its chats start in."""
    chat_duration_minutes: int
    mark_as_read: bool
    meta_api_version: str
    transcribe_languages: tuple[str, ...]
    echo_transcripts: bool
    transcript_wait_seconds: int


@dataclass(frozen=True)
class OutboundSettings(_FromEnvironment):
    FUNCTION: ClassVar[str] = OUTBOUND
    raw_table_name: str
    retention_hours: float
    sessions_table_name: str
    idempotency_table_name: str
    media_bucket_name: str
    meta_api_version: str
    reengagement_template: str | None
    reengagement_template_language: str
    agent_presence: bool


@dataclass(frozen=True)
class SweeperSettings(_FromEnvironment):
    FUNCTION: ClassVar[str] = SWEEPER
    raw_table_name: str
    max_wait_seconds: float


@dataclass(frozen=True)
class OutreachSettings(_FromEnvironment):
    FUNCTION: ClassVar[str] = OUTREACH
    meta_api_version: str
    whatsapp_phone_number_ids: tuple[str, ...]
    sessions_table_name: str


SETTINGS_CLASSES: dict[str, type[_FromEnvironment]] = {
    INGEST: IngestSettings,
    AGGREGATOR: AggregatorSettings,
    INBOUND: InboundSettings,
    OUTBOUND: OutboundSettings,
    SWEEPER: SweeperSettings,
    OUTREACH: OutreachSettings,
}
"""The typed settings each function reads; a test checks their fields are exactly what the declaration gives it."""
