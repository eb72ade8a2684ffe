"""UpdateItem's update expressions applied to a stored item as DynamoDB applies them: SET (with `if_not_exists`,
`list_append` and `+`/`-` on numbers), REMOVE, ADD and DELETE on top-level attributes, so `bench.dynamodb_units` can
price an update by the larger of the item before and after. A form this model does not know raises `Unmodelled`; the
update is then priced by the stored size plus every value it sets (docs/benchmarks.md#cost-in-dollars).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


class Unmodelled(Exception):
    """An update expression form the shadow does not model (nested paths, arithmetic on a missing attribute...)."""


_CLAUSE = re.compile(r"(?<![:#\w])(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)
"""A clause keyword (not a `:value` or `#name` placeholder spelled like one)."""
_NAME = re.compile(r"^(#\w+|[A-Za-z_]\w*)$")


def _top_level_split(text: str, separator: str = ",") -> list[str]:
    """`text` split at `separator` outside parentheses (function arguments keep their commas)."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:at])
            start = at + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _clauses(expression: str) -> list[tuple[str, str]]:
    """(keyword, body) of each clause of an UpdateExpression, keywords found outside parentheses only."""
    marks = [
        m
        for m in _CLAUSE.finditer(expression)
        if expression[: m.start()].count("(") == expression[: m.start()].count(")")
    ]
    if not marks or expression[: marks[0].start()].strip():
        raise Unmodelled(expression)
    return [
        (m.group(1).upper(), expression[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(expression)])
        for i, m in enumerate(marks)
    ]


def _number(value: Mapping[str, Any]) -> Decimal:
    if set(value) != {"N"}:
        raise Unmodelled("arithmetic on a value that is not a number")
    return Decimal(str(value["N"]))


def _number_value(number: Decimal) -> dict[str, str]:
    return {"N": format(number.normalize(), "f") if number == number.to_integral() else str(number)}


class _Update:
    """Applies one UpdateExpression to a copy of an item's attributes (DynamoDB Developer Guide, "Using update
    expressions": SET with `+`/`-`, if_not_exists and list_append; REMOVE; ADD to a number or a set; DELETE from a
    set). Top-level attributes only: a document path (`a.b`, `a[0]`) raises Unmodelled."""

    def __init__(self, attributes: Mapping[str, Any], names: Mapping[str, str], values: Mapping[str, Any]) -> None:
        self.before = attributes
        self.after = dict(attributes)
        self.names = names
        self.values = values

    def name(self, token: str) -> str:
        token = token.strip()
        if not _NAME.match(token):
            raise Unmodelled(f"path {token!r}")
        return self.names[token] if token.startswith("#") else token

    def operand(self, text: str) -> dict[str, Any] | None:
        """The value of one operand as DynamoDB reads it: from the item before the update (None when absent)."""
        text = text.strip()
        if text.startswith(":"):
            return self.values[text]
        call = re.match(r"^(if_not_exists|list_append)\s*\((.*)\)$", text, re.DOTALL)
        if call:
            args = _top_level_split(call.group(2))
            if len(args) != 2:
                raise Unmodelled(text)
            if call.group(1) == "if_not_exists":
                present = self.before.get(self.name(args[0]))
                return present if present is not None else self.operand(args[1])
            first, second = self.operand(args[0]), self.operand(args[1])
            if first is None or second is None or "L" not in first or "L" not in second:
                raise Unmodelled(text)
            return {"L": [*first["L"], *second["L"]]}
        return self.before.get(self.name(text))

    def value(self, text: str) -> dict[str, Any]:
        """SET's right-hand side: an operand, or operand + operand / operand - operand (numbers)."""
        terms = re.split(r"\s*([+-])\s*", text.strip())
        if len(terms) == 1:
            found = self.operand(terms[0])
            if found is None:
                raise Unmodelled(f"SET from a missing attribute {text!r}")
            return found
        if len(terms) != 3:
            raise Unmodelled(text)
        left, sign, right = (self.operand(terms[0]), terms[1], self.operand(terms[2]))
        if left is None or right is None:
            raise Unmodelled(f"arithmetic on a missing attribute {text!r}")
        return _number_value(_number(left) + _number(right) if sign == "+" else _number(left) - _number(right))

    def apply(self, expression: str) -> dict[str, dict[str, Any]]:
        for keyword, body in _clauses(expression):
            for action in _top_level_split(body):
                if keyword == "SET":
                    path, sep, rhs = action.partition("=")
                    if not sep:
                        raise Unmodelled(action)
                    self.after[self.name(path)] = self.value(rhs)
                elif keyword == "REMOVE":
                    self.after.pop(self.name(action), None)
                else:
                    path, _, operand = action.strip().partition(" ")
                    name, value = self.name(path), self.operand(operand)
                    if value is None:
                        raise Unmodelled(action)
                    (self._add if keyword == "ADD" else self._delete)(name, value)
        return self.after

    def _add(self, name: str, value: Mapping[str, Any]) -> None:
        current = self.after.get(name)
        ((kind, inner),) = value.items()
        if kind == "N":
            self.after[name] = _number_value((_number(current) if current else Decimal(0)) + _number(value))
        elif kind in ("SS", "NS", "BS") and (current is None or kind in current):
            existing = list(current[kind]) if current else []
            self.after[name] = {kind: existing + [v for v in dict.fromkeys(inner) if v not in existing]}
        else:
            raise Unmodelled(f"ADD of a {kind}")

    def _delete(self, name: str, value: Mapping[str, Any]) -> None:
        current = self.after.get(name)
        ((kind, inner),) = value.items()
        if kind not in ("SS", "NS", "BS") or (current is not None and kind not in current):
            raise Unmodelled(f"DELETE of a {kind}")
        if current is None:
            return
        left = [v for v in current[kind] if v not in inner]
        if left:
            self.after[name] = {kind: left}
        else:
            del self.after[name]  # a set is never empty: taking its last element away removes the attribute


def apply_update(
    attributes: Mapping[str, Any], expression: str, names: Mapping[str, str] | None, values: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """The item's attributes after `expression`; raises Unmodelled for a form this model does not know."""
    return _Update(attributes, names or {}, values or {}).apply(expression)
