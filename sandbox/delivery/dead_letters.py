"""Where a delivery path gives up on an event: the replay's list of rejected inputs, and the SQS queue the function's
configuration names for it, written with the function's role as Lambda writes it.

* async invoke (SNS): an on-failure destination gets Lambda's invocation record (the event inside, the error in
  `responsePayload`); a dead-letter queue gets the event itself, the error in message attributes;
* stream mapping: the on-failure destination gets the batch's metadata, never its records.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sandbox.delivery.queues import Queues
from sandbox.delivery.scheduler import VirtualClock, iso
from sandbox.iam_check import RoleCheck
from sandbox.lambdas import Invocation
from sandbox.wiring import FunctionSpec, QueueSpec, Wiring


@dataclass
class DeadLetter:
    at: float
    """When the input reached the function's trigger (trace seconds)."""
    function: str
    source: str
    error_type: str | None
    reason: str
    event: Any
    dead_lettered_at: float = 0.0


class DeadLetters:
    def __init__(self, wiring: Wiring, clock: VirtualClock, queues: Queues, roles: RoleCheck) -> None:
        self.wiring = wiring
        self.clock = clock
        self.queues = queues
        self.roles = roles
        self.letters: list[DeadLetter] = []

    def async_retries_exhausted(
        self, spec: FunctionSpec, event: Any, invocation: Invocation, first_at: float, source: str = "sns"
    ) -> None:
        """An event (SNS, EventBridge) whose async invoke failed every attempt."""
        reason = f"{invocation.error_type}: {invocation.error_message}"
        self.letters.append(
            DeadLetter(first_at, spec.key, source, invocation.error_type, reason, event, self.clock.elapsed)
        )
        queue = self._sqs_target(spec.key, spec.async_failure_arn)
        if queue is None:
            return
        request_id = str(uuid.uuid4())
        if spec.async_failure_is_destination:
            record = {
                "version": "1.0",
                "timestamp": iso(self.clock.now),
                "requestContext": {
                    "requestId": request_id,
                    "functionArn": f"{spec.arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": spec.async_retries + 1,
                },
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                "responsePayload": {"errorType": invocation.error_type, "errorMessage": invocation.error_message},
            }
            self.queues.send(queue, json.dumps(record), {})
        else:
            self.queues.send(
                queue, json.dumps(event), {"ErrorCode": "200", "ErrorMessage": reason[:1000], "RequestID": request_id}
            )

    def stream_batch_dropped(
        self,
        key: str,
        on_failure_arn: str | None,
        invocation: Invocation | None,
        records: int,
        *,
        final: bool,
        condition: str = "RetryAttemptsExhausted",
    ) -> None:
        """A stream batch the mapping gave up on: retries exhausted (after `invocation` failed), or, with no
        invocation, dropped by the `stream-drop` fault (`condition` names why, as the invocation record does)."""
        if invocation is None:
            error, reason = condition, f"{condition}: the stream mapping gave up on the batch (stream-drop fault)"
        else:
            error = invocation.error_type or "BatchItemFailures"
            reason = f"{invocation.error_type or 'batch item failures'}: {invocation.error_message or ''}".strip()
        now = self.clock.elapsed
        self.letters.append(DeadLetter(now, key, "stream", error, reason, {"records": records, "final": final}, now))
        queue = self._sqs_target(key, on_failure_arn)
        if queue is not None:
            self.queues.send(queue, json.dumps({"requestContext": {"condition": condition}, "records": records}), {})

    def queue_receives_exhausted(
        self,
        key: str,
        queue: QueueSpec,
        invocation: Invocation,
        receives: int,
        first_received_at: float,
        moves_at: float,
    ) -> None:
        """A message of an SQS-mapped queue that failed its last allowed receive: the queue's redrive policy moves it to
        its dead-letter queue once it is visible again (botocore's SQS RedrivePolicy: "When the ReceiveCount for a
        message exceeds the maxReceiveCount for a queue, Amazon SQS moves the message to the dead-letter-queue"; moto
        does the moving), and the replay lists it with the function's error."""
        error = invocation.error_type or "BatchItemFailures"
        reason = f"{error}: moved to {queue.dead_letter_arn.rsplit(':', 1)[-1] if queue.dead_letter_arn else 'its dead-letter queue'} after {receives} receives"
        self.letters.append(DeadLetter(first_received_at, key, "sqs", error, reason, {"queue": queue.name}, moves_at))

    def _sqs_target(self, key: str, arn: str | None) -> QueueSpec | None:
        """The queue behind an on-failure ARN, once the function's role is known to allow sending to it."""
        if not arn or ":sqs:" not in arn:
            return None
        queue = self.wiring.queue_by_arn(arn)
        self.roles.service_side(key, [("sqs:SendMessage", queue.arn)])
        return queue
