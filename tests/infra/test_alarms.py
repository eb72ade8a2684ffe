"""CloudWatch alarms: every dead-letter path, the stream consumer, every function and the bursts queue are watched,
and alarms notify what `alarmEmail` / `alarmTopicArn` say (or nobody)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from infra_helpers import as_list, function, policy, statements

from components.alarms import BURSTS_AGE_THRESHOLD_SECONDS, ITERATOR_AGE_THRESHOLD_SECONDS, REFUSALS_THRESHOLD
from sandbox.program import ACCOUNT_ID, ResourceGraph, deployed_graph, run_program
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


# --- who may publish to an alarm topic ------------------------------------------------------------------------------
# CloudWatch publishes an alarm's notification acting for the alarm: aws:SourceArn is the alarm's ARN. AWS's SNS
# Developer Guide ("Allow any CloudWatch alarm to publish to a topic in a different account",
# https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html) admits every alarm of an account with
#     "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-2:111122223333:alarm:*"}
# and AWS's knowledge center (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger) quotes the
# refusal an alarm the policy does not admit gets: "Resource: arn:aws:cloudwatch:us-east-1:ACCOUNT_ID:alarm:ALARM_NAME
# is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:ACCOUNT_ID:TOPIC_NAME", narrowing the
# grant to one alarm with "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:ACCOUNT_ID:alarm:ALARM_NAME"}.
# How IAM compares (IAM User Guide, "IAM JSON policy elements: Condition operators"): "ArnEquals, ArnLike:
# Case-sensitive matching of the ARN. Each of the six colon-delimited components of the ARN is checked separately and
# each can include multi-character match wildcards (*) or single-character match wildcards (?). The ArnEquals and
# ArnLike condition operators behave identically." And ("IAM JSON policy elements: Condition"): "If a single condition
# operator includes multiple values for one key, that condition operator is evaluated using a logical OR."

NESTED_PREFIXES = Path(__file__).parent / "programs" / "nested_prefixes.py"
SUPPORT_CENTER = Path(__file__).resolve().parents[2] / "examples" / "support_center"


def _wildcards(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


def _arn_matches(pattern: str, arn: str) -> bool:
    """ArnEquals / ArnLike: each of the six colon-delimited components apart, case-sensitive, `*` and `?` wildcards."""
    patterns, parts = pattern.split(":", 5), arn.split(":", 5)
    return len(patterns) == len(parts) == 6 and all(
        _wildcards(p).fullmatch(v) for p, v in zip(patterns, parts, strict=True)
    )


def _string_matches(pattern: str, value: str, *, like: bool) -> bool:
    return bool(_wildcards(pattern).fullmatch(value)) if like else pattern == value


def admits(statement: dict, topic_arn: str, *, source_arn: str, source_account: str = ACCOUNT_ID) -> bool:
    """Whether an Allow statement of a topic policy lets CloudWatch publish to the topic for the alarm `source_arn`.
    Each operator must hold (AND); any value of a key may match (OR). An operator this does not know fails the test."""
    if statement["Effect"] != "Allow" or statement["Principal"] != {"Service": "cloudwatch.amazonaws.com"}:
        return False
    if not any(_string_matches(a.lower(), "sns:publish", like=True) for a in as_list(statement["Action"])):
        return False
    if not any(_arn_matches(r, topic_arn) for r in as_list(statement["Resource"])):
        return False
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
    compare = {
        "ArnEquals": _arn_matches,
        "ArnLike": _arn_matches,
        "StringEquals": lambda p, v: _string_matches(p, v, like=False),
        "StringLike": lambda p, v: _string_matches(p, v, like=True),
    }
    for operator, keys in statement.get("Condition", {}).items():
        for key, values in keys.items():  # condition key names are case-insensitive
            if not any(compare[operator](value, context[key.lower()]) for value in as_list(values)):
                return False
    return True


def _descendants(graph: ResourceGraph, urn: str) -> list:
    children = graph.children_of(urn)
    return children + [d for child in children for d in _descendants(graph, child.urn)]


def test_each_alarm_topic_admits_every_alarm_of_its_own_bridge_and_none_of_a_bridge_whose_prefix_extends_its_own(
    monkeypatch,
):
    # GIVEN three bridges of one stack whose alarm names nest: contact-center-dev-…, -dev-sales-…, -dev-sales-eu-…
    monkeypatch.chdir(SUPPORT_CENTER)
    graph = run_program(
        {},
        project="contact-center",
        program=NESTED_PREFIXES,
        stack_file=SUPPORT_CENTER / "Pulumi.dev.yaml",
        project_file=SUPPORT_CENTER / "Pulumi.yaml",
    )
    every_alarm = {a.outputs["arn"] for a in graph.by_type(ALARM)}
    bridges = {b.name: b for b in graph.by_type("whatsapp-buffer:index:WhatsAppBuffer")}
    counted = {}
    for name, bridge in bridges.items():
        own = _descendants(graph, bridge.urn)
        own_alarms = {r.outputs["arn"] for r in own if r.type == ALARM}
        (topic,) = [r for r in own if r.type == "aws:sns/topic:Topic" and r.name == f"{name}-alarm-notifications-topic"]
        (statement,) = statements(policy(graph.get(f"{topic.name}-policy")))

        # WHEN CloudWatch publishes for each alarm of the stack
        admitted = {arn for arn in every_alarm if admits(statement, topic.outputs["arn"], source_arn=arn)}

        # THEN the topic takes its own bridge's alarms, every one, and no other bridge's
        assert admitted == own_alarms, name
        assert not admits(
            statement, topic.outputs["arn"], source_arn=next(iter(own_alarms)), source_account="999999999999"
        )
        counted[name] = len(admitted)
    assert counted == {"support": 20, "sales": 20, "sales-eu": 22}
    assert len(every_alarm) == sum(counted.values())

    # The account-wide pattern this replaced would have let the first bridge's topic take every bridge's alarms.
    support_topic = graph.get("support-alarm-notifications-topic").outputs["arn"]
    by_prefix = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": support_topic,
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT_ID}:alarm:contact-center-dev-*"}
        },
    }
    assert {arn for arn in every_alarm if admits(by_prefix, support_topic, source_arn=arn)} == every_alarm
