"""DynamoDB adapter for outreach records: items of the sessions table, but not sessions.

Hash key `outreach#<conversation key>` (the latest outreach to that customer from that number), no `contact_id`, so
the `by-contact` index never sees them; TTL `expires_at`. Kept apart from `sessions_table` because the outreach
function writes them (its IAM grant is limited to this key prefix) and the inbound function only reads them and marks
them shown. States: `sending` (claimed by one request; the same request may take over a claim its invocation
cannot outlive) -> `sent` (with the WhatsApp message id), `refused`, or `unsent` (a temporary failure: the same
request may claim it again); `shown_in` names the chat whose agent was shown it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

from whatsapp_buffer.adapters.aws_errors import DYNAMODB, conditional_write
from whatsapp_buffer.model import OUTREACH_SENDING, OUTREACH_UNSENT, OutreachRecord
from whatsapp_buffer.storage_keys import OUTREACH_PREFIX


def _to_item(record: OutreachRecord) -> dict[str, Any]:
    return {
        "conversation": {"S": OUTREACH_PREFIX + record.conversation},
        "request": {"S": record.request},
        "template": {"S": record.template},
        "language": {"S": record.language},
        "shown_text": {"S": record.shown_text},
        "attributes": {"M": {k: {"S": v} for k, v in record.attributes.items()}},
        "sent_at": {"N": repr(float(record.sent_at))},
        "expires_at": {"N": str(int(record.expires_at))},
        "state": {"S": record.state},
    }


def _from_item(item: dict[str, Any]) -> OutreachRecord:
    return OutreachRecord(
        conversation=item["conversation"]["S"].removeprefix(OUTREACH_PREFIX),
        request=item.get("request", {}).get("S", ""),
        template=item.get("template", {}).get("S", ""),
        language=item.get("language", {}).get("S", ""),
        shown_text=item.get("shown_text", {}).get("S", ""),
        attributes={k: v.get("S", "") for k, v in item.get("attributes", {}).get("M", {}).items()},
        sent_at=float(item.get("sent_at", {}).get("N", "0")),
        expires_at=int(float(item.get("expires_at", {}).get("N", "0"))),
        state=item.get("state", {}).get("S", ""),
        message_id=item.get("message_id", {}).get("S", ""),
        shown_in=item.get("shown_in", {}).get("S", ""),
    )


@dataclass
class OutreachRecordItems:
    table_name: str
    client: Any = field(default=None)

    def __post_init__(self) -> None:
        self.client = self.client or boto3.client("dynamodb")

    def get(self, conversation: str) -> OutreachRecord | None:
        with DYNAMODB.translating("read an outreach record"):
            response = self.client.get_item(
                TableName=self.table_name,
                Key={"conversation": {"S": OUTREACH_PREFIX + conversation}},
                ConsistentRead=True,
            )
        item = response.get("Item")
        return _from_item(item) if item else None

    def claim(self, record: OutreachRecord, stale_before: float) -> bool:
        """Record a new outreach (replacing an older one to the same customer). False when this very request is
        recorded already (a repeated invocation), neither `unsent` nor `sending` since before `stale_before` (its
        `sent_at`: a claim whose invocation is over): the caller reads it instead of sending again."""
        written = conditional_write(
            "claim an outreach",
            self.client.put_item,
            TableName=self.table_name,
            Item=_to_item(record),
            ConditionExpression=(
                "attribute_not_exists(conversation) OR #request <> :request OR #state = :unsent"
                " OR (#state = :sending AND sent_at < :stale)"
            ),
            ExpressionAttributeNames={"#request": "request", "#state": "state"},
            ExpressionAttributeValues={
                ":request": {"S": record.request},
                ":unsent": {"S": OUTREACH_UNSENT},
                ":sending": {"S": OUTREACH_SENDING},
                ":stale": {"N": repr(float(stale_before))},
            },
        )
        return written is not None

    def settle(self, conversation: str, request: str, state: str, message_id: str = "") -> bool:
        """Mark the claimed outreach `sent` (with its WhatsApp message id), `refused` or `unsent`."""
        values: dict[str, Any] = {
            ":request": {"S": request},
            ":state": {"S": state},
            ":sending": {"S": OUTREACH_SENDING},
        }
        update = "SET #state = :state"
        if message_id:
            update += ", message_id = :message"
            values[":message"] = {"S": message_id}
        written = conditional_write(
            "settle an outreach",
            self.client.update_item,
            TableName=self.table_name,
            Key={"conversation": {"S": OUTREACH_PREFIX + conversation}},
            UpdateExpression=update,
            ConditionExpression="#request = :request AND #state = :sending",
            ExpressionAttributeNames={"#request": "request", "#state": "state"},
            ExpressionAttributeValues=values,
        )
        return written is not None

    def mark_shown(self, conversation: str, message_id: str, contact_id: str) -> bool:
        """The agent of chat `contact_id` was shown the outreach `message_id`: later bursts show it no more."""
        written = conditional_write(
            "mark an outreach shown",
            self.client.update_item,
            TableName=self.table_name,
            Key={"conversation": {"S": OUTREACH_PREFIX + conversation}},
            UpdateExpression="SET shown_in = :contact",
            ConditionExpression="message_id = :message AND attribute_not_exists(shown_in)",
            ExpressionAttributeValues={":contact": {"S": contact_id}, ":message": {"S": message_id}},
        )
        return written is not None
