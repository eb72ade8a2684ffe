"""The stack's configuration, validated once, and each function's environment, both built from the one declaration.

The declaration (every key's rule, default, description, environment variable and readers) is
`runtime/whatsapp_buffer/settings.py`: the functions read their environment from it, so it lives in the package the
Lambdas are given, and the program loads it from there. `runtime/` goes on `sys.path` and the module is imported
under its own name rather than loaded by file path, so a process that also runs the handlers (tests, the sandbox)
holds one copy of it, and the module imports its sibling `errors` as it does in Lambda; it imports only the standard
library, so the program gains no boto3 or Powertools (tests/infra/test_settings_declaration.py checks both).

`parse_settings` takes the raw string values `pulumi.Config` returns (None when a key is unset) and returns a typed
`StackSettings`, or raises `ConfigError` with one line naming the key, the value and what is allowed. This module
imports no Pulumi, so it is tested as plain functions.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_CHECKOUT_RUNTIME = Path(__file__).resolve().parent.parent / "runtime"
_INSTALLED_RUNTIME = Path(__file__).resolve().parent / "_runtime"
RUNTIME_DIR = _CHECKOUT_RUNTIME if (_CHECKOUT_RUNTIME / "whatsapp_buffer").is_dir() else _INSTALLED_RUNTIME
"""The Lambda code: runtime/whatsapp_buffer/ is packaged, runtime/requirements.txt goes to the SDK layer. Found beside
these files, never from the working directory: runtime/ in a checkout of the repository, components/_runtime/ where
pip installed the package (pyproject.toml ships runtime/ there as package data)."""
if str(RUNTIME_DIR) not in sys.path:
    sys.path.append(str(RUNTIME_DIR))

from components.stack_settings import StackSettings  # noqa: E402 - generated from the declaration below
from whatsapp_buffer import settings as declared  # noqa: E402 - needs runtime/ on sys.path
from whatsapp_buffer.settings import (  # noqa: E402
    LOG_LEVELS,
    LOG_RETENTION_DAYS,
    REQUIRED,
    SETTINGS,
    Boolean,
    IdMap,
    Integer,
    OneOf,
    Ref,
    Setting,
    Text,
    TextList,
)

__all__ = [
    "CONFIG_KEYS",
    "LOG_LEVELS",
    "LOG_RETENTION_DAYS",
    "SETTINGS",
    "ConfigError",
    "StackSettings",
    "function_environment",
    "parse_settings",
    "settings_from_args",
]

CONFIG_KEYS = tuple(setting.key for setting in SETTINGS)
"""Every project config key, in the order Pulumi.yaml documents them."""


class ConfigError(ValueError):
    """A stack config value is missing or outside what the program accepts; the message is one line for preview."""


def _invalid(key: str, raw: str | None, expected: str) -> ConfigError:
    shown = "<unset>" if raw is None else raw
    return ConfigError(f"{key}={shown} is invalid: expected {expected}")


def _text(values: Mapping[str, str | None], key: str) -> str | None:
    raw = values.get(key)
    if raw is None:
        return None
    raw = str(raw).strip()
    return raw or None


def _bound(bound: int | Ref, parsed: Mapping[str, Any]) -> tuple[int, str]:
    """A bound's value and how the error message shows it (`20 (bufferSeconds)`)."""
    if isinstance(bound, Ref):
        return parsed[bound.key], f"{parsed[bound.key]} ({bound.key})"
    return bound, str(bound)


def _integer(setting: Setting, raw: str | None, parsed: Mapping[str, Any]) -> int:
    rule = setting.rule
    assert isinstance(rule, Integer)
    (low, low_shown), (high, high_shown) = _bound(rule.low, parsed), _bound(rule.high, parsed)
    expected = f"an integer from {low_shown} to {high_shown}"
    if rule.derived is not None:
        expected += f", or {rule.derived} for the default"
    try:
        value = None if raw is None else int(raw)
    except ValueError:
        raise _invalid(setting.key, raw, expected) from None
    if value is None or value == rule.derived:
        # A range relative to another key clamps the default into it (maxWaitSeconds 60 with bufferSeconds 90 is 90).
        relative = isinstance(rule.low, Ref) or isinstance(rule.high, Ref)
        value = min(max(setting.default, low), high) if relative else setting.default
        raw = None
    if not low <= value <= high:
        raise _invalid(setting.key, raw if raw is not None else str(value), expected)
    return value


def _boolean(setting: Setting, raw: str | None) -> bool:
    if raw is None:
        return setting.default
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise _invalid(setting.key, raw, "true or false")


def _matching(setting: Setting, raw: str | None) -> str | None:
    rule = setting.rule
    assert isinstance(rule, Text)
    if raw is None:
        if setting.default is REQUIRED:
            raise _invalid(setting.key, None, rule.expected)
        return setting.default
    if not re.match(rule.pattern, raw):
        raise _invalid(setting.key, raw, rule.expected)
    return raw


def _one_of(setting: Setting, raw: str | None) -> Any:
    rule = setting.rule
    assert isinstance(rule, OneOf)
    if raw is None:
        return setting.default
    expected = f"one of {rule.label}"
    try:
        value = int(raw) if isinstance(rule.allowed[0], int) else raw.upper()
    except ValueError:
        raise _invalid(setting.key, raw, expected) from None
    if value not in rule.allowed:
        raise _invalid(setting.key, raw, expected)
    return value


def _text_list(setting: Setting, raw: str | None) -> tuple[str, ...]:
    rule = setting.rule
    assert isinstance(rule, TextList)
    if raw is None:
        return setting.default
    items = tuple(part.strip() for part in raw.split(",") if part.strip())
    for item in items:
        if not re.match(rule.pattern, item):
            raise _invalid(setting.key, raw, rule.expected)
    return tuple(dict.fromkeys(items))


def _id_map(setting: Setting, raw: str | None) -> tuple[tuple[str, str], ...]:
    """A JSON object as sorted (key, value) pairs. `pulumi.Config.get` returns a structured value (`pulumi config set
    --path`, a map in the stack file) as JSON text, and a value set as a string is the same text, so both arrive
    here alike; an empty value is the empty map."""
    rule = setting.rule
    assert isinstance(rule, IdMap)
    if raw is None:
        return setting.default
    shown = " ".join(raw.split())  # one line, whatever the JSON's layout

    def refused(what: str) -> ConfigError:
        return ConfigError(f"{setting.key}={shown} is invalid: {what}expected {rule.expected}")

    try:
        value = json.loads(raw)
    except ValueError:
        raise refused("") from None
    if not isinstance(value, dict):
        raise refused("")
    for key, item in value.items():
        if not any(re.match(pattern, key) for pattern in rule.key_patterns):
            raise refused(f"{key!r} is not a business number; ")
        if not isinstance(item, str) or not re.match(rule.value_pattern, item):
            raise refused(f"{item!r} (for {key}) is not a flow id; ")
    return tuple(sorted(value.items()))


def _parse(setting: Setting, raw: str | None, parsed: Mapping[str, Any]) -> Any:
    rule = setting.rule
    if isinstance(rule, Integer):
        return _integer(setting, raw, parsed)
    if isinstance(rule, Boolean):
        return _boolean(setting, raw)
    if isinstance(rule, OneOf):
        return _one_of(setting, raw)
    if isinstance(rule, TextList):
        return _text_list(setting, raw)
    if isinstance(rule, IdMap):
        return _id_map(setting, raw)
    return _matching(setting, raw)


def _validation_order() -> tuple[Setting, ...]:
    """Keys another key's range refers to first (bufferSeconds before maxWaitSeconds), then declaration order."""
    referred = {
        bound.key
        for s in SETTINGS
        if isinstance(s.rule, Integer)
        for bound in (s.rule.low, s.rule.high)
        if isinstance(bound, Ref)
    }
    return tuple(sorted(SETTINGS, key=lambda s: s.key not in referred))


def parse_settings(values: Mapping[str, str | None]) -> StackSettings:
    """Validate raw config strings (keys without the project namespace) into StackSettings; raise ConfigError."""
    parsed: dict[str, Any] = {}
    for setting in _validation_order():
        parsed[setting.key] = _parse(setting, _text(values, setting.key), parsed)
    return StackSettings(**{s.field: parsed[s.key] for s in SETTINGS})


def _env_value(value: Any, rule: Any = None) -> str:
    """A setting as the runtime's settings read it (an IdMap as a JSON object)."""
    if isinstance(rule, IdMap):
        return json.dumps(dict(value), sort_keys=True, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value) or declared.NO_VALUES
    if value is None:
        return ""
    return str(value)


def function_environment(function: str, settings: StackSettings, resources: Mapping[str, Any]) -> dict[str, Any]:
    """Exactly the variables the declaration gives `function`: settings from `settings`, the rest from `resources`
    (declared field -> the resource's output). A resource missing or not declared for the function is a bug here."""
    variables = declared.environment_of(function)
    wired = {v.field for v in variables if not isinstance(v, Setting)}
    if wired != set(resources):
        raise ValueError(
            f"{function}: the declaration wires {sorted(wired)} from resources, the component handed in "
            f"{sorted(resources)}"
        )
    return {
        v.env: _env_value(getattr(settings, v.field), v.rule) if isinstance(v, Setting) else resources[v.field]
        for v in variables
        if v.env
    }


SETTINGS_BY_FIELD = {setting.field: setting for setting in SETTINGS}
"""The component's inputs: each declared key by its snake_case field (`bufferSeconds` is `buffer_seconds`)."""
KEY_IN_TEXT = re.compile(r"\b(" + "|".join(re.escape(s.key) for s in SETTINGS) + r")\b")


def _arg_text(setting: Setting, value: Any) -> str:
    """A typed component input as the config string `parse_settings` validates; a value of the wrong type is refused
    here with the same one-line message."""
    rule = setting.rule
    integer = isinstance(rule, Integer) or (isinstance(rule, OneOf) and isinstance(rule.allowed[0], int))
    if integer:
        # Other languages' SDKs send numbers as floats: 20.0 is 20.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        expected = f"one of {rule.label}" if isinstance(rule, OneOf) else "an integer"
    elif isinstance(rule, Boolean):
        if isinstance(value, bool):
            return "true" if value else "false"
        expected = "true or false"
    elif isinstance(rule, TextList):
        if isinstance(value, list | tuple) and all(isinstance(item, str) and "," not in item for item in value):
            return ",".join(value)
        expected = f"a list of strings ({rule.expected})"
    elif isinstance(rule, IdMap):
        # A map, or StackSettings' own form of it (sorted pairs), as __main__.py hands the validated settings on.
        pairs = isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value)
        if isinstance(value, Mapping) or pairs:
            return json.dumps(dict(value))
        expected = f"a map of strings ({rule.expected})"
    else:
        if isinstance(value, str):
            return value
        expected = "a string"
    raise ConfigError(f"{setting.field}={value!r} is invalid: expected {expected}")


def settings_from_args(args: Mapping[str, Any]) -> StackSettings:
    """Validate a WhatsAppBuffer's typed inputs (snake_case, unset or None = the declared default) into StackSettings
    by the same rules as stack config; ConfigError names the input (`buffer_seconds=0 is invalid: ...`)."""
    unknown = sorted(set(args) - set(SETTINGS_BY_FIELD))
    if unknown:
        raise ConfigError(f"{unknown[0]} is not a WhatsAppBuffer input; they are {', '.join(SETTINGS_BY_FIELD)}")
    raw = {
        SETTINGS_BY_FIELD[field].key: _arg_text(SETTINGS_BY_FIELD[field], value)
        for field, value in args.items()
        if value is not None
    }
    try:
        return parse_settings(raw)
    except ConfigError as error:
        message = KEY_IN_TEXT.sub(lambda match: declared_field(match[1]), str(error))
        raise ConfigError(message) from None


def declared_field(key: str) -> str:
    return next(s.field for s in SETTINGS if s.key == key)
