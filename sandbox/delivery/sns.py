"""SNS -> Lambda: each publish reaches every subscribed function whose filter policy matches, as an asynchronous
invoke. A failed invoke is retried (the function's MaximumRetryAttempts, 1 then 2 minutes after the failed attempt ended;
a timed-out attempt ends when the function's timeout has passed); then its event goes
to the function's on-failure destination or dead-letter queue (sandbox.delivery.dead_letters), as Lambda does.

At-least-once delivery: with the `sns-dup` fault mix an event is delivered a second time, up to 30 s later.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox import filters
from sandbox.delivery.dead_letters import DeadLetters
from sandbox.delivery.functions import AsyncDeliveryPath, Functions
from sandbox.delivery.scheduler import Scheduler, iso
from sandbox.faults import FaultPlan
from sandbox.wiring import Wiring

SNS_DELIVERY_DELAY = 0.05
"""Seconds from an SNS publish to the Lambda invoke."""


class SnsToLambda(AsyncDeliveryPath):
    source = "sns"

    def __init__(
        self, wiring: Wiring, scheduler: Scheduler, functions: Functions, dead_letters: DeadLetters, faults: FaultPlan
    ) -> None:
        super().__init__(wiring, scheduler, functions, dead_letters)
        self.faults = faults
        self._rng = faults.rng("sns")
        self.duplicates = 0
        """Events delivered a second time (the `sns-dup` fault mix)."""

    def publish(self, topic_arn: str, message: str, attributes: dict[str, str] | None = None) -> None:
        """An SNS publish to `topic_arn`: deliver to every Lambda subscription whose filter policy matches."""
        attributes = attributes or {}
        for subscription in self.wiring.subscriptions:
            if subscription.topic_arn != topic_arn:
                continue
            if not filters.sns_attributes_match(subscription.filter_policy, attributes):
                continue
            event = self._event(topic_arn, message, attributes)
            deliveries = [SNS_DELIVERY_DELAY]
            if self._rng.random() < self.faults.sns_duplicate_rate:
                deliveries.append(SNS_DELIVERY_DELAY + self._rng.uniform(0.1, 30.0))  # at-least-once: a second copy
                self.duplicates += 1
            self.deliver(subscription.function, event, deliveries)

    def _event(self, topic_arn: str, message: str, attributes: dict[str, str]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": str(uuid.uuid4()),
                        "TopicArn": topic_arn,
                        "Subject": None,
                        "Message": message,
                        "Timestamp": iso(self.clock.now),
                        "SignatureVersion": "1",
                        "Signature": "sandbox",
                        "SigningCertUrl": "https://sns.invalid/cert.pem",
                        "UnsubscribeUrl": "https://sns.invalid/unsubscribe",
                        "MessageAttributes": {k: {"Type": "String", "Value": v} for k, v in attributes.items()},
                    },
                }
            ]
        }
