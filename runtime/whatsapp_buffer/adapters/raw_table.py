"""DynamoDB adapter for the raw table: the only module that knows its layout (docs/architecture.md).

pk = `CONV#<phone_number_id>#<wa_id>`.
Message item: sk = `MSG#<sent_at, fixed width>#<message_id>` so the sort key orders by (sent_at, message_id);
`status` pending -> claimed (+ `burst_id`) -> sent, or set_aside (+ `set_aside_reason`) when its body cannot be
read back; `read_failures`/`read_error` count the flushes that could not read it; `body` = the message as JSON;
numeric TTL `expires_at`.
Control item: sk = `CONTROL`; `last_arrival`, `first_pending`, `pending`, `version`, `tick`, and `waiting` =
`pending` while messages are pending (removed with `first_pending` when none are).
Tick item: pk = `CONV#<anchor conversation key>`, sk = `TICK` (chunks `TICK#1`, `TICK#2`... when the list would pass
TICK_CHUNK_BYTES), `record_type` tick, `listed` = {conversation key: [pending, last_arrival, first_pending, version]
or NULL}, `written_at`, TTL `expires_at` (an hour). Each final invoke that leaves conversations waiting writes one
(PutItem, unconditional): its stream record carries every listed conversation into the next window, in place of one
touch per conversation. Nothing rewrites a stale tick, so it writes no record and is inert until TTL removes it.
Index `pending-since` (sparse, keys only): `waiting` / `first_pending`. Only control items with pending messages carry
both attributes, so the index holds exactly the conversations with something to send, oldest first, and the sweeper
finds stranded ones without scanning the table.
Said item: sk = `SAID#<WhatsApp message id>`: a short clip of what the agent said (the outbound relay's), so a
customer's reply to it can quote it; same TTL. Not a control item, so the stream filter keeps it from the aggregator.
Every kind the relay sends has one (`sent_kind` text, interactive, template, image/audio/video/document; `clip` the
text, the question, the template's name or the file's name), so a `failed` status names what did not arrive.
Refusal item: sk = `REFUSED#<WhatsApp message id>`, `record_type` refusal: a failed status of a message the bridge
sent (`sent_kind`, `clip`, `error_code`, `error_title`, `error_details`), written once (conditional put); the inbound
function's stream filter passes its INSERT, and it tells the agent.

The states and their transitions are `buffer.lifecycle`'s; this module only persists them, each transition a
conditional write (claim only what is pending, mark sent only what the burst claimed, settle only at the version read).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import boto3
import botocore.config
from botocore.exceptions import BotoCoreError, ClientError

from whatsapp_buffer.adapters.aws_errors import DYNAMODB, cancelled_by_condition
from whatsapp_buffer.buffer.debounce import ControlView
from whatsapp_buffer.buffer.lifecycle import CLAIMED, PENDING, SENT, BufferedMessage, Settlement
from whatsapp_buffer.errors import ConcurrentUpdate, MalformedEvent, UnreadableMessages
from whatsapp_buffer.model import Conversation, InboundMessage

PK_PREFIX = "CONV#"
MSG_PREFIX = "MSG#"
SEEN_PREFIX = "SEEN#"
"""Marker items that remember every message id stored (until TTL), whatever its timestamp."""
SAID_PREFIX = "SAID#"
REFUSED_PREFIX = "REFUSED#"
REFUSAL = "refusal"
"""`record_type` of a refusal item (what the inbound function's stream filter passes)."""
CONTROL_SK = "CONTROL"
TICK_SK = "TICK"
TICK = "tick"
"""`record_type` of a tick item (what the aggregator's stream filter passes, with control items)."""
TICK_LISTED = "listed"
"""The tick's map of conversations. Not `waiting`: that is the pending-since index's hash key, and a tick is no
conversation with pending messages."""
TICK_CHUNK_BYTES = 300_000
"""A tick's list is cut in chunks of about this many bytes: an item is at most 400 KB (DynamoDB Developer Guide,
"Item size"), and a stream record carries the whole item to the aggregator, whose invoke payload is at most 6 MB."""
TICK_TTL_SECONDS = 3600
"""A tick is read within a window or two of being written; an hour is plenty, and a stale one is inert anyway."""
PENDING_INDEX = "pending-since"
"""The sparse index of conversations with pending messages: hash `waiting`, range `first_pending` (a number)."""
WAITING = "waiting"
"""The index's hash key attribute; one value, `pending`, on every control item with pending messages."""
CONTROL = "control"
MESSAGE = "message"
SET_ASIDE = "set_aside"
"""A message item that could not be read back after `flush.MAX_READ_FAILURES` flushes, out of the buffer for good
(with `set_aside_reason`); kept until its TTL for an operator to look at."""


def partition_key(conversation: Conversation) -> str:
    return f"{PK_PREFIX}{conversation.key}"


def message_sort_key(message: InboundMessage) -> str:
    return f"{MSG_PREFIX}{message.sent_at:020.6f}#{message.message_id}"


def message_item(message: InboundMessage, now: float, retention_hours: float) -> dict[str, Any]:
    """The message item as ingest stores it: pending, its body as JSON, expiring `retention_hours` after `now`."""
    return {
        "pk": {"S": partition_key(message.conversation)},
        "sk": {"S": message_sort_key(message)},
        "record_type": {"S": MESSAGE},
        "status": {"S": PENDING},
        "message_id": {"S": message.message_id},
        "kind": {"S": message.kind},
        "sent_at": {"N": _number(message.sent_at)},
        "received_at": {"N": _number(message.received_at)},
        "body": {"S": json.dumps(message.to_dict(), ensure_ascii=False, separators=(",", ":"))},
        "expires_at": {"N": str(int(now + retention_hours * 3600))},
    }


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


def tick_from_stream(keys: Mapping[str, Any], image: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """(anchor conversation key, {conversation key: image or None}) of a tick record's (deserialized) Keys and
    NewImage; None for records of other items or a tick record without its image (a REMOVE)."""
    pk, sk = keys.get("pk"), keys.get("sk")
    if not isinstance(pk, str) or not pk.startswith(PK_PREFIX) or not isinstance(sk, str):
        raise MalformedEvent("stream record keys are not the raw table's (pk/sk)")
    if sk != TICK_SK and not sk.startswith(f"{TICK_SK}#"):
        return None
    if not image or image.get("record_type") != TICK or not isinstance(image.get(TICK_LISTED), Mapping):
        return None
    return pk[len(PK_PREFIX) :], dict(image[TICK_LISTED])


def conversation_from_stream_keys(keys: Mapping[str, Any]) -> Conversation | None:
    """The conversation of a stream record's (deserialized) Keys when it is a control item, else None.
    Raises MalformedEvent when the keys are not this table's."""
    pk, sk = keys.get("pk"), keys.get("sk")
    if not isinstance(pk, str) or not pk.startswith(PK_PREFIX) or not isinstance(sk, str):
        raise MalformedEvent("stream record keys are not the raw table's (pk/sk)")
    if sk != CONTROL_SK:
        return None
    return Conversation.from_key(pk[len(PK_PREFIX) :])


class RawStore:
    """The raw table. Built once per cold start; tests hand in a client of a moto-backed table."""

    def __init__(self, table_name: str, client: Any | None = None, *, max_connections: int = 10) -> None:
        """`max_connections`: the client's HTTP pool, at least the number of threads that call at once."""
        self.table_name = table_name
        self.client = (
            client
            if client is not None
            else boto3.client("dynamodb", config=botocore.config.Config(max_pool_connections=max_connections))
        )

    # ingest

    def store_message(self, message: InboundMessage, now: float, retention_hours: float) -> bool:
        """Store a message and count it pending on its conversation, atomically. False when it is a redelivery."""
        pk = partition_key(message.conversation)
        item = message_item(message, now, retention_hours)
        # The message id alone decides what is a redelivery: a marker item keyed by it comes first in the
        # transaction, so a copy whose WhatsApp timestamp differs (another sort key) is still refused.
        seen = {
            "pk": {"S": pk},
            "sk": {"S": f"{SEEN_PREFIX}{message.message_id}"},
            "record_type": {"S": "seen"},
            "expires_at": item["expires_at"],
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": seen,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": {"pk": {"S": pk}, "sk": {"S": CONTROL_SK}},
                            "UpdateExpression": (
                                "SET last_arrival = :now, first_pending = if_not_exists(first_pending, :now), "
                                f"{WAITING} = :pending, record_type = :control, expires_at = :expires "
                                "ADD pending :one, version :one"
                            ),
                            "ExpressionAttributeValues": {
                                ":now": {"N": _number(now)},
                                ":pending": {"S": PENDING},
                                ":control": {"S": CONTROL},
                                ":one": {"N": "1"},
                                ":expires": item["expires_at"],
                            },
                        }
                    },
                ]
            )
        except ClientError as exc:
            if cancelled_by_condition(exc, first_only=True):
                return False
            raise DYNAMODB.translate(exc, "store a message") from exc
        except BotoCoreError as exc:
            raise DYNAMODB.translate(exc, "store a message") from exc
        return True

    # quotes of replies

    def remember_said(
        self,
        conversation: Conversation,
        message_id: str,
        clip: str,
        now: float,
        retention_hours: float,
        kind: str = "text",
    ) -> None:
        """Keep `clip` of what the bridge sent as WhatsApp message `message_id` (of `kind`), as long as raw messages
        are kept."""
        self._call(
            "remember a relayed message",
            self.client.put_item,
            TableName=self.table_name,
            Item={
                "pk": {"S": partition_key(conversation)},
                "sk": {"S": f"{SAID_PREFIX}{message_id}"},
                "record_type": {"S": "said"},
                "clip": {"S": clip},
                "sent_kind": {"S": kind},
                "expires_at": {"N": str(int(now + retention_hours * 3600))},
            },
        )

    def sent(self, conversation: Conversation, message_id: str, now: float) -> tuple[str, str] | None:
        """(kind, clip) of WhatsApp message `message_id` the bridge sent to this conversation, unless expired; None
        for a message the bridge did not send (or no longer remembers)."""
        response = self._call(
            "read a relayed message",
            self.client.get_item,
            TableName=self.table_name,
            Key={"pk": {"S": partition_key(conversation)}, "sk": {"S": f"{SAID_PREFIX}{message_id}"}},
        )
        item = response.get("Item") or {}
        if "clip" not in item or (_num(item, "expires_at") or 0) <= now:
            return None
        return item.get("sent_kind", {}).get("S", "text"), item["clip"]["S"]

    def record_refusal(
        self,
        conversation: Conversation,
        message_id: str,
        refusal: Mapping[str, str],
        now: float,
        retention_hours: float,
    ) -> bool:
        """Write the refusal item of WhatsApp message `message_id` once; False when it was already written (a status
        delivered twice), so the agent is told once. `refusal`: sent_kind, clip, error_code, error_title,
        error_details."""
        return (
            self._conditional(
                "record a refusal",
                self.client.put_item,
                TableName=self.table_name,
                Item={
                    "pk": {"S": partition_key(conversation)},
                    "sk": {"S": f"{REFUSED_PREFIX}{message_id}"},
                    "record_type": {"S": REFUSAL},
                    "message_id": {"S": message_id},
                    **{key: {"S": value} for key, value in refusal.items()},
                    "expires_at": {"N": str(int(now + retention_hours * 3600))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            is not None
        )

    def said(self, conversation: Conversation, message_id: str, now: float) -> str | None:
        """The clip the bridge kept of WhatsApp message `message_id` it sent to this conversation, unless expired."""
        sent = self.sent(conversation, message_id, now)
        return sent[1] if sent else None

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
            response = self._call("find a replied-to message", self.client.query, **kwargs)
            for item in response.get("Items", []):
                return InboundMessage.from_dict(json.loads(item["body"]["S"]))
            if "LastEvaluatedKey" not in response:
                return None
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # aggregator

    def read_control(self, conversation: Conversation) -> ControlView:
        """The conversation's control item, read consistently (all zero/None when it does not exist)."""
        response = self._call(
            "read a control item",
            self.client.get_item,
            TableName=self.table_name,
            Key=self._control_key(conversation),
            ConsistentRead=True,
        )
        item = response.get("Item") or {}
        return ControlView(
            pending=int(_num(item, "pending") or 0),
            last_arrival=_num(item, "last_arrival"),
            first_pending=_num(item, "first_pending"),
            version=int(_num(item, "version") or 0),
        )

    def touch(self, conversation: Conversation) -> None:
        """Change the control item without changing its meaning, so a new stream record brings the conversation
        into the next window."""
        # Refused when there is no control item: nothing was ever stored, so nothing can be pending.
        self._conditional(
            "touch a control item",
            self.client.update_item,
            TableName=self.table_name,
            Key=self._control_key(conversation),
            UpdateExpression="ADD tick :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    def write_tick(self, anchor: Conversation, listed: Mapping[str, list[Any] | None], now: float) -> int:
        """Write the tick item(s) under `anchor`'s partition listing `listed` (conversation key -> [pending,
        last_arrival, first_pending, version], or None: read it); how many items. Unconditional PutItems: a retried
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
                    "record_type": {"S": TICK},
                    TICK_LISTED: {"M": {key: _tick_image(image) for key, image in chunk.items()}},
                    "written_at": {"N": _number(now)},
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
            "KeyConditionExpression": "#waiting = :pending AND first_pending < :cutoff",
            "ExpressionAttributeNames": {"#waiting": WAITING},
            "ExpressionAttributeValues": {":pending": {"S": PENDING}, ":cutoff": {"N": _number(cutoff)}},
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

    def unsent_messages(self, conversation: Conversation) -> list[BufferedMessage]:
        """Messages pending or claimed, in sort-key order = WhatsApp order (consistent read)."""
        result: list[BufferedMessage] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :msg)",
            "FilterExpression": "#status IN (:pending, :claimed)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":pk": {"S": partition_key(conversation)},
                ":msg": {"S": MSG_PREFIX},
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
                        burst_index=_int_or_none(item, "burst_index"),
                        burst_size=_int_or_none(item, "burst_size"),
                        claimed_at=_num(item, "claimed_at"),
                    )
                )
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        if unreadable:
            raise UnreadableMessages(unreadable)
        return result

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
        return int(_num(response.get("Attributes") or {}, "read_failures") or 0)

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
                    **({} if claimed_at is None else {":at": {"N": _number(claimed_at)}}),
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

    def settle_control(self, conversation: Conversation, settlement: Settlement) -> bool:
        """Write the recomputed pending count if the control item is still at `settlement.expected_version`.
        False when a message arrived since (the caller re-reads and recomputes)."""
        values: dict[str, Any] = {
            ":pending": {"N": str(settlement.pending)},
            ":version": {"N": str(settlement.expected_version)},
            ":one": {"N": "1"},
        }
        if settlement.first_pending is None:
            # Nothing pending: the conversation leaves the sparse index with its first_pending.
            expression = f"SET pending = :pending REMOVE first_pending, {WAITING} ADD version :one"
        else:
            expression = f"SET pending = :pending, first_pending = :first, {WAITING} = :waiting ADD version :one"
            values[":first"] = {"N": _number(settlement.first_pending)}
            values[":waiting"] = {"S": PENDING}
        return (
            self._conditional(
                "settle a control item",
                self.client.update_item,
                TableName=self.table_name,
                Key=self._control_key(conversation),
                UpdateExpression=expression,
                ConditionExpression="version = :version",
                ExpressionAttributeValues=values,
            )
            is not None
        )

    # helpers

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

    def _control_key(self, conversation: Conversation) -> dict[str, Any]:
        return {"pk": {"S": partition_key(conversation)}, "sk": {"S": CONTROL_SK}}

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

    def _call(self, action: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return method(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise DYNAMODB.translate(exc, action) from exc

    def _conditional(self, action: str, method: Any, **kwargs: Any) -> dict[str, Any] | None:
        """`_call` of a write with a ConditionExpression: None when DynamoDB refused the condition (the item is not
        in the state the write expects), its response otherwise."""
        try:
            return method(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise DYNAMODB.translate(exc, action) from exc
        except BotoCoreError as exc:
            raise DYNAMODB.translate(exc, action) from exc


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


def _tick_image(image: list[Any] | None) -> dict[str, Any]:
    if image is None:
        return {"NULL": True}
    return {
        "L": [
            {"NULL": True} if value is None else {"N": _number(value) if isinstance(value, float) else str(value)}
            for value in image
        ]
    }


def _number(value: float) -> str:
    return repr(float(value))


def _int_or_none(item: dict[str, Any], name: str) -> int | None:
    value = _num(item, name)
    return None if value is None else int(value)


def _num(item: dict[str, Any], name: str) -> float | None:
    value = item.get(name)
    return float(value["N"]) if value and "N" in value else None
