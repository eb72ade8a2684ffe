"""CloudWatch alarms on what loses or delays customer messages, and the optional topic they notify.

Each component alarms on the resources it owns through its own `Alarms`, so an alarm lives beside what it watches.
Every alarm is named `<project>-<stack>-<what>` (two stacks never share one) and its description points at the
README's runbook section. Without `alarm_actions` the alarms still exist and show in the console; they just notify
nobody. The email topic admits exactly its bridge's alarms, each by its ARN (`AlarmNotifications.admit`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from components.topics import encrypted_topic, topic_policy

RUNBOOK = "README.md, 'Operations: alarms and what to do'"
SERVICE = "cloudwatch.amazonaws.com"
"""The service principal that publishes alarm notifications."""

MINUTE = 60
FUNCTION_ALARM_PERIOD_SECONDS = 5 * MINUTE
ITERATOR_AGE_THRESHOLD_SECONDS = 2 * MINUTE
"""The aggregator reads control records within seconds when healthy; the debounce waits happen in the table, not on
the stream, so a record this old means the shard is stuck on a failing window (retries until the record is an hour
old, then its batch goes to the failures queue)."""
BURSTS_AGE_THRESHOLD_SECONDS = 5 * MINUTE
"""The inbound function takes a burst within seconds; one waiting this long means deliveries to Connect are failing
and being retried (every later burst of that conversation waits behind it)."""
REFUSALS_PERIOD_SECONDS = 15 * MINUTE
REFUSALS_THRESHOLD = 10
"""More than this many agent replies refused by WhatsApp (or withheld because its window is closed) within
`REFUSALS_PERIOD_SECONDS`: agents are told one by one, but a spike means a pattern (long-running chats past the
24-hour window, a file type agents keep sending, a template or number problem) worth a look."""
SUSTAINED_MINUTES = 3
"""Age alarms fire only after this many consecutive minutes above the threshold, not on one slow batch."""


@dataclass
class FunctionAlarms:
    errors: aws.cloudwatch.MetricAlarm
    throttles: aws.cloudwatch.MetricAlarm


@dataclass(frozen=True)
class Alarms:
    """One component's alarms: children of `parent` named `<name>-<suffix>-alarm`, named `<project>-<stack>-<suffix>`
    in CloudWatch (the stack context), notifying `actions` (SNS topic ARNs; may be empty)."""

    name: str
    parent: pulumi.Resource
    context: StackContext
    actions: Sequence[pulumi.Input[str]] = ()
    created: list[aws.cloudwatch.MetricAlarm] = field(default_factory=list, init=False)
    """Every alarm made so far, in order: the topics they notify admit these and no other."""

    def metric(
        self,
        *,
        suffix: str,
        description: str,
        namespace: str,
        metric_name: str,
        dimensions: Mapping[str, pulumi.Input[str]],
        statistic: str,
        threshold: float,
        period_seconds: int = MINUTE,
        evaluation_periods: int = 1,
    ) -> aws.cloudwatch.MetricAlarm:
        """One alarm `<metric> > threshold`, notifying (and resolving to) `actions`."""
        actions = list(self.actions)
        alarm = aws.cloudwatch.MetricAlarm(
            f"{self.name}-{suffix}-alarm",
            name=self.context.physical_name(suffix, 255),
            alarm_description=f"{description} Runbook: {RUNBOOK}.",
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dict(dimensions),
            statistic=statistic,
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            period=period_seconds,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            # Idle queues and functions publish no datapoints: silence is healthy, not an alarm.
            treat_missing_data="notBreaching",
            actions_enabled=True,
            alarm_actions=actions,
            ok_actions=actions,
            opts=pulumi.ResourceOptions(parent=self.parent),
        )
        self.created.append(alarm)
        return alarm

    def _queue(self, queue: aws.sqs.Queue, metric_name: str, **alarm: Any) -> aws.cloudwatch.MetricAlarm:
        """An alarm on the worst value of one of SQS's per-queue metrics."""
        return self.metric(
            namespace="AWS/SQS",
            metric_name=metric_name,
            dimensions={"QueueName": queue.name},
            statistic="Maximum",
            **alarm,
        )

    def dead_letters(self, queue: aws.sqs.Queue, *, suffix: str, holds: str) -> aws.cloudwatch.MetricAlarm:
        """Fires as soon as one message waits on a dead-letter or failure queue: each one is work nobody finished."""
        description = f"Messages are waiting on a dead-letter queue: {holds}."
        return self._queue(
            queue, "ApproximateNumberOfMessagesVisible", suffix=f"{suffix}-depth", description=description, threshold=0
        )

    def queue_age(
        self, queue: aws.sqs.Queue, *, suffix: str, what: str, threshold_seconds: int
    ) -> aws.cloudwatch.MetricAlarm:
        """The oldest message of a work queue has waited too long, sustained."""
        description = f"The oldest {what} has waited over {threshold_seconds} s for {SUSTAINED_MINUTES} minutes."
        return self._queue(
            queue,
            "ApproximateAgeOfOldestMessage",
            suffix=f"{suffix}-age",
            description=description,
            threshold=threshold_seconds,
            evaluation_periods=SUSTAINED_MINUTES,
        )

    def iterator_age(self, function: aws.lambda_.Function, *, short_name: str) -> aws.cloudwatch.MetricAlarm:
        """The stream consumer falls behind: IteratorAge (milliseconds) above the threshold, sustained."""
        return self.metric(
            suffix=f"{short_name}-iterator-age",
            description=(
                f"The {short_name} function reads stream records over {ITERATOR_AGE_THRESHOLD_SECONDS} s old "
                f"for {SUSTAINED_MINUTES} minutes: bursts are late."
            ),
            namespace="AWS/Lambda",
            metric_name="IteratorAge",
            dimensions={"FunctionName": function.name},
            statistic="Maximum",
            threshold=ITERATOR_AGE_THRESHOLD_SECONDS * 1000,
            evaluation_periods=SUSTAINED_MINUTES,
        )

    def function(self, function: aws.lambda_.Function, *, short_name: str) -> FunctionAlarms:
        """Any failed or throttled invocation of the function within five minutes."""
        common: dict[str, Any] = {
            "namespace": "AWS/Lambda",
            "dimensions": {"FunctionName": function.name},
            "statistic": "Sum",
            "threshold": 0,
            "period_seconds": FUNCTION_ALARM_PERIOD_SECONDS,
        }
        return FunctionAlarms(
            errors=self.metric(
                suffix=f"{short_name}-errors",
                description=f"The {short_name} function failed invocations (it retries; what still fails is dead-lettered).",
                metric_name="Errors",
                **common,
            ),
            throttles=self.metric(
                suffix=f"{short_name}-throttles",
                description=f"The {short_name} function was throttled (account or reserved concurrency exhausted).",
                metric_name="Throttles",
                **common,
            ),
        )

    def refusals(self, *, namespace: str, service: str) -> aws.cloudwatch.MetricAlarm:
        """The outbound function's `RepliesRefused` (all reasons; the by-`Reason` series says which) spiking."""
        return self.metric(
            suffix="replies-refused",
            description=(
                f"More than {REFUSALS_THRESHOLD} agent replies did not reach WhatsApp customers within "
                f"{REFUSALS_PERIOD_SECONDS // MINUTE} minutes (each agent was told in the chat)."
            ),
            namespace=namespace,
            metric_name="RepliesRefused",
            dimensions={"service": service},
            statistic="Sum",
            threshold=REFUSALS_THRESHOLD,
            period_seconds=REFUSALS_PERIOD_SECONDS,
        )


@dataclass(frozen=True)
class AlarmNotificationsArgs:
    context: StackContext
    email: str


class AlarmNotifications(pulumi.ComponentResource):
    """An encrypted topic only its bridge's CloudWatch alarms may publish to, with an email subscription.

    AWS emails a confirmation link first; nothing arrives until the recipient confirms. The topic's policy comes
    with `admit`, once the bridge's alarms exist (they need the topic's ARN first).
    """

    topic: aws.sns.Topic
    key: aws.kms.Key

    def __init__(self, name: str, args: AlarmNotificationsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("whatsapp-buffer:index:AlarmNotifications", name, None, opts)
        self._name, self._context = name, args.context
        self.topic, self.key = encrypted_topic(f"{name}-topic", self, args.context, service=SERVICE)
        aws.sns.TopicSubscription(
            f"{name}-email",
            topic=self.topic.arn,
            protocol="email",
            endpoint=args.email,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"topicArn": self.topic.arn})

    def admit(self, alarms: Iterable[aws.cloudwatch.MetricAlarm]) -> aws.sns.TopicPolicy:
        """The topic's policy: CloudWatch publishes for these alarms only, each named by its ARN (alarm names of
        another bridge or stack of the account may start with this bridge's prefix, so a pattern would admit them)."""
        arns = [alarm.arn for alarm in alarms]
        if not arns:
            # Without an aws:SourceArn condition every alarm of the account could publish.
            raise ValueError(f"{self._name}: an alarm topic admits its bridge's alarms, and none were given")
        return topic_policy(f"{self._name}-topic", self, self._context, self.topic, service=SERVICE, source_arns=arns)


def alarm_actions(
    context: StackContext,
    *,
    email: str | None,
    topic_arn: str | None,
    name: str = "alarm-notifications",
    opts: pulumi.ResourceOptions | None = None,
) -> tuple[list[pulumi.Input[str]], AlarmNotifications | None]:
    """The topics alarms notify: an existing one (`alarmTopicArn`), a new email topic (`alarmEmail`), both or none.
    The email topic is the AlarmNotifications `name`, created with `opts` (its parent); once the alarms exist, the
    caller has it `admit` them."""
    actions: list[pulumi.Input[str]] = [topic_arn] if topic_arn else []
    notifications = None
    if email:
        notifications = AlarmNotifications(name, AlarmNotificationsArgs(context=context, email=email), opts)
        actions.append(notifications.topic.arn)
    return actions, notifications
