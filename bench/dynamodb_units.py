"""DynamoDB's request units, computed as the Developer Guide bills them from exact item sizes: attribute names and
values sized by its rules, an update billed by the larger of the item before and after, transactions twice, strongly
consistent reads 1 per 4 KB, writes 1 per started KB, global secondary index writes by its rules. `Shadow` keeps every
item a replay wrote, so each later read or write is priced by the item's real size (`dynamodb_units`); `call_kind`
names what a call did. `bench.cost` turns the units into dollars (docs/benchmarks.md#cost-in-dollars).
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.update_expressions import Unmodelled, apply_update


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
        except (Unmodelled, KeyError, ValueError, TypeError, ArithmeticError):
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
        """Bytes under a Query's key condition: `hash = :v` and optionally one sort-key test (`=`, `<`, `<=`, `>`,
        `>=`, `BETWEEN`, `begins_with`), string sort keys compared by their UTF-8 bytes as DynamoDB orders them; a
        sort key of another type counts the whole partition (an upper bound)."""
        condition = str(params.get("KeyConditionExpression", ""))
        values = params.get("ExpressionAttributeValues") or {}
        match = re.search(r"([#\w]+)\s*=\s*(:\w+)", condition)
        if not match:
            return 0
        if params.get("IndexName"):
            return self._index_query_size(table, str(params["IndexName"]), values.get(match.group(2)))
        partition = self.items.get(table, {}).get(json.dumps(values.get(match.group(2)), sort_keys=True), {})
        wanted = _sort_key_test(condition[match.end() :], values)
        return sum(s.size for r, s in partition.items() if wanted is None or wanted(_range_text(r).encode()))

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


def _sort_key_test(condition: str, values: Mapping[str, Any]) -> Callable[[bytes], bool] | None:
    """The sort-key test after a Query's `hash = :v AND` as a test of a string sort key's UTF-8 bytes (botocore,
    Query ScanIndexForward: "For type String, the results are stored in order of UTF-8 bytes"); None for none or for
    a value that is not a string."""

    def text(name: str) -> bytes | None:
        value = values.get(name) or {}
        return str(value["S"]).encode() if "S" in value else None

    between = re.search(r"BETWEEN\s+(:\w+)\s+AND\s+(:\w+)", condition)
    if between:
        low, high = text(between.group(1)), text(between.group(2))
        return None if low is None or high is None else lambda key: low <= key <= high
    prefix = re.search(r"begins_with\(\s*[#\w]+\s*,\s*(:\w+)\s*\)", condition)
    if prefix:
        start = text(prefix.group(1))
        return None if start is None else lambda key: key.startswith(start)
    compare = re.search(r"[#\w]+\s*(<=|>=|<|>|=)\s*(:\w+)", condition)
    if compare is None:
        return None
    other = text(compare.group(2))
    tests: dict[str, Callable[[bytes, bytes], bool]] = {
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
        "=": operator.eq,
    }
    test = tests[compare.group(1)]
    return None if other is None else lambda key: test(key, other)


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
