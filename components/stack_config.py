"""A stack's settings, validated into a typed `StackSettings`, and each function's environment, from the declaration.

The declaration (runtime/whatsapp_buffer/settings.py) lives in the package the Lambdas are given; runtime/ goes on
`sys.path` so a process that also runs the handlers holds one copy of it (it imports only the standard library).
`parse_settings` takes the config texts `pulumi.Config` returns (the one place a text becomes a number, a flag or a
list); `settings_from_args` takes a WhatsAppBuffer's typed inputs. Both check the values by the same rules and raise
`ConfigError`, one line naming the key, the value and what is allowed. `function_environment` formats the settings
a function reads, once, as its environment variables. No Pulumi here: tested as plain functions.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
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


def _invalid(key: str, shown: str | None, expected: str) -> ConfigError:
    return ConfigError(f"{key}={'<unset>' if shown is None else shown} is invalid: expected {expected}")


def _text(values: Mapping[str, str | None], key: str) -> str | None:
    raw = values.get(key)
    if raw is None:
        return None
    raw = str(raw).strip()
    return raw or None


def _shown(bound: int | Ref, parsed: Mapping[str, Any]) -> str:
    """How the error message shows a bound (`20 (bufferSeconds)`)."""
    return f"{parsed[bound.key]} ({bound.key})" if isinstance(bound, Ref) else str(bound)


def _integer_expected(rule: Integer, parsed: Mapping[str, Any]) -> str:
    expected = f"an integer from {_shown(rule.low, parsed)} to {_shown(rule.high, parsed)}"
    return expected if rule.derived is None else f"{expected}, or {rule.derived} for the default"


Value = tuple[Any, str | None]
"""A setting's typed value (None: unset) and how an error message shows it (the config text as written)."""


def _from_config(setting: Setting, raw: str | None, parsed: Mapping[str, Any]) -> Value:
    """A config text as the value its rule holds: the one place a text becomes a number, a flag or a list."""
    rule = setting.rule
    if raw is None:
        return None, None
    if isinstance(rule, Integer) or (isinstance(rule, OneOf) and isinstance(rule.allowed[0], int)):
        try:
            return int(raw), raw
        except ValueError:
            expected = _integer_expected(rule, parsed) if isinstance(rule, Integer) else f"one of {rule.label}"
            raise _invalid(setting.key, raw, expected) from None
    if isinstance(rule, Boolean):
        if raw.lower() not in ("true", "false"):
            raise _invalid(setting.key, raw, "true or false")
        return raw.lower() == "true", raw
    if isinstance(rule, TextList):
        return TextList.items(raw), raw
    if isinstance(rule, IdMap):
        shown = " ".join(raw.split())  # one line, whatever the JSON's layout
        try:
            return json.loads(raw), shown
        except ValueError:
            raise ConfigError(f"{setting.key}={shown} is invalid: expected {rule.expected}") from None
    return raw, raw


def _from_arg(setting: Setting, value: Any) -> Value:
    """A typed component input as the value its rule holds (other languages' SDKs send numbers as floats: 20.0 is
    20); an input of the wrong type is refused naming the input."""
    rule = setting.rule
    if isinstance(rule, Integer) or (isinstance(rule, OneOf) and isinstance(rule.allowed[0], int)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value, str(value)
        expected = f"one of {rule.label}" if isinstance(rule, OneOf) else "an integer"
    elif isinstance(rule, Boolean):
        if isinstance(value, bool):
            return value, str(value).lower()
        expected = "true or false"
    elif isinstance(rule, TextList):
        if isinstance(value, list | tuple) and all(isinstance(item, str) and "," not in item for item in value):
            joined = ",".join(value).strip()
            return (tuple(item.strip() for item in value if item.strip()) if joined else None), joined
        expected = f"a list of strings ({rule.expected})"
    elif isinstance(rule, IdMap):
        # A map, or StackSettings' own form of it (sorted pairs).
        pairs = isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value)
        if isinstance(value, Mapping) or pairs:
            return dict(value), " ".join(json.dumps(dict(value)).split())
        expected = f"a map of strings ({rule.expected})"
    else:
        if isinstance(value, str):
            return (value.strip() or None), value.strip()
        expected = "a string"
    raise ConfigError(f"{setting.field}={value!r} is invalid: expected {expected}")


def _integer(setting: Setting, rule: Integer, value: int | None, shown: str | None, parsed: Mapping[str, Any]) -> int:
    if value is None or value == rule.derived:
        # A range relative to another key clamps the default into it (maxWaitSeconds 60 with bufferSeconds 90 is 90).
        low, high = rule.bounds(parsed)
        relative = isinstance(rule.low, Ref) or isinstance(rule.high, Ref)
        value = min(max(setting.default, low), high) if relative else setting.default
        shown = None
    if not rule.holds(value, parsed):
        raise _invalid(setting.key, shown if shown is not None else str(value), _integer_expected(rule, parsed))
    return value


def _id_map(setting: Setting, rule: IdMap, value: Any, shown: str | None) -> tuple[tuple[str, str], ...]:
    """A JSON object as sorted (key, value) pairs. `pulumi.Config.get` returns a structured value (`pulumi config set
    --path`, a map in the stack file) as JSON text, and a value set as a string is the same text, so both arrive
    alike; an empty value is the empty map."""

    def refused(what: str) -> ConfigError:
        return ConfigError(f"{setting.key}={shown} is invalid: {what}expected {rule.expected}")

    if not isinstance(value, dict):
        raise refused("")
    misfit = rule.misfit(value)
    if misfit is not None:
        half, key, item = misfit
        raise refused(
            f"{key!r} is not a business number; " if half == "key" else f"{item!r} (for {key}) is not a flow id; "
        )
    return tuple(sorted(value.items()))


def _checked(setting: Setting, value: Any, shown: str | None, parsed: Mapping[str, Any]) -> Any:
    """A typed value (None: unset) checked by its rule, or the default; ConfigError names the key and the value."""
    rule = setting.rule
    if isinstance(rule, Integer):
        return _integer(setting, rule, value, shown, parsed)
    if value is None:
        if setting.default is REQUIRED:
            assert isinstance(rule, Text)
            raise _invalid(setting.key, None, rule.expected)
        return setting.default
    if isinstance(rule, OneOf):
        value = value.upper() if isinstance(value, str) else value
        if value not in rule.allowed:
            raise _invalid(setting.key, shown, f"one of {rule.label}")
        return value
    if isinstance(rule, TextList):
        if not rule.holds(value):
            raise _invalid(setting.key, shown, rule.expected)
        return tuple(dict.fromkeys(value))
    if isinstance(rule, IdMap):
        return _id_map(setting, rule, value, shown)
    if isinstance(rule, Text) and not rule.holds(value):
        raise _invalid(setting.key, shown, rule.expected)
    return value


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


def _settings(read: Callable[[Setting, Mapping[str, Any]], Value]) -> StackSettings:
    parsed: dict[str, Any] = {}
    for setting in _validation_order():
        parsed[setting.key] = _checked(setting, *read(setting, parsed), parsed)
    return StackSettings(**{s.field: parsed[s.key] for s in SETTINGS})


def parse_settings(values: Mapping[str, str | None]) -> StackSettings:
    """Validate raw config strings (keys without the project namespace) into StackSettings; raise ConfigError."""
    return _settings(lambda setting, parsed: _from_config(setting, _text(values, setting.key), parsed))


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


def settings_from_args(args: Mapping[str, Any]) -> StackSettings:
    """Validate a WhatsAppBuffer's typed inputs (snake_case, unset or None = the declared default) into StackSettings
    by the same rules as stack config; ConfigError names the input (`buffer_seconds=0 is invalid: ...`)."""
    unknown = sorted(set(args) - set(SETTINGS_BY_FIELD))
    if unknown:
        raise ConfigError(f"{unknown[0]} is not a WhatsAppBuffer input; they are {', '.join(SETTINGS_BY_FIELD)}")
    typed = {
        SETTINGS_BY_FIELD[field].key: _from_arg(SETTINGS_BY_FIELD[field], value)
        for field, value in args.items()
        if value is not None
    }
    try:
        return _settings(lambda setting, _: typed.get(setting.key, (None, None)))
    except ConfigError as error:
        message = KEY_IN_TEXT.sub(lambda match: declared_field(match[1]), str(error))
        raise ConfigError(message) from None


def declared_field(key: str) -> str:
    return declared.SETTINGS_BY_KEY[key].field
