"""SQS FIFO adapter for the bursts queue: one message per burst, ordered and serialised per conversation.

`MessageGroupId` = conversation key, or its digest when the key is longer than a group id may be (two bursts of one
customer never race in the inbound function);
`MessageDeduplicationId` = burst id, so a burst resent after a crash within SQS's 5-minute dedupe interval is dropped
by SQS (and later than that by the inbound function's idempotency on the same id).
"""

from __future__ import annotations

import hashlib
from typing import Any

import boto3
import botocore.config

from whatsapp_buffer.adapters.aws_errors import SQS
from whatsapp_buffer.model import Burst, Conversation, TypingSignal

MAX_GROUP_ID_CHARS = 128
"""botocore SQS SendMessage, MessageGroupId: "The length of MessageGroupId is 128 characters. Valid values: alphanumeric
characters and punctuation"."""


def message_group_id(conversation: Conversation) -> str:
    """The conversation's FIFO group: its key, or for a key over `MAX_GROUP_ID_CHARS` (a long BSUID: up to 135
    characters beside a business number of up to 63) `sha256:` and the key's hex digest, as stable as the key and
    unlike any key (a key holds `#`)."""
    key = conversation.key
    if len(key) <= MAX_GROUP_ID_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class BurstsFifoQueue:
    """The bursts FIFO queue. Built once per cold start; tests hand in a client of a moto queue."""

    def __init__(self, queue_url: str, client: Any | None = None, *, max_connections: int = 10) -> None:
        """`max_connections`: the client's HTTP pool, at least the number of threads that send at once."""
        self.queue_url = queue_url
        self.client = (
            client
            if client is not None
            else boto3.client("sqs", config=botocore.config.Config(max_pool_connections=max_connections))
        )

    def send(self, burst: Burst) -> str:
        """Put the burst on the queue; returns the SQS message id."""
        with SQS.translating("SendMessage"):
            response = self.client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=burst.to_json(),
                MessageGroupId=message_group_id(burst.conversation),
                MessageDeduplicationId=burst.burst_id,
            )
        return str(response.get("MessageId", ""))

    def send_typing(self, signal: TypingSignal, slot: str) -> None:
        """Put a typing signal in the conversation's group. `slot` names the refresh it is: a retried window end sends
        the same slot, which SQS's deduplication drops."""
        dedupe = hashlib.sha256(f"typing\n{signal.conversation.key}\n{slot}".encode()).hexdigest()
        with SQS.translating("SendMessage"):
            self.client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=signal.to_json(),
                MessageGroupId=message_group_id(signal.conversation),
                MessageDeduplicationId=dedupe,
            )
