"""Make moto's DynamoDB transactions cheap enough to replay a 1,000-message trace in seconds.

moto backs up every table a transaction touches with `copy.deepcopy(table)` (items *and* stream records), so each
TransactWriteItems costs time proportional to everything written so far: a replay slows down quadratically. This
shim checks the transaction's conditions first, without writing; a transaction that would be cancelled is cancelled
before anything changes (so no backup is needed), and one that passes runs moto's own code with the table backup
skipped. Behaviour seen by clients is moto's: same writes, same stream records, same TransactionCanceledException
with per-item reasons. Only the sandbox (which runs moto in-process) installs it.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_installed = False
_skip_backup = threading.local()


class _CopyShim:
    """Stands in for the `copy` module inside moto.dynamodb.models while a checked transaction runs."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(obj, Table) and getattr(_skip_backup, "active", False):
            return obj
        return copy.deepcopy(obj, memo)


def _cancellation_reasons(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]] | None:
    """Evaluate every condition against the current items; None when all pass."""
    from moto.dynamodb.comparisons import get_filter_expression

    reasons: list[tuple[Any, Any, Any]] = []
    failed = False
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.get_table(op["TableName"])
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        condition = op.get("ConditionExpression")
        if condition is None:
            reasons.append((None, None, None))
            continue
        current = backend.get_item(op["TableName"], key)
        check = get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
        if check.expr(current):
            reasons.append((None, None, None))
        else:
            failed = True
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
    return reasons if failed else None


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent)."""
    global _installed
    if _installed:
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.exceptions import TransactionCanceledException

    original = models.DynamoDBBackend.transact_write_items
    models.copy = _CopyShim()  # type: ignore[assignment]

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            return original(self, transact_items)
        try:
            reasons = _cancellation_reasons(self, transact_items)
        except Exception:  # noqa: BLE001 - anything unusual: let moto's own code raise its own error
            return original(self, transact_items)
        if reasons is not None:
            raise TransactionCanceledException(reasons)
        _skip_backup.active = True
        try:
            return original(self, transact_items)
        finally:
            _skip_backup.active = False

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _installed = True
