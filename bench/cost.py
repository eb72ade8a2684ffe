"""The buffer's own AWS bill in dollars, from what a sandbox replay called, next to the Connect charges it saves.

One table of published on-demand prices (`PRICES`, us-east-1, each with its page and the date it was read), the
usage one replay caused (`Usage`: request units, requests, GB-seconds, log bytes) and the arithmetic between them
(`dollars`). Usage comes from the calls the handlers made, as the sandbox records them for every invoke, plus the
requests Lambda's event source mappings and SNS make on the stack's behalf. What the sandbox cannot measure is
modelled, and said so: DynamoDB item sizes (a shadow of every item written, `SecondaryIndex.write_units`), Lambda
duration (`DURATION_BASE_MS`, `CALL_LATENCY_MS`) and KMS requests (docs/benchmarks.md#cost-in-dollars).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

PRICES_READ_ON = "2026-12-01"
REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    usd: float
    per: float
    """`usd` buys this many units."""
    unit: str
    source: str

    @property
    def each(self) -> float:
        return self.usd / self.per


PRICES: dict[str, Price] = {
    "dynamodb_write_unit": Price(
        0.625,
        1e6,
        "write request unit (1 KB; transactional x2)",
        "aws.amazon.com/dynamodb/pricing/on-demand/ (US East, as quoted by "
        "airbyte.com/data-engineering-resources/dynamodb-pricing)",
    ),
    "dynamodb_read_unit": Price(
        0.125,
        1e6,
        "read request unit (4 KB strongly consistent; eventual x0.5; transactional x2)",
        "aws.amazon.com/dynamodb/pricing/on-demand/ (as above)",
    ),
    "dynamodb_stream_read_lambda": Price(
        0.0,
        1e5,
        "streams read request (GetRecords) made by a Lambda trigger: free",
        "docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html: "
        "'Read requests made by AWS Lambda-based consumers of DynamoDB Streams are free' "
        "(other consumers: $0.02 per 100,000, DynamoDB pricing page)",
    ),
    "lambda_request": Price(0.20, 1e6, "request", "aws.amazon.com/lambda/pricing/ (US East)"),
    "lambda_gb_second_arm64": Price(
        0.0000133334,
        1,
        "GB-second, Arm (first 7.5 billion GB-s a month)",
        "aws.amazon.com/lambda/pricing/ (US East, as quoted by cloudchipr.com/blog/aws-lambda-pricing)",
    ),
    "sqs_fifo_request": Price(
        0.50,
        1e6,
        "FIFO request per 64 KB chunk (send, receive, delete, change visibility)",
        "aws.amazon.com/sqs/pricing/ (as quoted by cloudburn.io/blog/amazon-sqs-pricing, March 2026)",
    ),
    "sns_publish": Price(
        0.50,
        1e6,
        "standard-topic publish per 64 KB chunk",
        "aws.amazon.com/sns/pricing/ (as quoted by factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols)",
    ),
    "sns_lambda_delivery": Price(
        0.0,
        1e6,
        "delivery to a Lambda subscription: no charge",
        "aws.amazon.com/sns/pricing/ delivery table (Lambda: no charge; not re-read through the search tool)",
    ),
    "kms_request": Price(0.03, 1e4, "symmetric-key request", "aws.amazon.com/kms/pricing/"),
    "s3_put": Price(0.005, 1e3, "PUT/COPY/POST/LIST request, S3 Standard", "aws.amazon.com/s3/pricing/"),
    "s3_get": Price(0.0004, 1e3, "GET/SELECT and other request, S3 Standard", "aws.amazon.com/s3/pricing/"),
    "logs_ingested_gb": Price(
        0.50,
        1,
        "GB of Lambda logs ingested, CloudWatch Logs Standard (first tier)",
        "aws.amazon.com/cloudwatch/pricing/ (as quoted by duckbillgroup.com on the May 2025 Lambda log tiers)",
    ),
    "connect_chat_message": Price(
        0.010,
        1,
        "Connect chat message sent or received",
        "aws.amazon.com/connect/pricing/ (Chat: '$0.010 per message sent or received', as transcribed by "
        "api-evangelist/amazon-connect plans/amazon-connect-plans-pricing.yml, read 2026-10-07)",
    ),
    "transcribe_batch_minute": Price(
        0.024,
        1,
        "minute of audio, Amazon Transcribe standard batch, tier 1 (first 250,000 minutes a month); "
        "billed per second with a 15-second minimum per request",
        "aws.amazon.com/transcribe/pricing/ (per-minute rate as quoted by third-party write-ups found through the "
        "search tool: '$0.024/minute for standard use, dropping to $0.015/minute after 250,000 monthly minutes'; the "
        "billing rule from the pricing page's Chinese edition, aws.amazon.com/cn/transcribe/pricing: billed in "
        "one-second increments with a 15-second minimum per request; the English page was not read directly)",
    ),
    "connect_chat_message_seed": Price(
        0.004,
        1,
        "Connect chat message, the AWS sample's cost table",
        "the AWS sample's README cost table",
    ),
}
"""us-east-1 on-demand, read on PRICES_READ_ON from the page each names; free tiers left out."""

DURATION_BASE_MS = 5.0
"""Billed ms an invoke spends outside AWS calls (parse, decide, log): an assumption for these small handlers."""
CALL_LATENCY_MS = {
    "dynamodb": 8.0,
    "sqs": 15.0,
    "sns": 20.0,
    "kms": 8.0,
    "s3": 25.0,
    "connect": 60.0,
    "connectparticipant": 60.0,
    "social-messaging": 150.0,
    "transcribe": 60.0,
}
"""Typical in-region latency per call (assumptions); a service not listed counts 50 ms."""
LAMBDA_PLATFORM_LOG_BYTES = 350
"""START, END and REPORT lines Lambda writes per invoke (about 350 bytes together)."""
SQS_CHUNK = 64 * 1024
SNS_CHUNK = 64 * 1024


# ---------------------------------------------------------------------- DynamoDB sizes and units
def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return 1 + math.ceil(len(digits) / 2)


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value (DynamoDB's item-size rules: strings and binaries by length, numbers about one
    byte per two significant digits plus one, 1 for BOOL/NULL, 3 plus one per element for lists and maps)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(inner) if isinstance(inner, (bytes, bytearray)) else len(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> float:
    """WRUs of one item write: one per started 1 KB (at least one), doubled in a transaction."""
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """RRUs of one read of `size` bytes (a Query: all items read, summed): one per started 4 KB when strongly
    consistent (at least one, even for nothing found), half of that when eventual, doubled in a transaction."""
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return units * 2.0
    return float(units) if consistent else units / 2


@dataclass
class _Stored:
    """One item as the shadow knows it: its attributes, plus bytes an update added that the shadow could not place
    (an expression form `apply_update` does not model: priced as before, the stored size plus every value set)."""

    attributes: dict[str, dict[str, Any]]
    unplaced: int = 0

    @property
    def size(self) -> int:
        return item_size(self.attributes) + self.unplaced


class _Unmodelled(Exception):
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
        raise _Unmodelled(expression)
    return [
        (m.group(1).upper(), expression[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(expression)])
        for i, m in enumerate(marks)
    ]


def _number(value: Mapping[str, Any]) -> Decimal:
    if set(value) != {"N"}:
        raise _Unmodelled("arithmetic on a value that is not a number")
    return Decimal(str(value["N"]))


def _number_value(number: Decimal) -> dict[str, str]:
    return {"N": format(number.normalize(), "f") if number == number.to_integral() else str(number)}


class _Update:
    """Applies one UpdateExpression to a copy of an item's attributes (DynamoDB Developer Guide, "Using update
    expressions": SET with `+`/`-`, if_not_exists and list_append; REMOVE; ADD to a number or a set; DELETE from a
    set). Top-level attributes only: a document path (`a.b`, `a[0]`) raises _Unmodelled."""

    def __init__(self, attributes: Mapping[str, Any], names: Mapping[str, str], values: Mapping[str, Any]) -> None:
        self.before = attributes
        self.after = dict(attributes)
        self.names = names
        self.values = values

    def name(self, token: str) -> str:
        token = token.strip()
        if not _NAME.match(token):
            raise _Unmodelled(f"path {token!r}")
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
                raise _Unmodelled(text)
            if call.group(1) == "if_not_exists":
                present = self.before.get(self.name(args[0]))
                return present if present is not None else self.operand(args[1])
            first, second = self.operand(args[0]), self.operand(args[1])
            if first is None or second is None or "L" not in first or "L" not in second:
                raise _Unmodelled(text)
            return {"L": [*first["L"], *second["L"]]}
        return self.before.get(self.name(text))

    def value(self, text: str) -> dict[str, Any]:
        """SET's right-hand side: an operand, or operand + operand / operand - operand (numbers)."""
        terms = re.split(r"\s*([+-])\s*", text.strip())
        if len(terms) == 1:
            found = self.operand(terms[0])
            if found is None:
                raise _Unmodelled(f"SET from a missing attribute {text!r}")
            return found
        if len(terms) != 3:
            raise _Unmodelled(text)
        left, sign, right = (self.operand(terms[0]), terms[1], self.operand(terms[2]))
        if left is None or right is None:
            raise _Unmodelled(f"arithmetic on a missing attribute {text!r}")
        return _number_value(_number(left) + _number(right) if sign == "+" else _number(left) - _number(right))

    def apply(self, expression: str) -> dict[str, dict[str, Any]]:
        for keyword, body in _clauses(expression):
            for action in _top_level_split(body):
                if keyword == "SET":
                    path, sep, rhs = action.partition("=")
                    if not sep:
                        raise _Unmodelled(action)
                    self.after[self.name(path)] = self.value(rhs)
                elif keyword == "REMOVE":
                    self.after.pop(self.name(action), None)
                else:
                    path, _, operand = action.strip().partition(" ")
                    name, value = self.name(path), self.operand(operand)
                    if value is None:
                        raise _Unmodelled(action)
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
            raise _Unmodelled(f"ADD of a {kind}")

    def _delete(self, name: str, value: Mapping[str, Any]) -> None:
        current = self.after.get(name)
        ((kind, inner),) = value.items()
        if kind not in ("SS", "NS", "BS") or (current is not None and kind not in current):
            raise _Unmodelled(f"DELETE of a {kind}")
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
    """The item's attributes after `expression`; raises _Unmodelled for a form this model does not know."""
    return _Update(attributes, names or {}, values or {}).apply(expression)


@dataclass(frozen=True)
class SecondaryIndex:
    """A global secondary index as the shadow prices its writes: its key attributes and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str = "ALL"
    """ALL, KEYS_ONLY or INCLUDE (then `non_key` lists the attributes)"""
    non_key: tuple[str, ...] = ()

    @classmethod
    def from_program(cls, index: Mapping[str, Any]) -> SecondaryIndex:
        """From a pulumi-aws globalSecondaryIndexes entry (`keySchemas` in v7, `hashKey`/`rangeKey` before)."""
        if index.get("keySchemas"):
            keys = tuple(k["attributeName"] for k in index["keySchemas"])
        else:
            keys = tuple(k for k in (index.get("hashKey"), index.get("rangeKey")) if k)
        return cls(
            str(index.get("name", "")),
            keys,
            str(index.get("projectionType", "ALL")),
            tuple(index.get("nonKeyAttributes") or ()),
        )

    def entry(self, attributes: Mapping[str, Any] | None, table_key: tuple[str, ...]) -> dict[str, Any] | None:
        """The index's item for a table item (None when the item lacks an index key: a sparse index skips it)."""
        if attributes is None or any(k not in attributes for k in self.keys):
            return None
        if self.projection == "ALL":
            return dict(attributes)
        wanted = {*table_key, *self.keys, *(self.non_key if self.projection == "INCLUDE" else ())}
        return {k: v for k, v in attributes.items() if k in wanted}

    def write_units(
        self, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, table_key: tuple[str, ...]
    ) -> float:
        """Write units the index consumes when a table item goes from `before` to `after` (None: absent), by the
        Developer Guide's "Provisioned throughput considerations for global secondary indexes": one write to put an
        item that now defines the index key into the index; two (delete and put) when an index key value changes;
        one to delete it when its index key is removed; one when only projected attributes change; none when the
        item is in the index neither before nor after. Each write is sized by the index item, rounded up to 1 KB."""
        old, new = self.entry(before, table_key), self.entry(after, table_key)
        if new is None:
            return 0.0 if old is None else write_units(item_size(old))
        if old is None:
            return write_units(item_size(new))
        if any(old[k] != new[k] for k in self.keys):
            return write_units(item_size(old)) + write_units(item_size(new))
        return write_units(item_size(new)) if old != new else 0.0


@dataclass
class Shadow:
    """The items the handlers wrote, by table and key (their attributes, kept to price the reads and writes that
    follow by the item's real size)."""

    keys: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """table name -> (hash key, range key)"""
    items: dict[str, dict[str, dict[str, _Stored]]] = field(default_factory=dict)
    """table -> hash value -> range value -> item"""
    indexes: dict[str, tuple[SecondaryIndex, ...]] = field(default_factory=dict)
    """table name -> its global secondary indexes"""
    index_write_units: float = 0.0
    """Write units the global secondary indexes consumed so far (also in what `dynamodb_units` returns)."""

    def _key(self, table: str, key: Mapping[str, Any]) -> tuple[str, str]:
        hash_key, range_key = self.keys.get(table) or (sorted(key)[0], None)
        range_value = key.get(range_key) if range_key is not None else None
        return json.dumps(key.get(hash_key), sort_keys=True), json.dumps(range_value, sort_keys=True)

    def _stored(self, table: str, key: Mapping[str, Any]) -> _Stored | None:
        h, r = self._key(table, key)
        return self.items.get(table, {}).get(h, {}).get(r)

    def _keep(self, table: str, key: Mapping[str, Any], stored: _Stored | None) -> None:
        """Store (or, None, drop) the item at `key`, counting what its indexes write."""
        h, r = self._key(table, key)
        partition = self.items.setdefault(table, {}).setdefault(h, {})
        before = partition.get(r)
        if stored is None:
            partition.pop(r, None)
        else:
            partition[r] = stored
        table_key = tuple(k for k in self.keys.get(table, ()) if k)
        for index in self.indexes.get(table, ()):
            self.index_write_units += index.write_units(
                before.attributes if before else None, stored.attributes if stored else None, table_key
            )

    def _key_attributes(self, table: str, key: Mapping[str, Any]) -> dict[str, Any]:
        hash_key, range_key = self.keys.get(table) or (None, None)
        if hash_key is None:
            return dict(key)
        return {k: v for k, v in key.items() if k in (hash_key, range_key)}

    def size(self, table: str, key: Mapping[str, Any]) -> int:
        stored = self._stored(table, key)
        return stored.size if stored else 0

    def put(self, table: str, item: Mapping[str, Any]) -> int:
        """Store `item`; the bytes a PutItem is billed for: the larger of the new item and the one it replaces."""
        before = self.size(table, item)
        self._keep(table, item, _Stored(dict(item)))
        return max(before, item_size(item))

    def updated(self, table: str, key: Mapping[str, Any], update: Mapping[str, Any]) -> tuple[int, _Stored]:
        """(size before, the item after) of an UpdateItem (or a transaction's Update) with parameters `update`,
        nothing stored. An item that does not exist yet starts as its key."""
        stored = self._stored(table, key)
        before = stored or _Stored(self._key_attributes(table, key))
        values = update.get("ExpressionAttributeValues") or {}
        try:
            after = _Stored(
                apply_update(
                    before.attributes,
                    str(update.get("UpdateExpression") or ""),
                    update.get("ExpressionAttributeNames"),
                    values,
                ),
                before.unplaced,
            )
        except (_Unmodelled, KeyError, ValueError, TypeError, ArithmeticError):
            # A form the model does not know: the old upper bound, every value the update names added to the item.
            after = _Stored(dict(before.attributes), before.unplaced + sum(value_size(v) for v in values.values()))
        return (stored.size if stored else 0), after

    def update(self, table: str, key: Mapping[str, Any], update: Mapping[str, Any]) -> int:
        """Apply an UpdateItem; the bytes it is billed for: the larger of the item before and after."""
        before, after = self.updated(table, key, update)
        self._keep(table, key, after)
        return max(before, after.size)

    def refused(self, table: str, key: Mapping[str, Any], new_size: int) -> int:
        """Bytes a write whose condition failed is billed for, nothing stored: 1 KB or less when the item does not
        exist; for an existing item the larger of the item and the write's new item (see `dynamodb_units`)."""
        stored = self._stored(table, key)
        return max(stored.size, new_size) if stored else 0

    def delete(self, table: str, key: Mapping[str, Any]) -> int:
        size = self.size(table, key)
        self._keep(table, key, None)
        return size

    def query_size(self, table: str, params: Mapping[str, Any]) -> int:
        """Bytes under a Query's key condition: `hash = :v` and optionally `begins_with(range, :p)`; any other
        range condition counts the whole partition (an upper bound)."""
        condition = str(params.get("KeyConditionExpression", ""))
        values = params.get("ExpressionAttributeValues") or {}
        match = re.search(r"([#\w]+)\s*=\s*(:\w+)", condition)
        if not match:
            return 0
        if params.get("IndexName"):
            return self._index_query_size(table, str(params["IndexName"]), values.get(match.group(2)))
        partition = self.items.get(table, {}).get(json.dumps(values.get(match.group(2)), sort_keys=True), {})
        prefix = re.search(r"begins_with\(\s*([#\w]+)\s*,\s*(:\w+)\s*\)", condition)
        if prefix is None:
            return sum(s.size for s in partition.values())
        wanted = str(next(iter((values.get(prefix.group(2)) or {"S": ""}).values())))
        return sum(s.size for r, s in partition.items() if _range_text(r).startswith(wanted))

    def _index_query_size(self, table: str, index_name: str, hash_value: Any) -> int:
        """Bytes of the index items under one index hash value (any range condition: all of them, an upper bound)."""
        index = next((i for i in self.indexes.get(table, ()) if i.name == index_name), None)
        if index is None:
            return 0
        table_key = tuple(k for k in self.keys.get(table, ()) if k)
        entries = (index.entry(s.attributes, table_key) for p in self.items.get(table, {}).values() for s in p.values())
        return sum(item_size(e) for e in entries if e is not None and e[index.keys[0]] == hash_value)

    def table_size(self, table: str) -> int:
        return sum(s.size for partition in self.items.get(table, {}).values() for s in partition.values())


def _range_text(stored: str) -> str:
    value = json.loads(stored)
    return str(next(iter(value.values()))) if isinstance(value, dict) and value else ""


def _write_bytes(
    action: str, body: Mapping[str, Any], shadow: Shadow, *, failed: bool, transaction: bool = False
) -> int:
    """Bytes one Put/Update/Delete (a single call or a transaction's entry) is billed for; the shadow learns the
    write unless it `failed` (a refused condition still costs the units, but changes nothing). A cancelled
    transaction's entries are priced as if they had been written: the guide is silent on what a cancelled
    transaction consumes, so this is the upper bound."""
    table = str(body.get("TableName", ""))
    key = body.get("Item") if action == "Put" else body.get("Key")
    key = key or {}
    if action == "Put":
        new_size = item_size(key)
    elif action == "Update":
        new_size = shadow.updated(table, key, body)[1].size
    else:  # Delete, ConditionCheck (priced like a write of the item it checks)
        new_size = 0
    if not failed:
        if action == "Put":
            return shadow.put(table, key)
        if action == "Update":
            return shadow.update(table, key, body)
        return shadow.delete(table, key) if action == "Delete" else shadow.size(table, key)
    if transaction:
        return max(shadow.size(table, key), new_size)
    return shadow.refused(table, key, new_size)


def dynamodb_units(
    call_operation: str, params: Mapping[str, Any], shadow: Shadow, *, failed: bool = False
) -> tuple[float, float]:
    """(read units, write units) one DynamoDB call consumed, its global secondary indexes' writes included (counted
    once, also for a transaction: the guide is silent on whether a transaction's index writes are doubled); the
    shadow learns what it wrote (unless `failed`: a refused condition still costs the units, but changes nothing)."""
    before = shadow.index_write_units
    rru, wru = _table_units(call_operation, params, shadow, failed=failed)
    return rru, wru + (shadow.index_write_units - before)


def _table_units(
    call_operation: str, params: Mapping[str, Any], shadow: Shadow, *, failed: bool = False
) -> tuple[float, float]:
    """(read units, write units) of one call on the table itself.

    Writes follow the Developer Guide's "Capacity unit consumption for writes": a PutItem is billed for the larger
    of the new item and the one it replaces, an UpdateItem for the larger of the item before and after the update,
    a DeleteItem for the deleted item, each rounded up to 1 KB; a failed conditional write for the new item when
    the item exists (older editions say the existing item: the larger of the two is taken) and 1 unit when it does
    not. Transactions: two underlying writes of every item ("Capacity management for transactions")."""
    table = str(params.get("TableName", ""))
    consistent = bool(params.get("ConsistentRead"))
    if call_operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return 0.0, write_units(_write_bytes(call_operation[:-4], params, shadow, failed=failed))
    if call_operation == "GetItem":
        return read_units(shadow.size(table, params.get("Key") or {}), consistent=consistent), 0.0
    if call_operation in ("Query", "Scan"):
        size = shadow.query_size(table, params) if call_operation == "Query" else shadow.table_size(table)
        return read_units(size, consistent=consistent), 0.0
    if call_operation == "TransactWriteItems":
        wru = 0.0
        for entry in params.get("TransactItems") or []:
            ((action, body),) = entry.items()
            wru += write_units(_write_bytes(action, body, shadow, failed=failed, transaction=True), transactional=True)
        return 0.0, wru
    if call_operation == "TransactGetItems":
        rru = sum(
            read_units(
                shadow.size(e["Get"]["TableName"], e["Get"].get("Key") or {}), consistent=True, transactional=True
            )
            for e in params.get("TransactItems") or []
        )
        return rru, 0.0
    if call_operation == "BatchWriteItem":
        wru = 0.0
        for name, requests in (params.get("RequestItems") or {}).items():
            for request in requests:
                if "PutRequest" in request:
                    wru += write_units(shadow.put(name, request["PutRequest"]["Item"]))
                else:
                    wru += write_units(shadow.delete(name, request["DeleteRequest"]["Key"]))
        return 0.0, wru
    if call_operation == "BatchGetItem":
        rru = 0.0
        for name, request in (params.get("RequestItems") or {}).items():
            for key in request.get("Keys") or []:
                rru += read_units(shadow.size(name, key), consistent=bool(request.get("ConsistentRead")))
        return rru, 0.0
    return 0.0, 0.0  # DescribeTable and other control-plane calls: no request units


def _update_kind(body: Mapping[str, Any]) -> str:
    expression = str(body.get("UpdateExpression") or "")
    target = (body.get("ExpressionAttributeValues") or {}).get(":to") or {}
    if re.search(r"\bADD\s+tick\b", expression):
        return "touch"
    if target.get("S") == "claimed":
        return "claim"
    if target.get("S") == "sent":
        return "mark"
    if re.search(r"\bSET\s+pending\s*=", expression):
        return "settle"
    return "update"


def call_kind(call_operation: str, params: Mapping[str, Any]) -> str:
    """What one DynamoDB call did, in the buffer's words, read from its parameters: `touch` (ADD tick on a control
        item), `claim` / `mark` (a message item to claimed / sent, one UpdateItem or a transaction of them), `settle` (the
        control item's recomputed pending count), `store` (a transaction that puts items: ingest), `read` (GetItem),
        `query`, `tick` (the aggregator's PutItem of a tick item: the conversations a window end leaves waiting); anything
        else is its operation's name (`update` for another UpdateItem). The Meter adds `index`: the
    global secondary index writes those calls caused (calls: how many caused any)."""
    if call_operation == "UpdateItem":
        return _update_kind(params)
    if call_operation == "PutItem" and ((params.get("Item") or {}).get("record_type") or {}).get("S") == "tick":
        return "tick"
    if call_operation == "TransactWriteItems":
        entries = [next(iter(e.items())) for e in params.get("TransactItems") or []]
        if any(action == "Put" for action, _ in entries):
            return "store"
        kinds = {_update_kind(body) for action, body in entries if action == "Update"}
        return kinds.pop() if len(kinds) == 1 else "transaction"
    return {"GetItem": "read", "Query": "query"}.get(call_operation, call_operation)


# ---------------------------------------------------------------------- usage of one replay
@dataclass
class Usage:
    """What one replay used: request units, requests, GB-seconds and bytes (see the module docstring)."""

    whatsapp_messages: int = 0
    connect_messages: int = 0
    dynamodb_read_units: float = 0.0
    dynamodb_write_units: float = 0.0
    dynamodb_stream_reads_lambda: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: float = 0.0
    sqs_fifo_requests: int = 0
    sns_publishes: int = 0
    sns_lambda_deliveries: int = 0
    kms_requests: int = 0
    s3_puts: int = 0
    s3_gets: int = 0
    log_bytes: int = 0
    dynamodb_write_units_by_function: dict[str, float] = field(default_factory=dict)
    dynamodb_read_units_by_function: dict[str, float] = field(default_factory=dict)
    dynamodb_by_kind: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """function -> what the call did (`call_kind`) -> {"calls", "wru", "rru"}"""

    def as_dict(self) -> dict[str, Any]:
        return {f.name: (round(v, 6) if isinstance(v := getattr(self, f.name), float) else v) for f in fields(self)}


LINES: tuple[tuple[str, str, str], ...] = (
    ("DynamoDB writes", "dynamodb_write_units", "dynamodb_write_unit"),
    ("DynamoDB reads", "dynamodb_read_units", "dynamodb_read_unit"),
    ("DynamoDB stream reads (Lambda)", "dynamodb_stream_reads_lambda", "dynamodb_stream_read_lambda"),
    ("Lambda requests", "lambda_requests", "lambda_request"),
    ("Lambda GB-seconds (arm64)", "lambda_gb_seconds", "lambda_gb_second_arm64"),
    ("SQS FIFO requests", "sqs_fifo_requests", "sqs_fifo_request"),
    ("SNS publishes", "sns_publishes", "sns_publish"),
    ("SNS deliveries to Lambda", "sns_lambda_deliveries", "sns_lambda_delivery"),
    ("KMS requests", "kms_requests", "kms_request"),
    ("S3 PUTs", "s3_puts", "s3_put"),
    ("S3 GETs", "s3_gets", "s3_get"),
    ("CloudWatch Logs ingestion", "log_gb", "logs_ingested_gb"),
)
"""(label, Usage quantity, PRICES key): the lines of the buffer's own bill."""


def _quantity(usage: Usage, name: str) -> float:
    if name == "log_gb":
        return usage.log_bytes / 1e9
    return float(getattr(usage, name))


def dollars(usage: Usage, prices: Mapping[str, Price] = PRICES) -> dict[str, Any]:
    """The bill of `usage`, line by line, per 1,000 WhatsApp messages, against the Connect messages it saves
    (unbuffered, every WhatsApp message is one Connect message)."""
    per = 1000 / usage.whatsapp_messages if usage.whatsapp_messages else math.nan
    lines = {label: _quantity(usage, name) * prices[key].each * per for label, name, key in LINES}
    own = sum(lines.values())
    saved_messages = (usage.whatsapp_messages - usage.connect_messages) * per
    saved = saved_messages * prices["connect_chat_message"].each
    saved_seed = saved_messages * prices["connect_chat_message_seed"].each
    return {
        "lines_per_1000_usd": {k: round(v, 7) for k, v in lines.items()},
        "own_per_1000_usd": round(own, 6),
        "connect_messages_per_1000": round(usage.connect_messages * per, 1),
        "connect_per_1000_usd": round(usage.connect_messages * per * prices["connect_chat_message"].each, 4),
        "connect_saved_messages_per_1000": round(saved_messages, 1),
        "connect_saved_per_1000_usd": round(saved, 4),
        "connect_saved_per_1000_usd_seed_price": round(saved_seed, 4),
        "net_saved_per_1000_usd": round(saved - own, 4),
        "own_pct_of_saved": round(100 * own / saved, 3) if saved else math.nan,
    }


TRANSCRIBE_MINIMUM_SECONDS = 15
"""Transcribe bills each request at least 15 seconds of audio (see `transcribe_batch_minute`)."""
LAMBDA_CPU_SCALE = 6.0
"""A 256 MB Lambda function gets about a sixth of a vCPU (bench/media.py): this machine's conversion time x 6."""
VOICE_NOTE_CALLS = {
    # early preparation (one stream invoke per recording, an upper bound: batches hold up to 10)
    "prepare": ("social-messaging", "social-messaging", "s3", "s3", "s3", "transcribe"),
    # at flush, beyond a text item: prepared WAV found, read for the upload, job found started, read, transcript read
    "flush": ("s3", "s3", "transcribe", "transcribe", "s3", "connectparticipant", "connectparticipant"),
}
"""The AWS calls one voice note adds: prepare (metadata, copy, exists, download, store WAV, start job) and flush."""


def transcribe_billed_seconds(seconds: float) -> int:
    return max(TRANSCRIBE_MINIMUM_SECONDS, math.ceil(seconds))


def voice_notes_cost(
    conversion_ms: float,
    *,
    notes: int = 1000,
    seconds: float = 15,
    memory_mb: int = 256,
    prices: Mapping[str, Price] = PRICES,
) -> dict[str, float]:
    """Dollars for `notes` voice notes of `seconds` each: Transcribe (per second, 15 s minimum) and the Lambda time
    and requests the recording adds (conversion at Lambda's CPU share plus each call's typical latency), S3 requests.
    Modelled from measured conversion time and assumed call latencies, not billed figures."""
    transcribe = notes * transcribe_billed_seconds(seconds) / 60 * prices["transcribe_batch_minute"].each
    calls = [service for phase in VOICE_NOTE_CALLS.values() for service in phase]
    ms = 2 * DURATION_BASE_MS + conversion_ms * LAMBDA_CPU_SCALE + sum(CALL_LATENCY_MS.get(c, 50.0) for c in calls)
    gb_seconds = notes * ms / 1000 * memory_mb / 1024
    lambda_usd = gb_seconds * prices["lambda_gb_second_arm64"].each + notes * prices["lambda_request"].each
    s3_usd = notes * (3 * prices["s3_put"].each + 4 * prices["s3_get"].each)  # copy, WAV, transcript; head/get x4
    return {
        "transcribe_usd": round(transcribe, 4),
        "lambda_gb_seconds": round(gb_seconds, 1),
        "lambda_usd": round(lambda_usd, 4),
        "s3_usd": round(s3_usd, 4),
        "total_usd": round(transcribe + lambda_usd + s3_usd, 4),
    }


def invoke_seconds(calls: Iterable[Any]) -> float:
    """Modelled billed duration of one invoke: the base plus each AWS call's typical latency, rounded up to 1 ms."""
    ms = DURATION_BASE_MS + sum(CALL_LATENCY_MS.get(c.service, 50.0) for c in calls)
    return math.ceil(ms) / 1000


@dataclass
class Meter:
    """Attached to a replay before it runs (`attach`): prices every invoke's calls as they happen."""

    memory_mb: dict[str, int] = field(default_factory=dict)
    stream_functions: set[str] = field(default_factory=set)
    queue_functions: set[str] = field(default_factory=set)
    sns_functions: set[str] = field(default_factory=set)
    encrypted_topics: set[str] = field(default_factory=set)
    shadow: Shadow = field(default_factory=Shadow)
    usage: Usage = field(default_factory=Usage)
    calls_seen: int = 0

    def attach(self, replay: Any) -> None:
        """Read the wiring and hook the pipeline (call from `Replay(on_ready=...)`)."""
        wiring, pipeline = replay.wiring, replay.pipeline
        self.memory_mb = {k: f.memory_mb for k, f in wiring.functions.items()}
        self.stream_functions = {m.function for m in wiring.stream_mappings}
        self.queue_functions = {m.function for m in wiring.queue_mappings}
        self.sns_functions = {s.function for s in wiring.subscriptions}
        self.encrypted_topics = set(wiring.topics.values())  # every topic of the stack uses the stack's KMS key
        self.shadow.keys = {t.name: (t.hash_key, t.range_key) for t in wiring.tables.values()}
        self.shadow.indexes = {
            t.name: tuple(SecondaryIndex.from_program(i) for i in t.indexes)
            for t in wiring.tables.values()
            if t.indexes
        }
        previous = pipeline.on_invocation
        sns = pipeline.sns
        original_publish = sns.publish

        def publish(topic_arn: str, message: str, attributes: dict[str, str] | None = None) -> None:
            self.sns_published(topic_arn, message)
            original_publish(topic_arn, message, attributes)

        sns.publish = publish  # the replay's publishes; Connect streaming goes through its own reference:
        pipeline.connect._publish = publish

        def on_invocation(key: str, invocation: Any) -> None:
            self.invoked(key, invocation.calls, invocation.output)
            if previous:
                previous(key, invocation)

        pipeline.on_invocation = on_invocation

    def sns_published(self, topic_arn: str, message: str) -> None:
        self.usage.sns_publishes += max(1, math.ceil(len(message.encode("utf-8")) / SNS_CHUNK))
        if topic_arn in self.encrypted_topics:
            self.usage.kms_requests += 1

    def invoked(self, function: str, calls: list[Any], output: list[str]) -> None:
        u = self.usage
        u.lambda_requests += 1
        u.lambda_gb_seconds += self.memory_mb.get(function, 128) / 1024 * invoke_seconds(calls)
        u.log_bytes += LAMBDA_PLATFORM_LOG_BYTES + sum(len(line.encode("utf-8")) + 1 for line in output)
        if function in self.stream_functions:
            u.dynamodb_stream_reads_lambda += 1  # at least one GetRecords per invoke; free either way
        if function in self.queue_functions:
            u.sqs_fifo_requests += 2  # the mapping's ReceiveMessage and DeleteMessageBatch for this batch
        if function in self.sns_functions:
            u.sns_lambda_deliveries += 1
        for call in calls:
            self.calls_seen += 1
            self.call(function, call)

    def call(self, function: str, call: Any) -> None:
        u, params = self.usage, call.params
        if call.service == "dynamodb":
            indexed = self.shadow.index_write_units
            rru, wru = dynamodb_units(call.operation, params, self.shadow, failed=call.error is not None)
            index_wru = self.shadow.index_write_units - indexed
            u.dynamodb_read_units += rru
            u.dynamodb_write_units += wru
            u.dynamodb_read_units_by_function[function] = u.dynamodb_read_units_by_function.get(function, 0) + rru
            u.dynamodb_write_units_by_function[function] = u.dynamodb_write_units_by_function.get(function, 0) + wru
            kind = u.dynamodb_by_kind.setdefault(function, {}).setdefault(
                call_kind(call.operation, params), {"calls": 0, "wru": 0.0, "rru": 0.0}
            )
            kind["calls"] += 1
            kind["wru"] += wru - index_wru
            kind["rru"] += rru
            if index_wru:
                index = u.dynamodb_by_kind[function].setdefault("index", {"calls": 0, "wru": 0.0, "rru": 0.0})
                index["calls"] += 1
                index["wru"] += index_wru
        elif call.service == "sqs":
            if call.operation == "SendMessageBatch":
                size = sum(len(str(e.get("MessageBody", "")).encode("utf-8")) for e in params.get("Entries") or [])
            else:
                size = len(str(params.get("MessageBody", "")).encode("utf-8"))
            u.sqs_fifo_requests += max(1, math.ceil(size / SQS_CHUNK))
        elif call.service == "sns" and call.operation == "Publish":
            self.sns_published(str(params.get("TopicArn", "")), str(params.get("Message", "")))
        elif call.service == "kms":
            u.kms_requests += 1
        elif call.service == "s3":
            if call.operation in ("GetObject", "HeadObject"):
                u.s3_gets += 1
            else:
                u.s3_puts += 1
        elif call.service == "social-messaging" and call.operation == "GetWhatsAppMessageMedia":
            u.s3_puts += 1  # End User Messaging writes the media into the stack's bucket (billed to its owner)

    def finish(self, transcript: Mapping[str, Any]) -> Usage:
        self.usage.whatsapp_messages = int(transcript["stats"]["whatsapp_in"])
        self.usage.connect_messages = len(transcript["connect"])
        return self.usage


def stage_units(usage: Usage, *, messages: int, bursts: int) -> dict[str, dict[str, Any]]:
    """DynamoDB request units of each function (stage) of one replay: totals, per WhatsApp message, per burst, and
    by what the calls did (`call_kind`)."""
    stages: dict[str, dict[str, Any]] = {}
    for function in sorted(set(usage.dynamodb_write_units_by_function) | set(usage.dynamodb_read_units_by_function)):
        wru = usage.dynamodb_write_units_by_function.get(function, 0.0)
        rru = usage.dynamodb_read_units_by_function.get(function, 0.0)
        if not wru and not rru:
            continue
        stages[function] = {
            "wru": round(wru, 1),
            "rru": round(rru, 1),
            "wru_per_message": round(wru / messages, 2),
            "rru_per_message": round(rru / messages, 2),
            "ru_per_message": round((wru + rru) / messages, 2),
            "ru_per_burst": round((wru + rru) / bursts, 1),
            "by_kind": {
                kind: {"calls": int(k["calls"]), "wru": round(k["wru"], 1), "rru": round(k["rru"], 1)}
                for kind, k in sorted(usage.dynamodb_by_kind.get(function, {}).items())
            },
        }
    return stages
