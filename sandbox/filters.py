"""Content filtering as Lambda event source mappings and SNS subscriptions apply it.

Both use the same pattern language: a pattern is a dict mirroring the event; a leaf is a list of accepted values,
each a literal or one operator (`prefix`, `suffix`, `anything-but`, `exists`, `numeric`, `equals-ignore-case`).
A list in the event matches when any element does.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from typing import Any

_MISSING = object()
_NUMERIC = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _leaf_matches(condition: Any, value: Any) -> bool:
    if isinstance(condition, dict):
        ((op, arg),) = condition.items()
        if op == "exists":
            return (value is not _MISSING) == bool(arg)
        if value is _MISSING:
            return False
        if op == "prefix":
            return isinstance(value, str) and value.startswith(arg)
        if op == "suffix":
            return isinstance(value, str) and value.endswith(arg)
        if op == "equals-ignore-case":
            return isinstance(value, str) and value.lower() == str(arg).lower()
        if op == "anything-but":
            excluded = arg if isinstance(arg, list) else [arg]
            if isinstance(arg, dict):
                return not _leaf_matches(arg, value)
            return all(not _leaf_matches(e, value) for e in excluded)
        if op == "numeric":
            number = _number(value)
            if number is None:
                return False
            pairs = list(zip(arg[::2], arg[1::2], strict=True))
            return all(_NUMERIC[o](number, float(v)) for o, v in pairs)
        raise ValueError(f"unsupported filter operator {op!r}")
    if value is _MISSING:
        return False
    if isinstance(condition, (int, float)) and not isinstance(condition, bool):
        number = _number(value)
        return number is not None and number == float(condition)
    return condition == value


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """True when `event` satisfies every field of `pattern`."""
    for key, expected in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            if not matches(expected, value if isinstance(value, dict) else {}):
                return False
            continue
        candidates = value if isinstance(value, list) else [value]
        if not any(_leaf_matches(condition, candidate) for condition in expected for candidate in candidates):
            return False
    return True


def matches_any(patterns: Sequence[str | dict[str, Any]], event: dict[str, Any]) -> bool:
    """Lambda FilterCriteria: an event passes when any filter's pattern matches (no filters: everything passes)."""
    if not patterns:
        return True
    return any(matches(json.loads(p) if isinstance(p, str) else p, event) for p in patterns)


def sns_attributes_match(filter_policy: str | dict[str, Any] | None, attributes: dict[str, str]) -> bool:
    """SNS subscription filter policy (MessageAttributes scope) against plain attribute values."""
    if not filter_policy:
        return True
    policy = json.loads(filter_policy) if isinstance(filter_policy, str) else filter_policy
    return matches(policy, attributes)
