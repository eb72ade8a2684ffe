"""The constraint traits of a botocore input shape, enforced as an AWS server enforces them after deserializing.

Smithy "Constraint traits": the server "SHOULD enforce any defined constraint traits and reject the request".
`length` (botocore `min`/`max`) counts a string's Unicode scalar values, a list's members, a map's key-value pairs
and a blob's bytes; `range` bounds numbers; `enum` fixes a string's values; `pattern` is an ECMA 262 regular
expression that "does not implicitly add a leading ^ or trailing $": a value passes when part of it matches (search),
unless the service's recorded answers show it matching whole (`DIALECTS`). botocore's client checks only `min`
(validate.py `range_check`), so everything else reaches the fake unchecked.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.model import Shape

_NUMBERS = frozenset({"integer", "long", "float", "double"})
_SIZED = frozenset({"string", "blob", "list", "map"})
_CATEGORY = re.compile(r"\\([pP])\{(\w+)\}")


@dataclass(frozen=True)
class Dialect:
    """How one service's server applies its model. `whole`: a pattern must match the whole value (Java's
    `Pattern.matches`), not part of it (Smithy's reading); `camel`: its messages name a member with a lower-case first
    letter (`outputKey` for OutputKey)."""

    whole: bool = False
    camel: bool = False


SMITHY = Dialect()
"""The spec's reading: the dialect of every service whose recorded answers are silent (connect, connectparticipant
and socialmessaging: the fake is then the laxer of the two readings)."""
DIALECTS: dict[str, Dialect] = {"transcribe": Dialect(whole=True, camel=True)}
"""Recorded AWS answers (GitHub issues boto/boto3#4312, linuxacademy/content-aws-mls-c01#1): Transcribe refused
OutputKey 'name=name/stage=prod/2b32d9cd6ce13621d332e1ae23d7a7ba.json' (pattern `[a-zA-Z0-9-_.!*'()/]{1,1024}$`, its
end matches) and TranscriptionJobName 'test/key-6faaec2c-...' (pattern `^[0-9a-zA-Z._-]+`, its start matches), naming
them 'outputKey' and 'transcriptionJobName'."""


def dialect(service: str) -> Dialect:
    """The `Dialect` of `service` (a botocore service name)."""
    return DIALECTS.get(service, SMITHY)


def violations(
    shape: Shape,
    value: Any,
    path: str = "",
    *,
    stand_in: Callable[[str], str] | None = None,
    dialect: Dialect = SMITHY,
) -> Iterator[str]:
    """Each constraint of `shape` (and of the shapes inside it) that `value` breaks, as AWS words it in `dialect`.
    `stand_in`: the string AWS would receive in place of each string value (default: the value itself)."""
    if value is None:
        return
    if stand_in is not None and isinstance(value, str):
        value = stand_in(value)
    kind = shape.type_name
    at = path or shape.name
    metadata = shape.metadata
    if kind in _SIZED:
        size = _size(kind, value)
        if "min" in metadata and size < metadata["min"]:
            yield _broken(at, None, f"Member must have length greater than or equal to {metadata['min']}")
        if "max" in metadata and size > metadata["max"]:
            yield _broken(at, None, f"Member must have length less than or equal to {metadata['max']}")
    if kind in _NUMBERS and isinstance(value, int | float):
        if "min" in metadata and value < metadata["min"]:
            yield _broken(at, value, f"Member must have value greater than or equal to {metadata['min']}")
        if "max" in metadata and value > metadata["max"]:
            yield _broken(at, value, f"Member must have value less than or equal to {metadata['max']}")
    if kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            yield _broken(at, value, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        compiled = ecma_pattern(metadata["pattern"]) if "pattern" in metadata else None
        if compiled and not (compiled.fullmatch(value) if dialect.whole else compiled.search(value)):
            yield _broken(at, value, f"Member must satisfy regular expression pattern: {metadata['pattern']}")
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            named = name[:1].lower() + name[1:] if dialect.camel else name
            inner = f"{path}.{named}" if path else named
            yield from violations(member, value.get(name), inner, stand_in=stand_in, dialect=dialect)
    elif kind == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from violations(shape.member, item, f"{at}.{index + 1}.member", stand_in=stand_in, dialect=dialect)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from violations(shape.key, key, f"{at}.{key}.key", stand_in=stand_in, dialect=dialect)
            yield from violations(shape.value, item, f"{at}.{key}.value", stand_in=stand_in, dialect=dialect)


def summary(broken: list[str]) -> str:
    """AWS's one-line message for the `violations` of a request."""
    return f"{len(broken)} validation error{'s' if len(broken) > 1 else ''} detected: {'; '.join(broken)}"


def _broken(at: str, value: Any, rule: str) -> str:
    shown = "" if value is None else f"Value '{value}' "
    return f"{shown}at '{at}' failed to satisfy constraint: {rule}"


def _size(kind: str, value: Any) -> int:
    if kind == "blob":
        return len(value if isinstance(value, bytes | bytearray) else str(value).encode("utf-8"))
    return len(value)


@functools.cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """`pattern` (ECMA 262, as the models write them) in Python's dialect: `$` outside a class is the end of the
    input (Python's `$` also matches before a final newline) and `\\p{X}`/`\\P{X}` name Unicode categories."""
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            category = _CATEGORY.match(pattern, index)
            if category:
                members = _category_class(category.group(2), negated=category.group(1) == "P")
                out.append(members if in_class else f"[{members}]")
                index = category.end()
                continue
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "$" and not in_class:
            char = r"\Z"
        out.append(char)
        index += 1
    return re.compile("".join(out))


@functools.cache
def _category_class(name: str, *, negated: bool) -> str:
    """The code point ranges (for use inside `[...]`) of the Unicode general category `name` (L, N, Z, C, Lu, …),
    or of every code point outside it."""
    ranges: list[tuple[int, int]] = []
    for point in range(sys.maxunicode + 1):
        inside = unicodedata.category(chr(point)).startswith(name) != negated
        if not inside:
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in ranges
    )
