"""DynamoDB adapter for the sessions table: which Connect chat a conversation is talking to right now.

The only module that knows the table layout: one item per conversation, so never more than one live chat session per
conversation; every write that replaces, renews or ends a session is conditional on the contact id it expects to find.
An ended chat's item stays (`ended_at`) until the next burst replaces it, so an agent's last words that SNS delivers
after `chat.ended` still find the customer. Alias items let one customer known by two keys share one session (`get`
and every write follow up to `ALIAS_HOPS` aliases, `confirm` checks what the lagging contact index gave); past-chat
items remember a conversation's latest chat for `PAST_CHAT_DAYS`. The table also holds transcript debts
(`transcript_debts`) and outreach records.
Layout: docs/architecture.md#sessions-table.
"""

from __future__ import annotations

import math
from typing import Any

import boto3

from whatsapp_buffer.adapters.aws_errors import DYNAMODB, conditional_write, failed_conditions, refused_item
from whatsapp_buffer.errors import ConcurrentUpdate
from whatsapp_buffer.model import Session
from whatsapp_buffer.storage_keys import CONTACT_ID, CONTACT_INDEX

PAST_CHAT_PREFIX = "past-chat#"
PAST_CHAT_DAYS = 90
"""How long after a chat's end a returning customer's new chat still continues it. Connect documents no age limit for
persistent chat (the admin guide: customers return "over the course of several days, months, or even years"); the
past transcript has to stay in the instance's chat-transcript bucket that long."""
_NO_LIVE_CHAT = f"attribute_not_exists({CONTACT_ID}) OR attribute_exists(ended_at) OR expires_at <= :now"
"""The condition of a write that may take a conversation's key: no chat there, or one that is over (`:now`)."""
_SAME_CHAT = f"{CONTACT_ID} = :contact"
"""The condition of a write to a session: it is still the chat `:contact`'s."""
PRESENCE_SIGNALS = ("typing", "read")
"""The presence signals a session rate-limits (`claim_presence`)."""
SESSION_ATTRIBUTES = (
    "conversation",
    CONTACT_ID,
    "participant_id",
    "participant_token",
    "connection_token",
    "connection_expires_at",
    "started_at",
    "origination_phone_number_id",
    "expires_at",
    "ended_at",
    "customer_wrote_at",
    "last_customer_message_id",
    "template_sent_at",
    "template_event",
    "template_outcome",
    "numbered_options",
    *(f"{what}_sent_{field}" for what in PRESENCE_SIGNALS for field in ("for", "at")),
)
"""Every attribute a session item may hold: a move is refused when one of them changed since it read the item."""
MOVE_ATTEMPTS = 3
"""Reads of a session a move makes before it gives up on a session other functions keep writing to."""
ALIAS_HOPS = 2
"""Aliases a read or a write of a session follows (a chat moved twice, or a BSUID's alias of a number that moved,
leaves an alias to an alias)."""


def _unchanged(item: dict[str, Any]) -> dict[str, Any]:
    """The condition of a write that holds only while the session item is still `item`: every attribute it has is
    equal, every other one a session may hold is absent."""
    terms, names, values = [], {}, {}
    for i, name in enumerate(sorted(set(item) | set(SESSION_ATTRIBUTES))):
        names[f"#a{i}"] = name
        if name in item:
            terms.append(f"#a{i} = :a{i}")
            values[f":a{i}"] = item[name]
        else:
            terms.append(f"attribute_not_exists(#a{i})")
    return {
        "ConditionExpression": " AND ".join(terms),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _to_item(session: Session) -> dict[str, Any]:
    return {
        "conversation": {"S": session.conversation},
        CONTACT_ID: {"S": session.contact_id},
        "participant_id": {"S": session.participant_id},
        "participant_token": {"S": session.participant_token},
        "connection_token": {"S": session.connection_token},
        "connection_expires_at": {"N": repr(float(session.connection_expires_at))},
        "started_at": {"N": repr(float(session.started_at))},
        "origination_phone_number_id": {"S": session.origination_phone_number_id},
        "expires_at": {"N": str(int(session.expires_at))},
        **({"ended_at": {"N": repr(float(session.ended_at))}} if session.ended_at is not None else {}),
        **(
            {"customer_wrote_at": {"N": repr(float(session.customer_wrote_at))}}
            if session.customer_wrote_at is not None
            else {}
        ),
        **(
            {"template_sent_at": {"N": repr(float(session.template_sent_at))}}
            if session.template_sent_at is not None
            else {}
        ),
        **({"template_event": {"S": session.template_event}} if session.template_event else {}),
        **({"template_outcome": {"S": session.template_outcome}} if session.template_outcome else {}),
        **(
            {"last_customer_message_id": {"S": session.last_customer_message_id}}
            if session.last_customer_message_id
            else {}
        ),
        **(
            {"numbered_options": {"L": [{"S": o} for o in session.numbered_options]}}
            if session.numbered_options
            else {}
        ),
    }


def _from_item(item: dict[str, Any]) -> Session:
    return Session(
        conversation=item["conversation"]["S"],
        contact_id=item[CONTACT_ID]["S"],
        participant_id=item.get("participant_id", {}).get("S", ""),
        participant_token=item["participant_token"]["S"],
        connection_token=item["connection_token"]["S"],
        connection_expires_at=float(item["connection_expires_at"]["N"]),
        started_at=float(item["started_at"]["N"]),
        origination_phone_number_id=item.get("origination_phone_number_id", {}).get("S", ""),
        expires_at=int(float(item["expires_at"]["N"])),
        ended_at=float(item["ended_at"]["N"]) if "ended_at" in item else None,
        customer_wrote_at=float(item["customer_wrote_at"]["N"]) if "customer_wrote_at" in item else None,
        template_sent_at=float(item["template_sent_at"]["N"]) if "template_sent_at" in item else None,
        template_event=item.get("template_event", {}).get("S", ""),
        template_outcome=item.get("template_outcome", {}).get("S", ""),
        last_customer_message_id=item.get("last_customer_message_id", {}).get("S"),
        numbered_options=tuple(o.get("S", "") for o in item.get("numbered_options", {}).get("L", [])),
    )


class SessionsTable:
    """Reads and conditionally writes chat sessions."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def get(self, conversation: str) -> Session | None:
        """The conversation's session, through up to `ALIAS_HOPS` aliases as a write would go (a BSUID's alias of a
        number that a move made an alias of the new number). None when there is none, or the chain is longer."""
        key = conversation
        for _ in range(ALIAS_HOPS + 1):
            item = self._item(key)
            if item is None:
                return None
            if "alias_of" not in item:
                return _from_item(item)
            key = item["alias_of"]["S"]
        return None

    def _item(self, conversation: str) -> dict[str, Any] | None:
        with DYNAMODB.translating("read a session"):
            response = self._client.get_item(
                TableName=self._table, Key={"conversation": {"S": conversation}}, ConsistentRead=True
            )
        return response.get("Item")

    def alias(self, conversation: str, of: str, expires_at: int, now: float) -> bool:
        """Make `conversation` find the session of `of` until `expires_at`, unless `conversation` has a live chat of
        its own (a live chat is never hidden). False then."""
        written = conditional_write(
            "write a session alias",
            self._client.put_item,
            TableName=self._table,
            Item={
                "conversation": {"S": conversation},
                "alias_of": {"S": of},
                "expires_at": {"N": str(int(expires_at))},
            },
            ConditionExpression=_NO_LIVE_CHAT,
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
        )
        return written is not None

    def remember_past_chat(self, conversation: str, contact_id: str, chat_expires_at: int) -> None:
        """Keep `contact_id` as the conversation's latest chat until `PAST_CHAT_DAYS` after the chat's end at the
        latest (an item without `contact_id`, so never in `by-contact`)."""
        with DYNAMODB.translating("remember a past chat"):
            self._client.put_item(
                TableName=self._table,
                Item={
                    "conversation": {"S": PAST_CHAT_PREFIX + conversation},
                    "past_contact_id": {"S": contact_id},
                    "expires_at": {"N": str(int(chat_expires_at) + PAST_CHAT_DAYS * 86_400)},
                },
            )

    def past_chat(self, conversation: str) -> str | None:
        """The conversation's latest chat, once its session item is gone; None when none is remembered."""
        item = self._item(PAST_CHAT_PREFIX + conversation)
        return item["past_contact_id"]["S"] if item and "past_contact_id" in item else None

    def get_by_contact(self, contact_id: str) -> Session | None:
        """The session whose chat is `contact_id` (eventually consistent: the index lags writes slightly)."""
        with DYNAMODB.translating("find a session by contact"):
            response = self._client.query(
                TableName=self._table,
                IndexName=CONTACT_INDEX,
                KeyConditionExpression=f"{CONTACT_ID} = :contact",
                ExpressionAttributeValues={":contact": {"S": contact_id}},
                Limit=1,
            )
        items = response.get("Items") or []
        return _from_item(items[0]) if items else None

    def confirm(self, found: Session) -> Session | None:
        """`found`, a session the lagging `by-contact` index gave, as the table holds it now (a strongly consistent
        GetItem of its key): where a move took it, through up to `ALIAS_HOPS` aliases as a write would go. None when
        the item is gone, is another chat's by now, or is an alias of an alias of an alias."""
        key = found.conversation
        for _ in range(ALIAS_HOPS + 1):
            item = self._item(key)
            if item is None:
                return None
            if "alias_of" not in item:
                return _from_item(item) if item.get(CONTACT_ID, {}).get("S") == found.contact_id else None
            key = item["alias_of"]["S"]
        return None

    def replace(self, new: Session, expected_contact_id: str | None) -> None:
        """Write `new`, a new chat's whole session, if the conversation has no session (`expected_contact_id` None)
        or still has that contact. Raises `ConcurrentUpdate` otherwise, so two writers can never leave two live chats
        behind one conversation. A chat that stays is never replaced: its connection is renewed (`renew_connection`).
        """
        condition: dict[str, Any]
        if expected_contact_id is None:
            # An alias whose session is gone (TTL) gives way to the conversation's own chat.
            condition = {"ConditionExpression": "attribute_not_exists(conversation) OR attribute_exists(alias_of)"}
        else:
            condition = {
                "ConditionExpression": f"{CONTACT_ID} = :expected",
                "ExpressionAttributeValues": {":expected": {"S": expected_contact_id}},
            }
        with DYNAMODB.translating("write a session"):
            self._client.put_item(TableName=self._table, Item=_to_item(new), **condition)

    def renew_connection(self, renewed: Session) -> None:
        """Write `renewed`'s connection (token and expiry) and nothing else, if the conversation still has its chat
        (where a move took it since `renewed` was read, too): what other functions wrote since `renewed` was read
        (the end, the customer's last message, the template's claim, presence signals) stays. Raises
        `ConcurrentUpdate` when the chat is another's by now, or gone."""
        if not self._update_if(
            "renew a session's connection",
            renewed.conversation,
            UpdateExpression="SET connection_token = :token, connection_expires_at = :expires",
            ConditionExpression=_SAME_CHAT,
            ExpressionAttributeValues={
                ":contact": {"S": renewed.contact_id},
                ":token": {"S": renewed.connection_token},
                ":expires": {"N": repr(float(renewed.connection_expires_at))},
            },
        ):
            raise ConcurrentUpdate(
                f"the session of {renewed.contact_id} is another chat's by now, or gone",
                code="ConditionalCheckFailedException",
            )

    def move(self, session: Session, to: str, now: float) -> Session | None:
        """Re-key the chat of `session` to the conversation `to` and leave an alias behind, in one transaction: the
        old key still finds the chat, replies go to the new one. The item moved is the one in the table right before
        the transaction, every attribute of it (`session` may be stale: what other functions wrote since stays), and
        the transaction holds only while that item is unchanged; a change meanwhile is read again, up to
        `MOVE_ATTEMPTS` times, then `ConcurrentUpdate`. The chat at `to` when it is there already (another delivery
        moved it); None when `to` has a live chat of its own, or the old key no longer holds the chat."""
        for _ in range(MOVE_ATTEMPTS):
            current = self._item(session.conversation)
            if current is None or current.get(CONTACT_ID, {}).get("S") != session.contact_id:
                return self._moved_already(session, current, to)
            moved = {**current, "conversation": {"S": to}}
            alias = {
                "conversation": {"S": session.conversation},
                "alias_of": {"S": to},
                "expires_at": moved["expires_at"],
            }
            failed = failed_conditions(
                self._client,
                "move a session",
                [
                    {"Put": {"TableName": self._table, "Item": alias, **_unchanged(current)}},
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": moved,
                            "ConditionExpression": _NO_LIVE_CHAT,
                            "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
                        }
                    },
                ],
            )
            if not failed:
                return _from_item(moved)
            if 0 not in failed:
                return None
        raise ConcurrentUpdate(f"the session of {session.contact_id} kept changing while it was moved")

    def _moved_already(self, session: Session, current: dict[str, Any] | None, to: str) -> Session | None:
        """The chat of `session` at `to` when `current`, the old key's item, is the alias a move to `to` left."""
        if current is None or current.get("alias_of", {}).get("S") != to:
            return None
        there = self._item(to)
        if there is None or there.get(CONTACT_ID, {}).get("S") != session.contact_id:
            return None
        return _from_item(there)

    def end(self, conversation: str, contact_id: str, at: float) -> bool:
        """Mark the session of `contact_id` ended (the next burst opens a new chat). False when it was already ended,
        replaced by a newer chat, or gone."""
        return self._update_if(
            "end a session",
            conversation,
            UpdateExpression="SET ended_at = :at",
            ConditionExpression=f"{_SAME_CHAT} AND attribute_not_exists(ended_at)",
            ExpressionAttributeValues={":contact": {"S": contact_id}, ":at": {"N": repr(float(at))}},
        )

    def customer_wrote(self, conversation: str, contact_id: str, at: float, message_id: str | None = None) -> bool:
        """Record that the customer's message of `at` (WhatsApp id `message_id`) reached the chat `contact_id` (never
        moves the time back). False when the session is another chat's by now, or already knows a later message."""
        update, values = "SET customer_wrote_at = :at", {":contact": {"S": contact_id}, ":at": {"N": repr(float(at))}}
        if message_id:
            update += ", last_customer_message_id = :message"
            values[":message"] = {"S": message_id}
        return self._update_if(
            "record the customer's last message",
            conversation,
            UpdateExpression=update,
            ConditionExpression=(
                f"{_SAME_CHAT} AND (attribute_not_exists(customer_wrote_at) OR customer_wrote_at < :at)"
            ),
            ExpressionAttributeValues=values,
        )

    def set_numbered_options(self, conversation: str, contact_id: str, options: tuple[str, ...]) -> bool:
        """Remember (or, with no options, forget) the question last sent as numbered text in chat `contact_id`.
        False when the session is another chat's by now."""
        values: dict[str, Any] = {":contact": {"S": contact_id}}
        if options:
            update = "SET numbered_options = :options"
            values[":options"] = {"L": [{"S": o} for o in options]}
        else:
            update = "REMOVE numbered_options"
        return self._update_if(
            "record a numbered question",
            conversation,
            UpdateExpression=update,
            ConditionExpression=_SAME_CHAT,
            ExpressionAttributeValues=values,
        )

    def claim_template(
        self, conversation: str, contact_id: str, customer_wrote_at: float, at: float, event_id: str
    ) -> bool:
        """True once per closed window: marks the re-engagement template sent at `at` by the reply `event_id` unless
        it already went after the customer's last message (two replies, or a redelivery, never send it twice)."""
        return self._update_if(
            "claim the re-engagement template",
            conversation,
            UpdateExpression="SET template_sent_at = :at, template_event = :event REMOVE template_outcome",
            ConditionExpression=(
                f"{_SAME_CHAT} AND (attribute_not_exists(template_sent_at) OR template_sent_at < :wrote)"
            ),
            ExpressionAttributeValues={
                ":contact": {"S": contact_id},
                ":at": {"N": repr(float(at))},
                ":wrote": {"N": repr(float(customer_wrote_at))},
                ":event": {"S": event_id},
            },
        )

    def release_template(self, conversation: str, contact_id: str, event_id: str) -> bool:
        """Undo the reply `event_id`'s claim of the template (its send failed): the next reply, or this one's retry,
        may claim it again. False when the claim is no longer that reply's."""
        return self._update_if(
            "release the re-engagement template",
            conversation,
            UpdateExpression="REMOVE template_sent_at, template_event, template_outcome",
            ConditionExpression=f"{_SAME_CHAT} AND template_event = :event",
            ExpressionAttributeValues={":contact": {"S": contact_id}, ":event": {"S": event_id}},
        )

    def settle_template(self, conversation: str, contact_id: str, event_id: str, outcome: str) -> bool:
        """Record what became of the template the reply `event_id` claimed (`sent` or `refused`): its retries say
        the same and send nothing. False when the claim is no longer that reply's."""
        return self._update_if(
            "settle the re-engagement template",
            conversation,
            UpdateExpression="SET template_outcome = :outcome",
            ConditionExpression=f"{_SAME_CHAT} AND template_event = :event",
            ExpressionAttributeValues={
                ":contact": {"S": contact_id},
                ":event": {"S": event_id},
                ":outcome": {"S": outcome},
            },
        )

    def claim_presence(
        self, conversation: str, contact_id: str, what: str, value: str, *, at: float, every: float
    ) -> bool:
        """Rate-limit a presence signal to WhatsApp: True when `what` (`typing` or `read`) may go now — `value` (the
        message id it names) differs from the last one sent, or `every` seconds have passed since (never, when
        `every` is infinite: DynamoDB takes no infinite Number, so that term is left out). Records it."""
        since = at - every
        repeat = " OR #sent_at < :since" if math.isfinite(since) else ""
        return self._update_if(
            f"claim a {what} signal",
            conversation,
            UpdateExpression="SET #sent = :value, #sent_at = :at",
            ConditionExpression=f"{_SAME_CHAT} AND (attribute_not_exists(#sent) OR #sent <> :value{repeat})",
            ExpressionAttributeNames={"#sent": f"{what}_sent_for", "#sent_at": f"{what}_sent_at"},
            ExpressionAttributeValues={
                ":contact": {"S": contact_id},
                ":value": {"S": value},
                ":at": {"N": repr(float(at))},
                **({":since": {"N": repr(float(since))}} if repeat else {}),
            },
        )

    def _update_if(self, action: str, conversation: str, **update: Any) -> bool:
        """A conditional UpdateItem of the conversation's session; False when its condition failed. A key that is an
        alias by now (the session was moved after the caller found it, e.g. through the lagging `by-contact` index)
        is followed, up to `ALIAS_HOPS` times, and the write made where the session is: the item the condition
        refused comes back with the refusal (no read, no read capacity), so an alias costs one more write only."""
        key = conversation
        for _ in range(ALIAS_HOPS + 1):
            try:
                with DYNAMODB.translating(action):
                    self._client.update_item(
                        TableName=self._table,
                        Key={"conversation": {"S": key}},
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                        **update,
                    )
                return True
            except ConcurrentUpdate as refused:
                alias_of = refused_item(refused).get("alias_of", {}).get("S")
                if not alias_of:
                    return False
                key = alias_of
        return False
