"""The stack's configuration, validated once.

`parse_settings` takes the raw string values `pulumi.Config` returns (None when a key is unset) and returns a typed
`StackSettings`, or raises `ConfigError` with one line naming the key, the value and what is allowed. It imports no
Pulumi, so it is tested as a plain function. Every key here is documented in Pulumi.yaml and the README.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""The values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy)."""

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PHONE_NUMBER_ID = re.compile(r"^phone-number-id-[0-9a-zA-Z]+$")
_META_API_VERSION = re.compile(r"^v\d+\.\d+$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

T = TypeVar("T")


class ConfigError(ValueError):
    """A stack config value is missing or outside what the program accepts; the message is one line for preview."""


@dataclass(frozen=True)
class StackSettings:
    """Every tunable of one stack, typed and validated. Components receive this; they never read pulumi.Config."""

    connect_instance_id: str
    contact_flow_id: str
    buffer_seconds: int = 20
    max_wait_seconds: int = 60
    max_messages: int = 50
    window_seconds: int = 5
    chat_duration_minutes: int = 60
    ignore_reactions: bool = True
    ignore_stickers: bool = True
    retention_hours: int = 24
    log_retention_days: int = 14
    mark_as_read: bool = False
    meta_api_version: str = "v20.0"
    whatsapp_phone_number_ids: tuple[str, ...] = ()
    """End User Messaging ids (`phone-number-id-…`) the functions may use; empty means every number of the account."""
    lambda_memory_mb: int = 256
    log_level: str = "INFO"
    alarm_email: str | None = None
    alarm_topic_arn: str | None = None


def _invalid(key: str, raw: str | None, expected: str) -> ConfigError:
    shown = "<unset>" if raw is None else raw
    return ConfigError(f"{key}={shown} is invalid: expected {expected}")


def _text(values: Mapping[str, str | None], key: str) -> str | None:
    raw = values.get(key)
    if raw is None:
        return None
    raw = str(raw).strip()
    return raw or None


def _integer(values: Mapping[str, str | None], key: str, default: int, low: int, high: int, expected: str = "") -> int:
    raw = _text(values, key)
    expected = expected or f"an integer from {low} to {high}"
    if raw is None:
        value = default
    else:
        try:
            value = int(raw)
        except ValueError:
            raise _invalid(key, raw, expected) from None
    if not low <= value <= high:
        raise _invalid(key, raw if raw is not None else str(value), expected)
    return value


def _boolean(values: Mapping[str, str | None], key: str, default: bool) -> bool:
    raw = _text(values, key)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise _invalid(key, raw, "true or false")


def _matching(values: Mapping[str, str | None], key: str, pattern: re.Pattern[str], expected: str) -> str | None:
    raw = _text(values, key)
    if raw is not None and not pattern.match(raw):
        raise _invalid(key, raw, expected)
    return raw


def _required(value: T | None, key: str, expected: str) -> T:
    if value is None:
        raise _invalid(key, None, expected)
    return value


def _one_of(
    values: Mapping[str, str | None], key: str, default: T, allowed: tuple[T, ...], cast: Callable[[str], T]
) -> T:
    raw = _text(values, key)
    if raw is None:
        return default
    expected = "one of " + ", ".join(str(a) for a in allowed)
    try:
        value = cast(raw)
    except ValueError:
        raise _invalid(key, raw, expected) from None
    if value not in allowed:
        raise _invalid(key, raw, expected)
    return value


def _phone_number_ids(values: Mapping[str, str | None], key: str) -> tuple[str, ...]:
    raw = _text(values, key)
    if raw is None:
        return ()
    ids = tuple(part.strip() for part in raw.split(",") if part.strip())
    for number_id in ids:
        if not _PHONE_NUMBER_ID.match(number_id):
            raise _invalid(key, raw, "a comma-separated list of End User Messaging ids like phone-number-id-0123abcd")
    return tuple(dict.fromkeys(ids))


def parse_settings(values: Mapping[str, str | None]) -> StackSettings:
    """Validate raw config strings (keys without the project namespace) into StackSettings; raise ConfigError."""
    uuid = "a UUID like 00000000-0000-0000-0000-000000000000"
    buffer_seconds = _integer(values, "bufferSeconds", 20, 1, 300)
    return StackSettings(
        connect_instance_id=_required(_matching(values, "connectInstanceId", _UUID, uuid), "connectInstanceId", uuid),
        contact_flow_id=_required(_matching(values, "contactFlowId", _UUID, uuid), "contactFlowId", uuid),
        buffer_seconds=buffer_seconds,
        max_wait_seconds=_integer(
            values,
            "maxWaitSeconds",
            max(60, buffer_seconds),
            buffer_seconds,
            900,
            f"an integer from {buffer_seconds} (bufferSeconds) to 900",
        ),
        max_messages=_integer(values, "maxMessages", 50, 1, 100),
        window_seconds=_integer(
            values,
            "windowSeconds",
            min(5, buffer_seconds),
            1,
            buffer_seconds,
            f"an integer from 1 to {buffer_seconds} (bufferSeconds)",
        ),
        chat_duration_minutes=_integer(values, "chatDurationMinutes", 60, 60, 10080),
        ignore_reactions=_boolean(values, "ignoreReactions", True),
        ignore_stickers=_boolean(values, "ignoreStickers", True),
        retention_hours=_integer(values, "retentionHours", 24, 1, 168),
        log_retention_days=_one_of(values, "logRetentionDays", 14, LOG_RETENTION_DAYS, int),
        mark_as_read=_boolean(values, "markAsRead", False),
        meta_api_version=_matching(values, "metaApiVersion", _META_API_VERSION, "a Meta Graph API version like v20.0")
        or "v20.0",
        whatsapp_phone_number_ids=_phone_number_ids(values, "whatsappPhoneNumberIds"),
        lambda_memory_mb=_integer(values, "lambdaMemoryMb", 256, 128, 10240),
        log_level=_one_of(values, "logLevel", "INFO", LOG_LEVELS, str.upper),
        alarm_email=_matching(values, "alarmEmail", _EMAIL, "an email address"),
        alarm_topic_arn=_matching(values, "alarmTopicArn", _TOPIC_ARN, "an SNS topic ARN"),
    )


CONFIG_KEYS = (
    "bufferSeconds",
    "maxWaitSeconds",
    "maxMessages",
    "windowSeconds",
    "connectInstanceId",
    "contactFlowId",
    "chatDurationMinutes",
    "ignoreReactions",
    "ignoreStickers",
    "retentionHours",
    "logRetentionDays",
    "markAsRead",
    "metaApiVersion",
    "whatsappPhoneNumberIds",
    "lambdaMemoryMb",
    "logLevel",
    "alarmEmail",
    "alarmTopicArn",
)
"""Every project config key, in the order Pulumi.yaml documents them."""
