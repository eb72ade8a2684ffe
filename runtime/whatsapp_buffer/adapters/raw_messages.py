"""The raw table's message items: the customer's messages as ingest stores them, and each step of their way through the
aggregator. Kept apart from the control items (`raw_control`) because these hold the customer's words and move through
`aggregator.lifecycle`'s states one conditional write at a time, while the control item only counts them.

Message item `MSG#<sent_at>#<received_at>#<webhook index>#<message_id>` (fixed width, `InboundMessage.order_key`'s
order; pending -> claimed -> sent, or set aside when its body cannot be read back) and seen marker `SEEN#<message id>`
(the first Put of ingest's transaction: the message id alone decides what is a redelivery). This module only persists
the transitions, each a conditional write (claim only what is pending, mark sent only what the burst claimed). Layout:
docs/architecture.md#raw-table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from whatsapp_buffer.adapters.aws_errors import STORED_LOOKUP, refused_positions, write_transaction
from whatsapp_buffer.adapters.raw_common import (
    MSG_END,
    MSG_PREFIX,
    STORED_SINCE,
    STORED_SINCE_LIMIT,
    UNSENT_FROM,
    RawTableClient,
    expires_at,
    number,
    partition_key,
    read_int,
    read_number,
    sent_at_prefix,
)
from whatsapp_buffer.adapters.raw_control import control_key
from whatsapp_buffer.aggregator.lifecycle import CLAIMED, PENDING, SENT, BufferedMessage
from whatsapp_buffer.errors import ConcurrentUpdate, MalformedEvent, UnreadableMessages
from whatsapp_buffer.model import Conversation, InboundMessage
from whatsapp_buffer.storage_keys import CONTROL, FIRST_PENDING, MESSAGE, RECORD_TYPE, WAITING

SEEN_PREFIX = "SEEN#"
"""Marker items that remember every message id stored (until TTL), whatever its timestamp."""
SEEN_HOURS = 14 * 24 + 6
"""How long a seen marker is kept, whatever `retentionHours`: the longest way a stored message can come back. Lambda
keeps a failed ingest event up to 6 hours in its asynchronous queue ("It retains events in a queue for up to six
hours", AWS::Lambda::EventInvokeConfig), then the ingest dead-letter queue 14 days for an operator's replay. A marker
holds the conversation key and the message id, none of the customer's words."""
SET_ASIDE = "set_aside"
"""A message item that could not be read back after `flush.MAX_READ_FAILURES` flushes, or whose burst the bursts queue
refused `flush.MAX_SEND_REFUSALS` times, out of the buffer for good (with `set_aside_reason`); kept until its TTL for
an operator to look at."""


def message_sort_key(message: InboundMessage) -> str:
    """The message item's sort key: its `order_key` written so that text order is that order. Items written as
    `MSG#<sent_at>#<message_id>` may still be in the table (stored before this layout, until their TTL): every reader
    selects by the `MSG#` prefix and the `message_id` attribute, and `unsent_messages` orders by the bodies."""
    return (
        f"{sent_at_prefix(message.sent_at)}#{message.received_at:020.6f}#{message.webhook_index:06d}"
        f"#{message.message_id}"
    )


def message_item(message: InboundMessage, now: float, retention_hours: float) -> dict[str, Any]:
    """The message item as ingest stores it: pending, its body as JSON, expiring `retention_hours` after `now`."""
    return {
        "pk": {"S": partition_key(message.conversation)},
        "sk": {"S": message_sort_key(message)},
        RECORD_TYPE: {"S": MESSAGE},
        "status": {"S": PENDING},
        "message_id": {"S": message.message_id},
        "kind": {"S": message.kind},
        "sent_at": {"N": number(message.sent_at)},
        "received_at": {"N": number(message.received_at)},
        "body": {"S": json.dumps(message.to_dict(), ensure_ascii=False, separators=(",", ":"))},
        "expires_at": expires_at(now, retention_hours),
    }


class MessageItems(RawTableClient):
    """The message items: stored by ingest, read, claimed and marked by the flush, quoted by a reply."""

    def store_message(
        self, message: InboundMessage, now: float, retention_hours: float, cue: str | None = None
    ) -> bool:
        """Store a message and count it pending on its conversation, atomically. False when it is a redelivery.
        The control item keeps the arrival before this one, `cue`, the message's end-of-turn label (none: removed), and
        adds the message's WhatsApp time to `STORED_SINCE` (a set: ADD needs no read of what is there), so a late
        message's older time still bounds the flush's read (`raw_control.unsent_start`); a set already at
        `STORED_SINCE_LIMIT` is removed with `UNSENT_FROM` instead, so the next flush reads every unsent message."""
        item = message_item(message, now, retention_hours)
        # The message id alone decides what is a redelivery: a marker item keyed by it comes first in the
        # transaction. A copy's message item never meets the first copy's (its arrival is part of the key), so the
        # marker outlives every way a copy can come back (SEEN_HOURS).
        seen = {
            "pk": item["pk"],
            "sk": {"S": f"{SEEN_PREFIX}{message.message_id}"},
            RECORD_TYPE: {"S": "seen"},
            "expires_at": expires_at(now, SEEN_HOURS),
        }
        new = "attribute_not_exists(pk)"
        # Every action reads the item as it was before the update ("DynamoDB evaluates every action against the item's
        # attribute values as they were before the update": Developer Guide, update expressions), so
        # previous_arrival gets the last arrival before this one.
        counted: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": control_key(message.conversation),
            "UpdateExpression": (
                "SET last_arrival = :now, previous_arrival = if_not_exists(last_arrival, :now), "
                f"{FIRST_PENDING} = if_not_exists({FIRST_PENDING}, :now), "
                f"{WAITING} = :pending, record_type = :control, expires_at = :expires"
                + ("" if cue is None else ", cue = :cue")
            ),
            "ExpressionAttributeValues": {
                ":now": {"N": number(now)},
                ":pending": {"S": PENDING},
                ":control": {"S": CONTROL},
                ":one": {"N": "1"},
                ":expires": item["expires_at"],
                **({} if cue is None else {":cue": {"S": cue}}),
            },
        }
        removed = ["cue"] if cue is None else []
        puts = [
            {"Put": {"TableName": self.table_name, "Item": seen, "ConditionExpression": new}},
            {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": new}},
        ]
        adding = {
            **counted,
            "UpdateExpression": counted["UpdateExpression"]
            + _removing(removed)
            + f" ADD pending :one, version :one, {STORED_SINCE} :sent",
            "ConditionExpression": f"attribute_not_exists({STORED_SINCE}) OR size({STORED_SINCE}) < :limit",
            "ExpressionAttributeValues": {
                **counted["ExpressionAttributeValues"],
                ":sent": {"NS": [number(message.sent_at)]},
                ":limit": {"N": str(STORED_SINCE_LIMIT)},
            },
        }
        refused = refused_positions(self.client, "store a message", [*puts, {"Update": adding}])
        if refused != {2}:
            return not refused
        # The set is full (no settle for that many WhatsApp seconds: the aggregator is down or failing). Forgetting
        # where the unsent messages start keeps the item small and loses none: the next settle writes it again.
        forgetting = {
            **counted,
            "UpdateExpression": counted["UpdateExpression"]
            + _removing([*removed, UNSENT_FROM, STORED_SINCE])
            + " ADD pending :one, version :one",
        }
        return write_transaction(self.client, "store a message", [*puts, {"Update": forgetting}], first_only=False)

    def stored_message(self, conversation: Conversation, message_id: str, now: float) -> InboundMessage | None:
        """Message `message_id` of this conversation as stored, unless it expired (TTL deletes lazily, so expiry is
        checked here). The sort key holds the timestamp, not the id alone: the conversation's items are read."""
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :msg)",
            "FilterExpression": "message_id = :id AND expires_at > :now",
            "ProjectionExpression": "body",
            "ExpressionAttributeValues": {
                ":pk": {"S": partition_key(conversation)},
                ":msg": {"S": MSG_PREFIX},
                ":id": {"S": message_id},
                ":now": {"N": str(int(now))},
            },
        }
        while True:
            response = self._call(STORED_LOOKUP, self.client.query, **kwargs)
            for item in response.get("Items", []):
                return InboundMessage.from_dict(json.loads(item["body"]["S"]))
            if "LastEvaluatedKey" not in response:
                return None
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def unsent_messages(self, conversation: Conversation, start: str | None = None) -> list[BufferedMessage]:
        """Messages pending or claimed, in `InboundMessage.order_key` order (consistent read). Sorted after the read:
        an item of the older layout sorts apart from the newer ones within a second, its body orders it all the same.
        `start`: the control item's `unsent_from` (none sorts before it); the items from there on are read, sent ones
        included (a filter does not lower what a read costs), so the history kept for quotes before it is not."""
        result: list[BufferedMessage] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :end",
            "FilterExpression": "#status IN (:pending, :claimed)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":pk": {"S": partition_key(conversation)},
                ":from": {"S": MSG_PREFIX if start is None else start},
                ":end": {"S": MSG_END},
                ":pending": {"S": PENDING},
                ":claimed": {"S": CLAIMED},
            },
            "ConsistentRead": True,
        }
        unreadable: list[tuple[str, str]] = []
        while True:
            response = self._call("read pending messages", self.client.query, **kwargs)
            for item in response.get("Items", []):
                try:
                    message = InboundMessage.from_dict(json.loads(item["body"]["S"]))
                except (AttributeError, KeyError, TypeError, ValueError, MalformedEvent) as exc:
                    unreadable.append((item["sk"]["S"], _unreadable_reason(exc)))
                    continue
                result.append(
                    BufferedMessage(
                        message=message,
                        store_key=item["sk"]["S"],
                        status=item["status"]["S"],
                        burst_id=item.get("burst_id", {}).get("S"),
                        burst_index=read_int(item, "burst_index"),
                        burst_size=read_int(item, "burst_size"),
                        claimed_at=read_number(item, "claimed_at"),
                    )
                )
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        if unreadable:
            raise UnreadableMessages(unreadable)
        return sorted(result, key=lambda buffered: buffered.message.order_key)

    def count_failed_read(self, conversation: Conversation, store_key: str, reason: str) -> int:
        """One more failed read of an unsent message item (and why); how many so far."""
        response = self._update_unsent(
            conversation,
            store_key,
            "count a failed read",
            "ADD read_failures :one SET read_error = :reason",
            {":one": {"N": "1"}, ":reason": {"S": reason}},
            ReturnValues="UPDATED_NEW",
        )
        return int(read_number(response.get("Attributes") or {}, "read_failures") or 0)

    def count_refused_send(self, conversation: Conversation, store_key: str, reason: str) -> int:
        """One more refusal, by the bursts queue, of the burst an unsent message item opens (and why); how many so far."""
        response = self._update_unsent(
            conversation,
            store_key,
            "count a refused send",
            "ADD send_refusals :one SET send_error = :reason",
            {":one": {"N": "1"}, ":reason": {"S": reason}},
            ReturnValues="UPDATED_NEW",
        )
        return int(read_number(response.get("Attributes") or {}, "send_refusals") or 0)

    def set_aside(self, conversation: Conversation, store_key: str, reason: str) -> None:
        """unsent -> set aside: the item leaves the buffer with its reason and stays in the table until its TTL."""
        self._update_unsent(
            conversation,
            store_key,
            "set a message aside",
            "SET #status = :aside, set_aside_reason = :reason",
            {":aside": {"S": SET_ASIDE}, ":reason": {"S": reason}},
        )

    def claim(
        self,
        conversation: Conversation,
        messages: Iterable[BufferedMessage],
        burst_id: str,
        claimed_at: float | None = None,
    ) -> None:
        """pending -> claimed under `burst_id`, one conditional UpdateItem per message in burst order, each recording
        its place (`burst_index` of `burst_size`; see `lifecycle` for why). Raises ConcurrentUpdate at the first one
        that is no longer pending (those before it stay claimed: the next flush resends that prefix under the id);
        a message already claimed under this burst id (a retried request that had succeeded) is not a conflict."""
        ordered = list(messages)
        when = "" if claimed_at is None else ", claimed_at = :at"
        for index, stored in enumerate(ordered):
            self._transition(
                conversation,
                stored,
                "claim messages",
                f"SET #status = :to, burst_id = :burst, burst_index = :index, burst_size = :size{when}",
                "#status = :from OR (#status = :to AND burst_id = :burst)",
                {
                    ":to": {"S": CLAIMED},
                    ":from": {"S": PENDING},
                    ":burst": {"S": burst_id},
                    ":index": {"N": str(index)},
                    ":size": {"N": str(len(ordered))},
                    **({} if claimed_at is None else {":at": {"N": number(claimed_at)}}),
                },
            )

    def mark_sent(self, conversation: Conversation, messages: Iterable[BufferedMessage], burst_id: str) -> None:
        """claimed -> sent, only for items claimed under `burst_id`, one conditional UpdateItem per message in burst
        order (repeating it is harmless). Raises ConcurrentUpdate at the first item claimed under another id."""
        for stored in messages:
            self._transition(
                conversation,
                stored,
                "mark messages sent",
                "SET #status = :to",
                "burst_id = :burst",
                {":to": {"S": SENT}, ":burst": {"S": burst_id}},
            )

    def _update_unsent(
        self,
        conversation: Conversation,
        store_key: str,
        action: str,
        expression: str,
        values: dict[str, Any],
        **extra: Any,
    ) -> dict[str, Any]:
        """An update of a message item that is still pending or claimed ({} when it no longer is)."""
        response = self._conditional(
            action,
            self.client.update_item,
            TableName=self.table_name,
            Key={"pk": {"S": partition_key(conversation)}, "sk": {"S": store_key}},
            UpdateExpression=expression,
            ConditionExpression="#status IN (:pending, :claimed)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={**values, ":pending": {"S": PENDING}, ":claimed": {"S": CLAIMED}},
            **extra,
        )
        return {} if response is None else response

    def _transition(
        self,
        conversation: Conversation,
        stored: BufferedMessage,
        action: str,
        expression: str,
        condition: str,
        values: dict[str, Any],
    ) -> None:
        """One message item's conditional UpdateItem. Plain writes, not a transaction: a transaction is billed two
        underlying writes per item (prepare and commit; DynamoDB Developer Guide, "Capacity management for
        transactions"), an UpdateItem one; the burst's all-or-nothing is recovered from the places the claim
        records (see `lifecycle`)."""
        updated = self._conditional(
            action,
            self.client.update_item,
            TableName=self.table_name,
            Key={"pk": {"S": partition_key(conversation)}, "sk": {"S": stored.store_key}},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
        if updated is None:
            raise ConcurrentUpdate(f"could not {action}: an item changed meanwhile")


def _unreadable_reason(exc: Exception) -> str:
    """Why a body cannot be read, without any of the body (it is the customer's words)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"body is not JSON ({exc.msg} at character {exc.pos})"
    if isinstance(exc, KeyError):
        return (
            f"body lacks the field {exc.args[0]!r}"
            if exc.args and isinstance(exc.args[0], str)
            else "body lacks a field"
        )
    return f"body is not a stored message ({type(exc).__name__})"


def _removing(names: list[str]) -> str:
    return f" REMOVE {', '.join(names)}" if names else ""
