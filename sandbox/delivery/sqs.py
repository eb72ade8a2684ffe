"""SQS (FIFO) -> Lambda: an event source mapping polling the queue, as Lambda runs one.

Batches up to the mapping's size (at most 10 per receive); a batch's succeeded messages are deleted, and with
partial batch responses only the reported `batchItemFailures` stay. A failed message becomes visible again after
the queue's visibility timeout, in virtual time; moto's redrive policy moves it to the dead-letter queue after
maxReceiveCount receives, and the replay lists such a message among its dead letters (sandbox.delivery.dead_letters).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from sandbox.delivery.dead_letters import DeadLetters
from sandbox.delivery.functions import DeliveryPath, Functions
from sandbox.delivery.queues import Queues
from sandbox.delivery.scheduler import Scheduler
from sandbox.iam_check import RoleCheck
from sandbox.sdk_events import ApiCall
from sandbox.wiring import QueueSpec, Wiring

SQS_POLL_DELAY = 0.05
HIDDEN = 43_200
"""Real-time visibility timeout that keeps a failed message hidden in moto until virtual time releases it."""


class QueueToLambda(DeliveryPath):
    def __init__(
        self,
        wiring: Wiring,
        scheduler: Scheduler,
        functions: Functions,
        queues: Queues,
        dead_letters: DeadLetters | None = None,
    ) -> None:
        super().__init__(wiring, scheduler, functions)
        self.queues = queues
        self.dead_letters = dead_letters
        self._first_received: dict[str, float] = {}
        """message id -> when the mapping first received it (virtual elapsed seconds)."""
        self._sqs = queues.client
        self._poll_scheduled: set[str] = set()
        self.bursts_seen: dict[str, str] = {}
        """burst id -> the queue body that carried it (for the transcript)."""

    def check_role(self, roles: RoleCheck) -> None:
        """The calls Lambda makes with the function's role to poll the queue."""
        for mapping in self.wiring.queue_mappings:
            queue = self.wiring.queues[mapping.queue]
            roles.service_side(
                mapping.function,
                [(f"sqs:{a}", queue.arn) for a in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")],
            )

    def notice_calls(self, calls: list[ApiCall]) -> None:
        """A handler sent to a mapped queue: poll it."""
        for call in calls:
            if call.service == "sqs" and call.operation in ("SendMessage", "SendMessageBatch") and not call.error:
                queue = self.wiring.queue_by_url(call.params.get("QueueUrl", ""))
                if queue is not None:
                    self._schedule_poll(queue.name)

    def _schedule_poll(self, queue_name: str) -> None:
        if queue_name in self._poll_scheduled:
            return
        if not any(m.queue == queue_name for m in self.wiring.queue_mappings):
            return
        self._poll_scheduled.add(queue_name)
        self.scheduler.after(SQS_POLL_DELAY, f"poll->{queue_name}", lambda: self._poll(queue_name))

    def _poll(self, queue_name: str) -> None:
        self._poll_scheduled.discard(queue_name)
        mapping = next(m for m in self.wiring.queue_mappings if m.queue == queue_name)
        queue = self.wiring.queues[queue_name]
        url = self.queues.url(queue)
        while True:
            response = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(mapping.batch_size, 10),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                VisibilityTimeout=HIDDEN,
            )
            messages = response.get("Messages", [])
            if not messages:
                return
            for message in messages:
                self._remember_burst(message["Body"])
                self._first_received.setdefault(message["MessageId"], self.scheduler.clock.elapsed)
            event = {"Records": [self._record(queue, m) for m in messages]}
            invocation = self.functions.invoke(mapping.function, event)
            if invocation.ok:
                result = invocation.result if isinstance(invocation.result, dict) else {}
                failed = {f.get("itemIdentifier") for f in (result.get("batchItemFailures") or [])}
            else:
                failed = {m["MessageId"] for m in messages}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self._sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
            for message in messages:
                if message["MessageId"] in failed:
                    self._note_if_last_receive(mapping.function, queue, message, invocation)
                    self.scheduler.after(
                        queue.visibility_timeout_s,
                        f"visible-again->{queue_name}",
                        functools.partial(self._release, queue_name, message["ReceiptHandle"]),
                    )

    def _note_if_last_receive(self, function: str, queue: QueueSpec, message: dict[str, Any], invocation: Any) -> None:
        receives = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
        if self.dead_letters is None or not queue.dead_letter_arn or not queue.max_receive_count:
            return
        if receives >= queue.max_receive_count:
            self.dead_letters.queue_receives_exhausted(
                function,
                queue,
                invocation,
                receives,
                self._first_received.get(message["MessageId"], self.scheduler.clock.elapsed),
                self.scheduler.clock.elapsed + queue.visibility_timeout_s,
            )

    def _release(self, queue_name: str, receipt: str) -> None:
        queue = self.wiring.queues[queue_name]
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self.queues.url(queue), ReceiptHandle=receipt, VisibilityTimeout=0
            )
        except self._sqs.exceptions.ReceiptHandleIsInvalid:
            return
        self._schedule_poll(queue_name)

    def _remember_burst(self, body: str) -> None:
        try:
            burst_id = json.loads(body).get("burst_id")
        except (ValueError, AttributeError):
            return
        if burst_id:
            self.bursts_seen.setdefault(burst_id, body)

    def _record(self, queue: QueueSpec, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType", "String")}
                for k, v in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue.arn,
            "awsRegion": self.wiring.account.region,
        }
