"""moto's SQS queues as the Lambda service reaches them: by the queue specs of the program's wiring."""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.wiring import QueueSpec


class Queues:
    def __init__(self, sqs: Any, moto_url: str, account_id: str, region: str) -> None:
        self.client = sqs
        self._moto_url = moto_url
        self._account_id = account_id
        self._region = region

    def url(self, queue: QueueSpec) -> str:
        return f"{self._moto_url}/{self._account_id}/{queue.name}"

    def send(self, queue: QueueSpec, body: str, attributes: dict[str, str]) -> None:
        """One message with string attributes (a FIFO queue gets its own group and a fresh deduplication id)."""
        kwargs: dict[str, Any] = {
            "QueueUrl": self.url(queue),
            "MessageBody": body,
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        }
        if queue.fifo:
            kwargs.update(MessageGroupId="dead-letters", MessageDeduplicationId=str(uuid.uuid4()))
        self.client.send_message(**kwargs)

    def depth(self, queue: QueueSpec) -> int:
        """Messages visible in the queue now (ApproximateNumberOfMessages), read from moto in this process: the
        dashboard samples every queue each minute of a replay, a day of virtual time thousands of times."""
        from sandbox.moto_internals import queue_depth

        return queue_depth(self._account_id, self._region, queue.name)
