"""The raw table's control and tick items: what the aggregator decides a conversation's flush on, and how the
conversations it leaves waiting come back to it. Kept apart from the message items because these are the aggregator's
own bookkeeping, and their layout is what the stream filters, the sparse `pending-since` index and the aggregator's
PutItem grant are built on. Ingest writes the control item in the same transaction as the message (`raw_messages`); the
flush settles it at the version it read; a final invoke that leaves conversations waiting writes one tick item (chunked
past `TICK_CHUNK_BYTES`) whose stream record carries them into the next window. Layout: docs/architecture.md#raw-table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from whatsapp_buffer.adapters.raw_common import (
    MSG_END,
    STORED_SINCE,
    UNSENT_FROM,
    RawTableClient,
    number,
    partition_key,
    read_number,
    sent_at_prefix,
)
from whatsapp_buffer.aggregator.debounce import ControlView
from whatsapp_buffer.aggregator.lifecycle import PENDING, Settlement
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.storage_keys import (
    CONTROL_SK,
    FIRST_PENDING,
    PENDING_INDEX,
    PK_PREFIX,
    RECORD_TYPE,
    TICK,
    TICK_LISTED,
    TICK_SK,
    WAITING,
)

TICK_CHUNK_BYTES = 300_000
"""A tick's list is cut in chunks of about this many bytes: an item is at most 400 KB (DynamoDB Developer Guide,
"Item size"), and a stream record carries the whole item to the aggregator, whose invoke payload is at most 6 MB."""
TICK_TTL_SECONDS = 3600
"""A tick is read within a window or two of being written; an hour is plenty, and a stale one is inert anyway."""


def control_key(conversation: Conversation) -> dict[str, Any]:
    return {"pk": {"S": partition_key(conversation)}, "sk": {"S": CONTROL_SK}}


def unsent_start(item: Mapping[str, Any]) -> str | None:
    """Where a read of the conversation's unsent message items may start, from its control item as stored: no unsent
    item sorts before the least of the settle's `UNSENT_FROM` and the `sent_at_prefix` of each time in `STORED_SINCE`
    (what came after it, whichever key layout). None when the item holds no `UNSENT_FROM` (no settle wrote one):
    read from the first message item."""
    settled = item.get(UNSENT_FROM, {}).get("S")
    if settled is None:
        return None
    return min([settled, *(sent_at_prefix(float(t)) for t in item.get(STORED_SINCE, {}).get("NS", []))])


def tick_sort_keys(chunks: int) -> list[str]:
    """`TICK` for a tick in one item, `TICK#1`..`TICK#n` for one in n chunks."""
    return [TICK_SK] if chunks == 1 else [f"{TICK_SK}#{i}" for i in range(1, chunks + 1)]


def tick_chunks(listed: Mapping[str, list[Any] | None], limit: int = TICK_CHUNK_BYTES) -> list[dict[str, Any]]:
    """`listed` cut in the fewest chunks in its order whose (over)estimated DynamoDB size stays under `limit`: an
    entry's JSON text is longer than DynamoDB's encoding of it (numbers are stored in about half their digits)."""
    chunks: list[dict[str, Any]] = [{}]
    size = 0
    for key, image in listed.items():
        entry = len(key.encode()) + len(json.dumps(image)) + 8
        if chunks[-1] and size + entry > limit:
            chunks.append({})
            size = 0
        chunks[-1][key] = image
        size += entry
    return chunks


_DESERIALIZER = TypeDeserializer()


class ControlItems(RawTableClient):
    """The control and tick items, as the aggregator and the sweeper read and write them."""

    def read_control(self, conversation: Conversation) -> ControlView:
        """The conversation's control item, read consistently (all zero/None when it does not exist)."""
        response = self._call(
            "read a control item",
            self.client.get_item,
            TableName=self.table_name,
            Key=control_key(conversation),
            ConsistentRead=True,
        )
        # Deserialized as a stream record's NewImage is, so both are read by the one ControlView.from_image.
        item = response.get("Item") or {}
        view = ControlView.from_image({name: _DESERIALIZER.deserialize(value) for name, value in item.items()})
        return replace(view, unsent_from=unsent_start(item))

    def last_arrival(self, conversation: Conversation) -> float | None:
        """When the conversation's latest stored message reached ingest (the control item's `last_arrival`), read
        consistently so a message a second ago is seen; None before its first message. Ingest reads it before
        storing because its transaction cannot return it: TransactWriteItems' `Update` takes no `ReturnValues`
        (botocore's DynamoDB model; only `ReturnValuesOnConditionCheckFailure`, for a refused condition)."""
        response = self._call(
            "read a conversation's last arrival",
            self.client.get_item,
            TableName=self.table_name,
            Key=control_key(conversation),
            ProjectionExpression="last_arrival",
            ConsistentRead=True,
        )
        return read_number(response.get("Item") or {}, "last_arrival")

    def touch(self, conversation: Conversation) -> None:
        """Change the control item without changing its meaning, so a new stream record brings the conversation
        into the next window."""
        # Refused when there is no control item: nothing was ever stored, so nothing can be pending. The attribute
        # `tick` is only the touch's counter (its name is stored on every deployed table); it is no tick item.
        self._conditional(
            "touch a control item",
            self.client.update_item,
            TableName=self.table_name,
            Key=control_key(conversation),
            UpdateExpression="ADD tick :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    def write_tick(self, anchor: Conversation, listed: Mapping[str, list[Any] | None], now: float) -> int:
        """Write the tick item(s) under `anchor`'s partition listing `listed` (conversation key -> its control
        image, `ControlView.as_view()`, or None: read it); how many items. Unconditional PutItems: a retried
        final invoke writes the same list again, and `written_at` makes every write a change, so each writes a stream
        record (DynamoDB writes none for a write that changes nothing)."""
        chunks = tick_chunks(listed)
        for sort_key, chunk in zip(tick_sort_keys(len(chunks)), chunks, strict=True):
            self._call(
                "write a tick",
                self.client.put_item,
                TableName=self.table_name,
                Item={
                    "pk": {"S": partition_key(anchor)},
                    "sk": {"S": sort_key},
                    RECORD_TYPE: {"S": TICK},
                    TICK_LISTED: {"M": {key: _tick_image(image) for key, image in chunk.items()}},
                    "written_at": {"N": number(now)},
                    "expires_at": {"N": str(int(now + TICK_TTL_SECONDS))},
                },
            )
        return len(chunks)

    def pending_since_before(self, cutoff: float) -> list[Conversation]:
        """Conversations whose oldest pending message was stored before `cutoff`, oldest first (the sparse index;
        eventually consistent, which a sweep that runs again a minute later tolerates)."""
        found: list[Conversation] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": f"#waiting = :pending AND {FIRST_PENDING} < :cutoff",
            "ExpressionAttributeNames": {"#waiting": WAITING},
            "ExpressionAttributeValues": {":pending": {"S": PENDING}, ":cutoff": {"N": number(cutoff)}},
        }
        while True:
            response = self._call("read the pending-since index", self.client.query, **kwargs)
            for item in response.get("Items", []):
                pk = item.get("pk", {}).get("S", "")
                if pk.startswith(PK_PREFIX):
                    found.append(Conversation.from_key(pk[len(PK_PREFIX) :]))
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def settle_control(self, conversation: Conversation, settlement: Settlement) -> bool:
        """Write the recomputed pending count if the control item is still at `settlement.expected_version`.
        False when a message arrived since (the caller re-reads and recomputes). At that version every message stored
        is one the flush read, so where the unsent ones start is the least key it left unsent and `STORED_SINCE`
        starts again empty; a settlement that does not name its keys leaves the next read to start at the first."""
        values: dict[str, Any] = {
            ":pending": {"N": str(settlement.pending)},
            ":version": {"N": str(settlement.expected_version)},
            ":one": {"N": "1"},
        }
        removed = [STORED_SINCE]
        if settlement.unsent_keys is None:
            start = ""
            removed.append(UNSENT_FROM)
        else:
            start = f", {UNSENT_FROM} = :from"
            values[":from"] = {"S": min(settlement.unsent_keys, default=MSG_END)}
        if settlement.first_pending is None:
            # Nothing pending: the conversation leaves the sparse index with its first_pending.
            removed += [FIRST_PENDING, WAITING]
            expression = f"SET pending = :pending{start} REMOVE {', '.join(removed)} ADD version :one"
        else:
            expression = (
                f"SET pending = :pending, {FIRST_PENDING} = :first, {WAITING} = :waiting{start} "
                f"REMOVE {', '.join(removed)} ADD version :one"
            )
            values[":first"] = {"N": number(settlement.first_pending)}
            values[":waiting"] = {"S": PENDING}
        return (
            self._conditional(
                "settle a control item",
                self.client.update_item,
                TableName=self.table_name,
                Key=control_key(conversation),
                UpdateExpression=expression,
                ConditionExpression="version = :version",
                ExpressionAttributeValues=values,
            )
            is not None
        )


def _tick_image(image: list[Any] | None) -> dict[str, Any]:
    if image is None:
        return {"NULL": True}
    return {"L": [_tick_value(value) for value in image]}


def _tick_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, str):
        return {"S": value}
    return {"N": number(value) if isinstance(value, float) else str(value)}
