"""The raw table's items about what the bridge sent to WhatsApp: a clip of each message the agent's side sent
(`SAID#<WhatsApp message id>`), and WhatsApp's refusals of them (`REFUSED#<WhatsApp message id>`, written once). Kept
apart from the aggregator's items because they travel the other way (agent to customer) and only share the
conversation's partition and TTL: the outbound function writes the clips, ingest reads them back to quote a reply and to
name what a `failed` status refused, and writes the refusal the inbound function tells the agent. Layout:
docs/architecture.md#raw-table.
"""

from __future__ import annotations

from dataclasses import asdict

from whatsapp_buffer.adapters.aws_errors import RELAYED_LOOKUP
from whatsapp_buffer.adapters.raw_common import RawTableClient, expires_at, partition_key, read_number
from whatsapp_buffer.model import Conversation, Refusal
from whatsapp_buffer.storage_keys import RECORD_TYPE, REFUSAL

SAID_PREFIX = "SAID#"
REFUSED_PREFIX = "REFUSED#"


class OutboundItems(RawTableClient):
    """The said and refusal items."""

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
                RECORD_TYPE: {"S": "said"},
                "clip": {"S": clip},
                "sent_kind": {"S": kind},
                "expires_at": expires_at(now, retention_hours),
            },
        )

    def sent(self, conversation: Conversation, message_id: str, now: float) -> tuple[str, str] | None:
        """(kind, clip) of WhatsApp message `message_id` the bridge sent to this conversation, unless expired; None
        for a message the bridge did not send (or no longer remembers)."""
        response = self._call(
            RELAYED_LOOKUP,
            self.client.get_item,
            TableName=self.table_name,
            Key={"pk": {"S": partition_key(conversation)}, "sk": {"S": f"{SAID_PREFIX}{message_id}"}},
        )
        item = response.get("Item") or {}
        if "clip" not in item or (read_number(item, "expires_at") or 0) <= now:
            return None
        return item.get("sent_kind", {}).get("S", "text"), item["clip"]["S"]

    def said(self, conversation: Conversation, message_id: str, now: float) -> str | None:
        """The clip the bridge kept of WhatsApp message `message_id` it sent to this conversation, unless expired."""
        sent = self.sent(conversation, message_id, now)
        return sent[1] if sent else None

    def record_refusal(self, conversation: Conversation, refusal: Refusal, now: float, retention_hours: float) -> bool:
        """Write the item of `refusal` once; False when it was already written (a status delivered twice), so the
        agent is told once."""
        return (
            self._conditional(
                "record a refusal",
                self.client.put_item,
                TableName=self.table_name,
                Item={
                    "pk": {"S": partition_key(conversation)},
                    "sk": {"S": f"{REFUSED_PREFIX}{refusal.message_id}"},
                    RECORD_TYPE: {"S": REFUSAL},
                    **{key: {"S": value} for key, value in asdict(refusal).items()},
                    "expires_at": expires_at(now, retention_hours),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            is not None
        )
