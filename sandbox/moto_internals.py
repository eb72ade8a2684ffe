"""Every use the sandbox makes of moto beyond its public API, in one place, for the one moto version it was written for.

* `keep_alive_app_server`: moto's WSGI app (`moto.moto_server.werkzeug_app`) with HTTP keep-alive, and its host and
  action lookups answered from memory (`_Dispatcher`);
* `StreamShardReader` and `queue_depth`: a table's stream records and a queue's visible messages read from moto's
  backends in this process (`dynamodb_backends`, `Table.stream_shard`; `sqs_backends`);
* `speed_up_transactions`: TransactWriteItems without moto's per-transaction deepcopy of every table it touches, and
  `Table.all_items` (every Query and Scan) sorted on the keys' Python values instead of pairwise `DynamoType` compares.
* `check_key_sizes_on_reads`: GetItem refuses a key over DynamoDB's size limits (moto's `Table._validate_key_sizes`).

State is reset with moto's documented `POST /moto-api/reset`; any moto but `WRITTEN_FOR` fails the import.
"""

from __future__ import annotations

import copy
import functools
import socket
import threading
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

WRITTEN_FOR = "5.2.5"


class MotoVersionError(RuntimeError):
    """The installed moto is not the version this module's uses of moto internals were written and checked for."""


def require_written_version(installed: str | None = None) -> None:
    installed = installed or metadata.version("moto")
    if installed != WRITTEN_FOR:
        raise MotoVersionError(
            f"sandbox.moto_internals was written for moto {WRITTEN_FOR} (pinned in requirements.txt) but moto "
            f"{installed} is installed: install moto=={WRITTEN_FOR}, or check the internals listed in "
            "sandbox/moto_internals.py against the new version and update WRITTEN_FOR with the pin"
        )


require_written_version()

from moto.moto_server.werkzeug_app import (  # noqa: E402 - only once the version is known to be the one checked
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


# ---------------------------------------------------------------------- the server
class _KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves a host: moto's own lists its package folder on disk for
    every request (`get_backend_for_host` calls `moto.backends.list_of_moto_modules`), the same answer each time."""

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


def _remember_action_names() -> None:
    """`BaseResponse.call_action` lists its class's methods with `inspect.getmembers` on every request
    (`moto.core.utils.method_names_from_class`); a class's methods stay what they are, so each class is listed once.
    Likewise each action or attribute name is turned into snake case once (`camelcase_to_underscores`)."""
    from moto.core import responses

    # These names are moto.core.utils' functions as moto.core.responses and moto.sqs.models imported them (not
    # re-exported, hence the attr-defined ignores): replacing them in those modules is what reaches their calls.
    if not hasattr(responses.method_names_from_class, "cache_info"):  # type: ignore[attr-defined]
        responses.method_names_from_class = functools.cache(responses.method_names_from_class)  # type: ignore[attr-defined]
    # A pure function of a string, called for each request's action and for every attribute SQS lists of a queue.
    from moto.core import utils
    from moto.sqs import models as sqs_models

    if not hasattr(responses.camelcase_to_underscores, "cache_info"):  # type: ignore[attr-defined]
        responses.camelcase_to_underscores = functools.cache(utils.camelcase_to_underscores)  # type: ignore[attr-defined]
        sqs_models.camelcase_to_underscores = responses.camelcase_to_underscores  # type: ignore[attr-defined]


def keep_alive_app_server(host: str = "127.0.0.1", port: int = 0) -> Any:
    """A werkzeug server (not yet serving) of moto's application, HTTP/1.1 keep-alive with TCP_NODELAY."""
    from werkzeug.serving import make_server

    _remember_action_names()
    return make_server(host, port, _Dispatcher(), threaded=True, request_handler=_KeepAliveHandler)


# ---------------------------------------------------------------------- DynamoDB streams
class StreamShardReader:
    """New records of one table's stream, from the moto backend in this process, starting at LATEST."""

    def __init__(self, account_id: str, region: str, table: str) -> None:
        self._account_id, self._region, self._table = account_id, region, table
        shard = self._shard()
        self._next = shard.starting_sequence_number + len(shard.items)

    def _shard(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self._account_id][self._region].get_table(self._table).stream_shard

    def read(self) -> list[dict[str, Any]]:
        """The records written since the last read, as DynamoDB Streams' GetRecords shows them."""
        shard = self._shard()
        items = shard.items[self._next - shard.starting_sequence_number :]
        self._next += len(items)
        return [copy.deepcopy(item.to_json()) for item in items]


def queue_depth(account_id: str, region: str, name: str) -> int:
    """GetQueueAttributes' ApproximateNumberOfMessages without a request: moto answers it from the same property."""
    from moto.sqs.models import sqs_backends

    return int(sqs_backends[account_id][region].get_queue(name).approximate_number_of_messages)


# ---------------------------------------------------------------------- DynamoDB transactions
_speedup_installed = False
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


def speed_up_transactions() -> None:
    """Make moto's DynamoDB transactions cheap enough to replay a 1,000-message trace in seconds (idempotent).

    moto backs up every table a transaction touches with `copy.deepcopy(table)` (items *and* stream records), so each
    TransactWriteItems costs time proportional to everything written so far: a replay slows down quadratically. This
    checks the transaction's conditions first, without writing; a transaction that would be cancelled is cancelled
    before anything changes (so no backup is needed), and one that passes runs moto's own code with the table backup
    skipped. Clients see moto's behaviour: same writes, same stream records, same TransactionCanceledException with
    per-item reasons. Only the sandbox, which runs moto in-process, installs it.
    """
    global _speedup_installed
    if _speedup_installed:
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.exceptions import TransactionCanceledException
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    # moto.dynamodb.models' own `import copy` (not exported): the module's deepcopy calls go through the shim.
    models.copy = _CopyShim()  # type: ignore[attr-defined, assignment]

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
    Table.all_items = _all_items  # type: ignore[method-assign, assignment]  # replacing moto's method is the point
    _speedup_installed = True


def check_key_sizes_on_reads() -> None:
    """Make moto's GetItem refuse a key over DynamoDB's size limits, as DynamoDB does (moto checks writes only).

    DynamoDB Developer Guide, "Constraints in Amazon DynamoDB": a partition key value's "maximum length is 2048 bytes",
    a sort key value's "1024 bytes". DynamoDB answers a GetItem over them with the ValidationException moto raises for
    such a write ("Aggregated size of all range keys has exceeded the size limit of 1024 bytes"; captured against
    DynamoDB in ExtendDB/extenddb pull request 194). botocore's model is silent (GetItem declares no
    ValidationException). Idempotent.
    """
    import moto.dynamodb.models as models

    original = models.DynamoDBBackend.get_item
    if getattr(original, "checks_key_sizes", False):
        return

    def get_item(self: Any, table_name: str, keys: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        self.get_table(table_name)._validate_key_sizes(keys)
        return original(self, table_name, keys, *args, **kwargs)

    get_item.checks_key_sizes = True  # type: ignore[attr-defined]
    models.DynamoDBBackend.get_item = get_item  # type: ignore[method-assign]


def _all_items(table: Table) -> list[Item]:
    """moto's `Table.all_items` in the same order, with each key's `cast_value` computed once per item.

    moto sorts on `(hash_key, range_key)` tuples of `DynamoType`, whose `==` and `<` compute `cast_value` (a `Decimal`
    for numbers) on every comparison: each Query and Scan costs O(N log N) of those. A key attribute's type is fixed by
    the table's schema (moto rejects an item of another type), so `DynamoType` equality is `cast_value` equality and
    `<` is `cast_value`'s `<`: sorting on the cast values, stably, orders the items exactly as moto does."""
    items: list[Item] = []
    for hash_set in table.items.values():
        if table.range_key_attr:
            items.extend(hash_set.values())
        else:
            # moto declares Table.items as dicts of dicts; a table without a range key maps each hash key to its Item.
            items.append(hash_set)  # type: ignore[arg-type]
    return sorted(
        items,
        key=lambda x: (x.hash_key.cast_value, x.range_key.cast_value) if x.range_key else x.hash_key.cast_value,
    )
