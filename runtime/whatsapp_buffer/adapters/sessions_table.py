"""DynamoDB adapter for the sessions table: which Connect chat a conversation is talking to right now.

The only module that knows the table layout (docs/architecture.md): hash key `conversation` (S) =
`Conversation.key`, GSI `by-contact` (hash `contact_id`, projection ALL), TTL attribute `expires_at` (Number).
One item per conversation, so there is never more than one live chat session per conversation; every write that
replaces or ends a session is conditional on the contact id it expects to find. An ended chat's item stays (marked
`ended_at`) until the next burst replaces it, so an agent's last words that arrive after `chat.ended` (SNS does not
keep order) still find the customer.

Alias items (`conversation`, `alias_of`, `expires_at`, no `contact_id`, so not in `by-contact`) make one customer
known by two keys share one session: the BSUID of a customer whose session is keyed by the phone number, or the old
number of a customer who changed it. `get` follows one alias. On a stack that transcribes the table also holds the
transcripts owed to chats (`TranscriptDebts`, keys `transcript-owed#<job>`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from whatsapp_buffer.adapters.aws_errors import DYNAMODB, cancelled_by_condition
from whatsapp_buffer.errors import ConcurrentUpdate

CONTACT_INDEX = "by-contact"


@dataclass(frozen=True)
class Session:
    """The live Connect chat of one conversation, and the credentials the bridge uses as its customer participant."""

    conversation: str
    """`Conversation.key`."""
    contact_id: str
    participant_id: str
    participant_token: str
    """From StartChatContact; needed to create (and refresh) the participant connection."""
    connection_token: str
    """From CreateParticipantConnection; authorises SendMessage and the attachment calls."""
    connection_expires_at: float
    """Epoch seconds after which `connection_token` no longer works."""
    started_at: float
    origination_phone_number_id: str
    """End User Messaging id (or ARN) of the business number replies must be sent from."""
    expires_at: int
    """Epoch seconds at which the chat's duration is over (and the TTL that eventually removes the item)."""
    ended_at: float | None = None
    """When Connect said the chat ended (agent or customer left); None while it is live."""
    customer_wrote_at: float | None = None
    """When the customer's latest message reached the bridge (epoch seconds): WhatsApp's 24-hour customer-service
    window runs from there. None when no burst of this chat recorded it."""
    template_sent_at: float | None = None
    """When the re-engagement template last went to the customer (once per closed window)."""
    last_customer_message_id: str | None = None
    """The WhatsApp id of the customer's latest message in the chat: what a read receipt or typing indicator names."""
    numbered_options: tuple[str, ...] = ()
    """The options of the bot's or flow's question the relay last sent as numbered text (too many or too long for
    WhatsApp's buttons and lists), until the customer answers or the agent side sends something else: a customer's
    bare "2" then reaches the chat as the second option's title."""

    def chat_over(self, now: float) -> bool:
        """True once Connect ended the chat, or its configured duration has elapsed (Connect has ended it then too)."""
        return self.ended_at is not None or now >= self.expires_at

    def connection_valid(self, now: float, margin_seconds: float) -> bool:
        """True while the connection token stays usable for at least `margin_seconds` more."""
        return now + margin_seconds < self.connection_expires_at

    def with_connection(self, connection_token: str, expires_at: float) -> Session:
        return replace(self, connection_token=connection_token, connection_expires_at=expires_at)


def _to_item(session: Session) -> dict[str, Any]:
    return {
        "conversation": {"S": session.conversation},
        "contact_id": {"S": session.contact_id},
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
        contact_id=item["contact_id"]["S"],
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
        last_customer_message_id=item.get("last_customer_message_id", {}).get("S"),
        numbered_options=tuple(o.get("S", "") for o in item.get("numbered_options", {}).get("L", [])),
    )


class SessionStore:
    """Reads and conditionally writes chat sessions."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def get(self, conversation: str) -> Session | None:
        """The conversation's session, through one alias."""
        item = self._item(conversation)
        if item and "alias_of" in item:
            item = self._item(item["alias_of"]["S"])
        return _from_item(item) if item and "alias_of" not in item else None

    def _item(self, conversation: str) -> dict[str, Any] | None:
        with DYNAMODB.translating("read a session"):
            response = self._client.get_item(
                TableName=self._table, Key={"conversation": {"S": conversation}}, ConsistentRead=True
            )
        return response.get("Item")

    def alias(self, conversation: str, of: str, expires_at: int, now: float) -> bool:
        """Make `conversation` find the session of `of` until `expires_at`, unless `conversation` has a live chat of
        its own (a live chat is never hidden). False then."""
        try:
            with DYNAMODB.translating("write a session alias"):
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        "conversation": {"S": conversation},
                        "alias_of": {"S": of},
                        "expires_at": {"N": str(int(expires_at))},
                    },
                    ConditionExpression=(
                        "attribute_not_exists(contact_id) OR attribute_exists(ended_at) OR expires_at <= :now"
                    ),
                    ExpressionAttributeValues={":now": {"N": str(int(now))}},
                )
        except ConcurrentUpdate:
            return False
        return True

    def get_by_contact(self, contact_id: str) -> Session | None:
        """The session whose chat is `contact_id` (eventually consistent: the index lags writes slightly)."""
        with DYNAMODB.translating("find a session by contact"):
            response = self._client.query(
                TableName=self._table,
                IndexName=CONTACT_INDEX,
                KeyConditionExpression="contact_id = :contact",
                ExpressionAttributeValues={":contact": {"S": contact_id}},
                Limit=1,
            )
        items = response.get("Items") or []
        return _from_item(items[0]) if items else None

    def replace(self, new: Session, expected_contact_id: str | None) -> None:
        """Write `new` if the conversation has no session (`expected_contact_id` None) or still has that contact.

        Raises `ConcurrentUpdate` otherwise, so two writers can never leave two live chats behind one conversation.
        """
        if expected_contact_id is None:
            # An alias whose session is gone (TTL) gives way to the conversation's own chat.
            condition = {"ConditionExpression": "attribute_not_exists(conversation) OR attribute_exists(alias_of)"}
        else:
            condition = {
                "ConditionExpression": "contact_id = :expected",
                "ExpressionAttributeValues": {":expected": {"S": expected_contact_id}},
            }
        with DYNAMODB.translating("write a session"):
            self._client.put_item(TableName=self._table, Item=_to_item(new), **condition)

    def move(self, session: Session, to: str, now: float) -> Session | None:
        """Re-key `session` to the conversation `to` and leave an alias behind, in one transaction: the old key still
        finds the chat, replies go to the new one. None when `to` has a live chat of its own or `session` changed."""
        moved = replace(session, conversation=to)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _to_item(moved),
                            "ConditionExpression": (
                                "attribute_not_exists(contact_id) OR attribute_exists(ended_at) OR expires_at <= :now"
                            ),
                            "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                "conversation": {"S": session.conversation},
                                "alias_of": {"S": to},
                                "expires_at": {"N": str(int(session.expires_at))},
                            },
                            "ConditionExpression": "contact_id = :contact",
                            "ExpressionAttributeValues": {":contact": {"S": session.contact_id}},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if cancelled_by_condition(exc, first_only=False):
                return None
            raise DYNAMODB.translate(exc, "move a session") from exc
        except BotoCoreError as exc:
            raise DYNAMODB.translate(exc, "move a session") from exc
        return moved

    def end(self, conversation: str, contact_id: str, at: float) -> bool:
        """Mark the session of `contact_id` ended (the next burst opens a new chat). False when it was already ended,
        replaced by a newer chat, or gone."""
        try:
            with DYNAMODB.translating("end a session"):
                self._client.update_item(
                    TableName=self._table,
                    Key={"conversation": {"S": conversation}},
                    UpdateExpression="SET ended_at = :at",
                    ConditionExpression="contact_id = :contact AND attribute_not_exists(ended_at)",
                    ExpressionAttributeValues={":contact": {"S": contact_id}, ":at": {"N": repr(float(at))}},
                )
        except ConcurrentUpdate:
            return False
        return True

    def customer_wrote(self, conversation: str, contact_id: str, at: float, message_id: str | None = None) -> bool:
        """Record that the customer's message of `at` (WhatsApp id `message_id`) reached the chat `contact_id` (never
        moves the time back). False when the session is another chat's by now, or already knows a later message."""
        update, values = "SET customer_wrote_at = :at", {":contact": {"S": contact_id}, ":at": {"N": repr(float(at))}}
        if message_id:
            update += ", last_customer_message_id = :message"
            values[":message"] = {"S": message_id}
        try:
            with DYNAMODB.translating("record the customer's last message"):
                self._client.update_item(
                    TableName=self._table,
                    Key={"conversation": {"S": conversation}},
                    UpdateExpression=update,
                    ConditionExpression=(
                        "contact_id = :contact AND (attribute_not_exists(customer_wrote_at) OR customer_wrote_at < :at)"
                    ),
                    ExpressionAttributeValues=values,
                )
        except ConcurrentUpdate:
            return False
        return True

    def set_numbered_options(self, conversation: str, contact_id: str, options: tuple[str, ...]) -> bool:
        """Remember (or, with no options, forget) the question last sent as numbered text in chat `contact_id`.
        False when the session is another chat's by now."""
        values: dict[str, Any] = {":contact": {"S": contact_id}}
        if options:
            update = "SET numbered_options = :options"
            values[":options"] = {"L": [{"S": o} for o in options]}
        else:
            update = "REMOVE numbered_options"
        try:
            with DYNAMODB.translating("record a numbered question"):
                self._client.update_item(
                    TableName=self._table,
                    Key={"conversation": {"S": conversation}},
                    UpdateExpression=update,
                    ConditionExpression="contact_id = :contact",
                    ExpressionAttributeValues=values,
                )
        except ConcurrentUpdate:
            return False
        return True

    def claim_template(self, conversation: str, contact_id: str, customer_wrote_at: float, at: float) -> bool:
        """True once per closed window: marks the re-engagement template sent at `at` unless it already went after
        the customer's last message (two replies, or a redelivery, never send it twice)."""
        try:
            with DYNAMODB.translating("claim the re-engagement template"):
                self._client.update_item(
                    TableName=self._table,
                    Key={"conversation": {"S": conversation}},
                    UpdateExpression="SET template_sent_at = :at",
                    ConditionExpression=(
                        "contact_id = :contact AND (attribute_not_exists(template_sent_at) OR template_sent_at < :wrote)"
                    ),
                    ExpressionAttributeValues={
                        ":contact": {"S": contact_id},
                        ":at": {"N": repr(float(at))},
                        ":wrote": {"N": repr(float(customer_wrote_at))},
                    },
                )
        except ConcurrentUpdate:
            return False
        return True

    def claim_presence(
        self, conversation: str, contact_id: str, what: str, value: str, *, at: float, every: float
    ) -> bool:
        """Rate-limit a presence signal to WhatsApp: True when `what` (`typing` or `read`) may go now — `value` (the
        message id it names) differs from the last one sent, or `every` seconds have passed since. Records it."""
        try:
            with DYNAMODB.translating(f"claim a {what} signal"):
                self._client.update_item(
                    TableName=self._table,
                    Key={"conversation": {"S": conversation}},
                    UpdateExpression="SET #sent = :value, #sent_at = :at",
                    ConditionExpression=(
                        "contact_id = :contact AND (attribute_not_exists(#sent) OR #sent <> :value OR #sent_at < :since)"
                    ),
                    ExpressionAttributeNames={"#sent": f"{what}_sent_for", "#sent_at": f"{what}_sent_at"},
                    ExpressionAttributeValues={
                        ":contact": {"S": contact_id},
                        ":value": {"S": value},
                        ":at": {"N": repr(float(at))},
                        ":since": {"N": repr(float(at - every))},
                    },
                )
        except ConcurrentUpdate:
            return False
        return True


DEBT_PREFIX = "transcript-owed#"
"""Key prefix of the items recording a transcript owed to a chat. They share the sessions table (one item per job,
hash key `transcript-owed#<job name>`) but carry no `contact_id`, so the sparse `by-contact` index never sees them."""
OWED = "owed"
CLAIMED = "claimed"
PAID = "paid"
OWED_INDEX = "owed-since"
"""Sparse GSI of the debts not yet paid (hash `debt_open` = `open`, range `owed_at`, keys only): `record` writes both
attributes, `pay` removes `debt_open`, so the fallback sweep (`LateTranscripts.sweep`) reads only the debts still
open, never the table. DynamoDB developer guide, "Take advantage of sparse indexes": "For any item in a table,
DynamoDB writes a corresponding index entry only if the index sort key value is present in the item"; "Global
secondary indexes are sparse by default ... Only items in the base table that contain those attributes appear in the
index"."""
DEBT_OPEN = "open"


@dataclass(frozen=True)
class TranscriptDebt:
    """A recording's transcript the flush delivered without: owed to the chat that got the recording."""

    job: str
    """The Transcribe job name."""
    conversation: str
    contact_id: str
    """The chat that got the recording (its agent is the one waiting for the transcript)."""
    client_token: str
    """The ClientToken of the late transcript's SendMessage (deterministic: `burst.client_token(i, "late-transcript")`)."""
    label: str
    """Which recording it is, for the agent: the WAV's attachment name."""
    expires_at: int
    state: str = OWED
    owed_at: float = 0.0
    """When the flush recorded it (the fallback sweep gives up on a job still running long after)."""
    reply_to: str = ""
    """The recording's WhatsApp message id (`echoTranscripts` replies to it); empty for debts recorded before."""


def _debt_from_item(item: dict[str, Any]) -> TranscriptDebt:
    return TranscriptDebt(
        job=item["conversation"]["S"][len(DEBT_PREFIX) :],
        conversation=item["owed_to"]["S"],
        contact_id=item["owed_contact"]["S"],
        client_token=item["client_token"]["S"],
        label=item["label"]["S"],
        expires_at=int(float(item["expires_at"]["N"])),
        state=item["debt_state"]["S"],
        owed_at=float(item.get("owed_at", {}).get("N", "0")),
        reply_to=item.get("reply_to", {}).get("S", ""),
    )


class TranscriptDebts:
    """Transcripts owed to chats; who posts one is decided by conditional writes, never by timing."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    @staticmethod
    def _key(job: str) -> dict[str, Any]:
        return {"conversation": {"S": DEBT_PREFIX + job}}

    def record(self, debt: TranscriptDebt) -> bool:
        """Write the debt (state `owed`); False when the job's debt exists already (a redelivered burst)."""
        item = {
            **self._key(debt.job),
            "owed_to": {"S": debt.conversation},
            "owed_contact": {"S": debt.contact_id},
            "client_token": {"S": debt.client_token},
            "label": {"S": debt.label},
            "expires_at": {"N": str(int(debt.expires_at))},
            "debt_state": {"S": OWED},
            "debt_open": {"S": DEBT_OPEN},
            "owed_at": {"N": repr(float(debt.owed_at))},
            **({"reply_to": {"S": debt.reply_to}} if debt.reply_to else {}),
        }
        try:
            with DYNAMODB.translating("record a transcript owed"):
                self._client.put_item(
                    TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(conversation)"
                )
        except ConcurrentUpdate:
            return False
        return True

    def get(self, job: str) -> TranscriptDebt | None:
        with DYNAMODB.translating("read a transcript owed"):
            item = self._client.get_item(TableName=self._table, Key=self._key(job), ConsistentRead=True).get("Item")
        return _debt_from_item(item) if item else None

    def owed_before(self, cutoff: float) -> list[tuple[str, float]]:
        """(job, owed_at) of every debt not paid and recorded before `cutoff`, oldest first (the sparse `owed-since`
        index; eventually consistent, which the claim's conditional write and the next sweep a minute later absorb)."""
        found: list[tuple[str, float]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": OWED_INDEX,
            "KeyConditionExpression": "debt_open = :open AND owed_at < :cutoff",
            "ExpressionAttributeValues": {":open": {"S": DEBT_OPEN}, ":cutoff": {"N": repr(float(cutoff))}},
        }
        while True:
            with DYNAMODB.translating("read the transcripts still owed"):
                response = self._client.query(**kwargs)
            for item in response.get("Items", []):
                key = item["conversation"]["S"]
                if key.startswith(DEBT_PREFIX):
                    found.append((key[len(DEBT_PREFIX) :], float(item["owed_at"]["N"])))
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def claim(self, job: str, now: float, lease_seconds: float) -> TranscriptDebt | None:
        """Take the debt to post it: only one caller gets it while it is owed (or its claim is older than
        `lease_seconds`, a claimant that died); None for a debt paid, claimed, or never owed."""
        try:
            with DYNAMODB.translating("claim a transcript owed"):
                response = self._client.update_item(
                    TableName=self._table,
                    Key=self._key(job),
                    UpdateExpression="SET debt_state = :claimed, claimed_at = :now",
                    ConditionExpression="debt_state = :owed OR (debt_state = :claimed AND claimed_at < :stale)",
                    ExpressionAttributeValues={
                        ":claimed": {"S": CLAIMED},
                        ":owed": {"S": OWED},
                        ":now": {"N": repr(float(now))},
                        ":stale": {"N": repr(float(now - lease_seconds))},
                    },
                    ReturnValues="ALL_NEW",
                )
        except ConcurrentUpdate:
            return None
        return _debt_from_item(response["Attributes"])

    def release(self, job: str) -> None:
        """Give a claimed debt back (its post failed and will be retried)."""
        with DYNAMODB.translating("release a transcript owed"):
            self._client.update_item(
                TableName=self._table,
                Key=self._key(job),
                UpdateExpression="SET debt_state = :owed",
                ExpressionAttributeValues={":owed": {"S": OWED}},
            )

    def pay(self, job: str, outcome: str) -> None:
        """The claimed debt is settled: `posted`, or `chat ended` (nobody left to tell)."""
        with DYNAMODB.translating("settle a transcript owed"):
            self._client.update_item(
                TableName=self._table,
                Key=self._key(job),
                # Out of the `owed-since` index: a paid debt is never swept again.
                UpdateExpression="SET debt_state = :paid, outcome = :outcome REMOVE debt_open",
                ExpressionAttributeValues={":paid": {"S": PAID}, ":outcome": {"S": outcome}},
            )
