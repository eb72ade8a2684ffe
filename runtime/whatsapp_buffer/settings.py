"""What each Lambda reads from its environment. The Pulumi program sets exactly these variables.

This module is the contract between `components/` (which sets the variables) and the handlers (which read them
once, at cold start). A missing or invalid variable is a deployment bug: `ConfigurationError` names it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from whatsapp_buffer.errors import ConfigurationError

# Names of the environment variables (the Pulumi program imports nothing from runtime/; tests check both agree).
RAW_TABLE_NAME = "RAW_TABLE_NAME"
SESSIONS_TABLE_NAME = "SESSIONS_TABLE_NAME"
IDEMPOTENCY_TABLE_NAME = "IDEMPOTENCY_TABLE_NAME"
BURSTS_QUEUE_URL = "BURSTS_QUEUE_URL"
MEDIA_BUCKET_NAME = "MEDIA_BUCKET_NAME"
OUT_TOPIC_ARN = "OUT_TOPIC_ARN"
BUFFER_SECONDS = "BUFFER_SECONDS"
MAX_WAIT_SECONDS = "MAX_WAIT_SECONDS"
MAX_MESSAGES = "MAX_MESSAGES"
WINDOW_SECONDS = "WINDOW_SECONDS"
RETENTION_HOURS = "RETENTION_HOURS"
IGNORE_REACTIONS = "IGNORE_REACTIONS"
IGNORE_STICKERS = "IGNORE_STICKERS"
CONNECT_INSTANCE_ID = "CONNECT_INSTANCE_ID"
CONTACT_FLOW_ID = "CONTACT_FLOW_ID"
CHAT_DURATION_MINUTES = "CHAT_DURATION_MINUTES"
MARK_AS_READ = "MARK_AS_READ"
META_API_VERSION = "META_API_VERSION"

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _get(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _number(env: Mapping[str, str], name: str, kind: type = float) -> float:
    raw = _get(env, name)
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"environment variable {name}={raw!r} is not a {kind.__name__}") from None


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = _get(env, name).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigurationError(f"environment variable {name}={raw!r} is not a boolean")


@dataclass(frozen=True)
class IngestSettings:
    raw_table_name: str
    retention_hours: float
    ignore_reactions: bool
    ignore_stickers: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> IngestSettings:
        return cls(
            raw_table_name=_get(env, RAW_TABLE_NAME),
            retention_hours=_number(env, RETENTION_HOURS),
            ignore_reactions=_flag(env, IGNORE_REACTIONS),
            ignore_stickers=_flag(env, IGNORE_STICKERS),
        )


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


@dataclass(frozen=True)
class AggregatorSettings:
    raw_table_name: str
    bursts_queue_url: str
    policy: BufferPolicy

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AggregatorSettings:
        return cls(
            raw_table_name=_get(env, RAW_TABLE_NAME),
            bursts_queue_url=_get(env, BURSTS_QUEUE_URL),
            policy=BufferPolicy(
                buffer_seconds=_number(env, BUFFER_SECONDS),
                max_wait_seconds=_number(env, MAX_WAIT_SECONDS),
                max_messages=int(_number(env, MAX_MESSAGES, int)),
                window_seconds=_number(env, WINDOW_SECONDS),
            ),
        )


@dataclass(frozen=True)
class InboundSettings:
    sessions_table_name: str
    idempotency_table_name: str
    media_bucket_name: str
    out_topic_arn: str
    connect_instance_id: str
    contact_flow_id: str
    chat_duration_minutes: int
    mark_as_read: bool
    meta_api_version: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> InboundSettings:
        return cls(
            sessions_table_name=_get(env, SESSIONS_TABLE_NAME),
            idempotency_table_name=_get(env, IDEMPOTENCY_TABLE_NAME),
            media_bucket_name=_get(env, MEDIA_BUCKET_NAME),
            out_topic_arn=_get(env, OUT_TOPIC_ARN),
            connect_instance_id=_get(env, CONNECT_INSTANCE_ID),
            contact_flow_id=_get(env, CONTACT_FLOW_ID),
            chat_duration_minutes=int(_number(env, CHAT_DURATION_MINUTES, int)),
            mark_as_read=_flag(env, MARK_AS_READ),
            meta_api_version=_get(env, META_API_VERSION),
        )


@dataclass(frozen=True)
class OutboundSettings:
    sessions_table_name: str
    idempotency_table_name: str
    media_bucket_name: str
    meta_api_version: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> OutboundSettings:
        return cls(
            sessions_table_name=_get(env, SESSIONS_TABLE_NAME),
            idempotency_table_name=_get(env, IDEMPOTENCY_TABLE_NAME),
            media_bucket_name=_get(env, MEDIA_BUCKET_NAME),
            meta_api_version=_get(env, META_API_VERSION),
        )


ENVIRONMENT = {
    "ingest": (RAW_TABLE_NAME, RETENTION_HOURS, IGNORE_REACTIONS, IGNORE_STICKERS),
    "aggregator": (RAW_TABLE_NAME, BURSTS_QUEUE_URL, BUFFER_SECONDS, MAX_WAIT_SECONDS, MAX_MESSAGES, WINDOW_SECONDS),
    "inbound": (
        SESSIONS_TABLE_NAME,
        IDEMPOTENCY_TABLE_NAME,
        MEDIA_BUCKET_NAME,
        OUT_TOPIC_ARN,
        CONNECT_INSTANCE_ID,
        CONTACT_FLOW_ID,
        CHAT_DURATION_MINUTES,
        MARK_AS_READ,
        META_API_VERSION,
    ),
    "outbound": (SESSIONS_TABLE_NAME, IDEMPOTENCY_TABLE_NAME, MEDIA_BUCKET_NAME, META_API_VERSION),
}
"""Which variables each function needs; the infra tests assert the program sets each of them."""
