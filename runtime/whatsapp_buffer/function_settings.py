"""Each function's typed settings, read once at cold start from exactly the variables the declaration gives it.

`settings` declares every key and variable and which functions read it; this module is what a Lambda does with that:
`IngestSettings.from_env()` and its siblings read their function's variables into typed fields, named after the
declared fields and typed by their annotations, and a test checks that the fields are exactly what the declaration
gives each function. Kept apart from the declaration because the declaration is what the Pulumi program, Pulumi.yaml
and the README are built from and grows with every key, while this reading is the Lambdas' alone.

Like `settings`, it imports nothing but the standard library and `errors`. A missing or invalid variable is a
deployment bug: `ConfigurationError` names it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, Self, get_origin, get_type_hints

from whatsapp_buffer.errors import ConfigurationError
from whatsapp_buffer.settings import (
    AGGREGATOR,
    INBOUND,
    INGEST,
    NO_VALUES,
    OUTBOUND,
    OUTREACH,
    SWEEPER,
    Variable,
    environment_of,
)

END_OF_TURN_POLICIES = ("fixed", "cues")
"""What `endOfTurn` may be (`aggregator.end_of_turn`)."""
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _get(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _read(env: Mapping[str, str], name: str, kind: Any) -> Any:
    if kind == str | None:
        # An optional setting left empty: the program sets the variable to "".
        return env.get(name, "").strip() or None
    raw = _get(env, name)
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
        return () if raw == NO_VALUES else tuple(part.strip() for part in raw.split(",") if part.strip())
    if kind is bool:
        lowered = raw.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigurationError(f"environment variable {name}={lowered!r} is not a boolean")
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name}={raw!r} is not a {kind.__name__}") from None


class _FromEnvironment:
    """A function's settings read from the variables the declaration gives it. The fields are named after the
    declared fields and their annotations say how each variable is read (`retention_hours: float`); a nested dataclass
    (`policy: BufferPolicy`) groups some of them."""

    FUNCTION: ClassVar[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        declared = {v.field: v for v in environment_of(cls.FUNCTION) if not v.powertools}
        settings = _build(cls, declared, env)
        if declared:
            raise TypeError(f"{cls.__name__} has no field for {', '.join(sorted(declared))}")
        return settings


def _build(cls: type, declared: dict[str, Variable], env: Mapping[str, str]) -> Any:
    """`cls` from `env`, field by field in its order, taking each field's variable out of `declared`."""
    hints = get_type_hints(cls)
    values = {}
    for field in fields(cls):
        kind = hints[field.name]
        if isinstance(kind, type) and is_dataclass(kind):
            values[field.name] = _build(kind, declared, env)
        else:
            variable = declared.pop(field.name, None)
            if variable is None or variable.env is None:
                raise TypeError(f"{cls.__name__}.{field.name} is not a declared variable of this function")
            values[field.name] = _read(env, variable.env, kind)
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
class BufferPolicy:
    """When a conversation's pending messages become a burst (see `debounce`)."""

    buffer_seconds: float
    """Quiet period: flush once the customer has sent nothing for this long."""
    max_wait_seconds: float
    """Flush once the oldest pending message has waited this long, quiet or not."""
    max_messages: int
    """Flush once this many messages are pending."""
    window_seconds: float
    """The tumbling window: how often pending conversations are looked at."""
    end_of_turn: str = "fixed"
    """`fixed`: wait `buffer_seconds` after every message; `cues`: scale it by the latest message's cue
    (`end_of_turn`)."""

    def __post_init__(self) -> None:
        if self.end_of_turn not in END_OF_TURN_POLICIES:
            raise ConfigurationError(
                f"environment variable END_OF_TURN={self.end_of_turn!r} is not one of {', '.join(END_OF_TURN_POLICIES)}"
            )


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
