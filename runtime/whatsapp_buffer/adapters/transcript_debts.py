"""DynamoDB adapter for the transcripts owed to chats: items of the sessions table, but not sessions.

A delivery that brings a recording before Transcribe has finished owes the chat its transcript; the debt records who
is owed it, and its conditional writes decide who posts it (the job's completion or the fallback sweep), never
timing. Kept apart from `sessions_table` because only a stack that transcribes has them, they have their own
lifecycle (owed -> claimed -> paid) and index, and the IAM policy grants them apart from the sessions (by their key
prefix). Hash key `transcript-owed#<job name>`; no `contact_id`, so the sparse `by-contact` index never sees them.
"""

from __future__ import annotations

from typing import Any

import boto3

from whatsapp_buffer.adapters.aws_errors import DYNAMODB, conditional_write
from whatsapp_buffer.inbound.ports import CLAIMED, OWED, PAID, TranscriptDebt
from whatsapp_buffer.storage_keys import DEBT_OPEN, DEBT_PREFIX, OWED_AT, OWED_INDEX

OPEN = "open"
"""`DEBT_OPEN` of a debt not yet paid: `record` writes it and `OWED_AT`, `pay` removes it, so the fallback sweep
(`LateTranscripts.sweep`) reads only the debts still open in the sparse `owed-since` index (`OWED_INDEX`), never the
table. DynamoDB developer guide, "Take advantage of sparse indexes": "For any item in a table, DynamoDB writes a
corresponding index entry only if the index sort key value is present in the item"; "Global secondary indexes are
sparse by default ... Only items in the base table that contain those attributes appear in the index"."""


def _debt_from_item(item: dict[str, Any]) -> TranscriptDebt:
    return TranscriptDebt(
        job=item["conversation"]["S"][len(DEBT_PREFIX) :],
        conversation=item["owed_to"]["S"],
        contact_id=item["owed_contact"]["S"],
        client_token=item["client_token"]["S"],
        label=item["label"]["S"],
        expires_at=int(float(item["expires_at"]["N"])),
        state=item["debt_state"]["S"],
        owed_at=float(item.get(OWED_AT, {}).get("N", "0")),
        reply_to=item.get("reply_to", {}).get("S", ""),
    )


class TranscriptDebtItems:
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
            DEBT_OPEN: {"S": OPEN},
            OWED_AT: {"N": repr(float(debt.owed_at))},
            **({"reply_to": {"S": debt.reply_to}} if debt.reply_to else {}),
        }
        written = conditional_write(
            "record a transcript owed",
            self._client.put_item,
            TableName=self._table,
            Item=item,
            ConditionExpression="attribute_not_exists(conversation)",
        )
        return written is not None

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
            "KeyConditionExpression": f"{DEBT_OPEN} = :open AND {OWED_AT} < :cutoff",
            "ExpressionAttributeValues": {":open": {"S": OPEN}, ":cutoff": {"N": repr(float(cutoff))}},
        }
        while True:
            with DYNAMODB.translating("read the transcripts still owed"):
                response = self._client.query(**kwargs)
            for item in response.get("Items", []):
                key = item["conversation"]["S"]
                if key.startswith(DEBT_PREFIX):
                    found.append((key[len(DEBT_PREFIX) :], float(item[OWED_AT]["N"])))
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def claim(self, job: str, now: float, lease_seconds: float) -> TranscriptDebt | None:
        """Take the debt to post it: only one caller gets it while it is owed (or its claim is older than
        `lease_seconds`, a claimant that died); None for a debt paid, claimed, or never owed."""
        response = conditional_write(
            "claim a transcript owed",
            self._client.update_item,
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
        return None if response is None else _debt_from_item(response["Attributes"])

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
                UpdateExpression=f"SET debt_state = :paid, outcome = :outcome REMOVE {DEBT_OPEN}",
                ExpressionAttributeValues={":paid": {"S": PAID}, ":outcome": {"S": outcome}},
            )
