"""CloudWatch alarms: every dead-letter path, the stream consumer, every function and the bursts queue are watched,
and alarms notify what `alarmEmail` / `alarmTopicArn` say (or nobody)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from infra_helpers import function, policy, statements

from components.alarms import BURSTS_AGE_THRESHOLD_SECONDS, ITERATOR_AGE_THRESHOLD_SECONDS, REFUSALS_THRESHOLD
from sandbox.program import ACCOUNT_ID, ResourceGraph, deployed_graph
from whatsapp_buffer.settings import FUNCTIONS

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ALARMS = 20
"""How many alarms the program declares, whatever notifies them."""
EXISTING_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:ops-pager"
README = Path(__file__).resolve().parents[2] / "README.md"


def alarms_on(graph: ResourceGraph, namespace: str, metric: str) -> dict[str, dict]:
    """Alarms on one metric, by the dimension value they watch (queue or function name)."""
    found = {}
    for alarm in graph.by_type(ALARM):
        inputs = alarm.inputs
        if (inputs["namespace"], inputs["metricName"]) == (namespace, metric):
            (watched,) = inputs["dimensions"].values()
            found[watched] = inputs
    return found


def dead_letter_queue_arns(graph: ResourceGraph) -> set[str]:
    """Every queue the program sends failures to: redrive targets, on-failure destinations, SNS redrive."""
    arns = set()
    for queue in graph.by_type("aws:sqs/queue:Queue"):
        if queue.inputs.get("redrivePolicy"):
            arns.add(json.loads(queue.inputs["redrivePolicy"])["deadLetterTargetArn"])
    for subscription in graph.by_type("aws:sns/topicSubscription:TopicSubscription"):
        if subscription.inputs.get("redrivePolicy"):
            arns.add(json.loads(subscription.inputs["redrivePolicy"])["deadLetterTargetArn"])
    for config in graph.by_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        arns.add(config.inputs["destinationConfig"]["onFailure"]["destination"])
    for mapping in graph.by_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        on_failure = (mapping.inputs.get("destinationConfig") or {}).get("onFailure") or {}
        if on_failure.get("destinationArn"):
            arns.add(on_failure["destinationArn"])
    return arns


def test_every_dead_letter_and_failure_queue_alarms_on_its_first_message(graph):
    queues = {q.outputs["arn"]: q.outputs["name"] for q in graph.by_type("aws:sqs/queue:Queue")}
    dead_letter_names = {queues[arn] for arn in dead_letter_queue_arns(graph)}
    depth = alarms_on(graph, "AWS/SQS", "ApproximateNumberOfMessagesVisible")

    assert len(dead_letter_names) == 5
    assert set(depth) == dead_letter_names
    for alarm in depth.values():
        assert (alarm["statistic"], alarm["comparisonOperator"], alarm["threshold"]) == (
            "Maximum",
            "GreaterThanThreshold",
            0,
        )
        assert alarm["evaluationPeriods"] == 1


def test_aggregator_stream_iterator_age_alarms_when_it_falls_minutes_behind(graph):
    aggregator = function(graph, "aggregator").outputs["name"]
    stream_consumers = {
        m.inputs["functionName"]
        for m in graph.by_type("aws:lambda/eventSourceMapping:EventSourceMapping")
        if "/stream/" in m.inputs["eventSourceArn"]
    }

    (alarm,) = alarms_on(graph, "AWS/Lambda", "IteratorAge").items()

    # The inbound function reads refusal items off the same stream, but its mapping drops records older than
    # RECORDINGS_MAX_AGE_SECONDS, so it cannot fall minutes behind: the aggregator's is the one that can.
    assert stream_consumers == {function(graph, "aggregator").outputs["arn"], function(graph, "inbound").outputs["arn"]}
    assert alarm[0] == aggregator
    assert alarm[1]["statistic"] == "Maximum"
    assert alarm[1]["threshold"] == ITERATOR_AGE_THRESHOLD_SECONDS * 1000  # IteratorAge is in milliseconds
    assert alarm[1]["evaluationPeriods"] == alarm[1]["datapointsToAlarm"] > 1


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_alarms_on_any_error_and_any_throttle(graph, metric):
    watched = alarms_on(graph, "AWS/Lambda", metric)

    assert set(watched) == {function(graph, name).outputs["name"] for name in FUNCTIONS}
    for alarm in watched.values():
        assert (alarm["statistic"], alarm["threshold"], alarm["period"]) == ("Sum", 0, 300)


def test_a_spike_of_refused_agent_replies_alarms_on_the_outbound_functions_metric(graph):
    (alarm,) = alarms_on(graph, "WhatsAppBuffer", "RepliesRefused").items()

    outbound_env = function(graph, "outbound").inputs["environment"]["variables"]
    assert alarm[0] == outbound_env["POWERTOOLS_SERVICE_NAME"]
    assert (alarm[1]["statistic"], alarm[1]["threshold"], alarm[1]["period"]) == ("Sum", REFUSALS_THRESHOLD, 900)


def test_bursts_queue_alarms_when_its_oldest_burst_waits_minutes(graph):
    (alarm,) = alarms_on(graph, "AWS/SQS", "ApproximateAgeOfOldestMessage").items()

    assert alarm[0] == graph.get("whatsapp-buffer-stream-aggregator-bursts").outputs["name"]
    assert alarm[1]["threshold"] == BURSTS_AGE_THRESHOLD_SECONDS
    assert alarm[1]["evaluationPeriods"] == alarm[1]["datapointsToAlarm"] > 1


def test_alarms_belong_to_the_component_owning_what_they_watch(graph):
    owners = {r.urn: r.name for r in graph.resources if r.type.startswith("whatsapp-buffer:index:")}
    by_owner: dict[str, set[str]] = {}
    for alarm in graph.by_type(ALARM):
        by_owner.setdefault(owners[alarm.parent], set()).add(alarm.inputs["name"].removeprefix("whatsapp-buffer-dev-"))

    assert by_owner == {
        "whatsapp-buffer-buffered-ingest": {"ingest-dlq-depth", "ingest-errors", "ingest-throttles"},
        "whatsapp-buffer-stream-aggregator": {
            "bursts-dlq-depth",
            "aggregator-failures-depth",
            "bursts-age",
            "aggregator-iterator-age",
            "aggregator-errors",
            "aggregator-throttles",
            "sweeper-errors",
            "sweeper-throttles",
        },
        "whatsapp-buffer-connect-bridge": {
            "outbound-dlq-depth",
            "raw-stream-failures-depth",
            "inbound-errors",
            "inbound-throttles",
            "outbound-errors",
            "outbound-throttles",
            "replies-refused",
        },
        "whatsapp-buffer-contact-flow-outreach": {"outreach-errors", "outreach-throttles"},
    }


def test_alarm_names_are_scoped_to_the_stack_and_treat_silence_as_healthy(graph):
    alarms = graph.by_type(ALARM)
    other_stack = {a.inputs["name"] for a in deployed_graph(stack="prod").by_type(ALARM)}

    assert len({a.inputs["name"] for a in alarms}) == len(alarms) == ALARMS
    assert all(a.inputs["name"].startswith("whatsapp-buffer-dev-") for a in alarms)
    assert other_stack.isdisjoint(a.inputs["name"] for a in alarms)
    assert all(a.inputs["treatMissingData"] == "notBreaching" for a in alarms)


def test_without_alarm_config_alarms_exist_and_notify_nobody(graph):
    alarms = graph.by_type(ALARM)

    assert len(alarms) == ALARMS
    assert all(a.inputs.get("alarmActions", []) == [] for a in alarms)
    assert not graph.by_type("whatsapp-buffer:index:AlarmNotifications")
    assert "alarmTopicArn" not in graph.stack_outputs


def test_an_existing_alarm_topic_is_notified_of_alarms_and_their_recovery():
    graph = deployed_graph({"alarmTopicArn": EXISTING_TOPIC}, stack="dev")

    alarms = graph.by_type(ALARM)

    assert len(alarms) == ALARMS
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [EXISTING_TOPIC]
        assert alarm.inputs["okActions"] == [EXISTING_TOPIC]
    assert not graph.by_type("whatsapp-buffer:index:AlarmNotifications")


def test_alarm_email_gets_an_encrypted_topic_its_own_component_and_a_subscription():
    graph = deployed_graph({"alarmEmail": "ops@example.com"}, stack="dev")
    (component,) = graph.by_type("whatsapp-buffer:index:AlarmNotifications")
    topic = graph.get("whatsapp-buffer-alarm-notifications-topic")
    key = graph.get("whatsapp-buffer-alarm-notifications-topic-key")
    subscription = graph.get("whatsapp-buffer-alarm-notifications-email").inputs

    assert {r.name for r in graph.children_of(component.urn)} == {
        "whatsapp-buffer-alarm-notifications-topic",
        "whatsapp-buffer-alarm-notifications-topic-key",
        "whatsapp-buffer-alarm-notifications-topic-policy",
        "whatsapp-buffer-alarm-notifications-email",
    }
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    (service,) = [s for s in statements(policy(key)) if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert service["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert (subscription["protocol"], subscription["endpoint"], subscription["topic"]) == (
        "email",
        "ops@example.com",
        topic.outputs["arn"],
    )
    alarms = graph.by_type(ALARM)
    assert len(alarms) == ALARMS
    assert all(a.inputs["alarmActions"] == [topic.outputs["arn"]] for a in alarms)
    assert graph.stack_outputs["alarmTopicArn"] == topic.outputs["arn"]


def test_alarm_email_and_an_existing_topic_are_both_notified():
    graph = deployed_graph({"alarmEmail": "ops@example.com", "alarmTopicArn": EXISTING_TOPIC}, stack="dev")
    created = graph.get("whatsapp-buffer-alarm-notifications-topic").outputs["arn"]
    alarms = graph.by_type(ALARM)

    assert len(alarms) == ALARMS
    assert all(a.inputs["alarmActions"] == [EXISTING_TOPIC, created] for a in alarms)


def test_every_alarm_points_at_the_runbook_and_the_runbook_covers_it(graph):
    runbook = README.read_text().split("## Operations: alarms and what to do", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`<prefix>-([a-z-]+)`", runbook))
    alarms = graph.by_type(ALARM)

    assert len(alarms) == ALARMS
    for alarm in alarms:
        assert "Operations: alarms and what to do" in alarm.inputs["alarmDescription"]
        assert alarm.inputs["name"].removeprefix("whatsapp-buffer-dev-") in documented
