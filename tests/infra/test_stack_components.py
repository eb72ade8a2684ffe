"""The stage components, their children, and the settings of the resources the design relies on."""

from __future__ import annotations

import json

import pytest
from infra_helpers import function, policy, statements

from sandbox import filters
from sandbox.program import deployed_graph
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.settings import FUNCTIONS

COMPONENTS = {
    "whatsapp-buffer:index:Ingest": "whatsapp-buffer-buffered-ingest",
    "whatsapp-buffer:index:Aggregator": "whatsapp-buffer-stream-aggregator",
    "whatsapp-buffer:index:Inbound": "whatsapp-buffer-connect-bridge",
    "whatsapp-buffer:index:Outbound": "whatsapp-buffer-connect-bridge",
    "whatsapp-buffer:index:Outreach": "whatsapp-buffer-contact-flow-outreach",
}
"""Each stage's component and its name: the one its resources were deployed under, which their names begin with."""


def test_the_stack_holds_one_whatsapp_buffer_and_the_stage_components_are_its_children(graph):
    (bridge,) = graph.by_type("whatsapp-buffer:index:WhatsAppBuffer")
    assert bridge.name == "whatsapp-buffer"
    assert bridge.parent.endswith("pulumi:pulumi:Stack::whatsapp-buffer-dev")
    assert [
        r.name for r in graph.resources if r.parent and r.parent.endswith("pulumi:pulumi:Stack::whatsapp-buffer-dev")
    ] == ["whatsapp-buffer"]
    for type_token, name in COMPONENTS.items():
        (component,) = graph.by_type(type_token)

        assert component.name == name
        assert component.parent == bridge.urn


SHARED_COMPONENTS = {
    "whatsapp-buffer:index:SdkLayer": "whatsapp-buffer-sdk-layer",
    "whatsapp-buffer:index:MediaLayer": "whatsapp-buffer-media-layer",
}
"""Built once per stack and handed to the components (the layer every function lists, the inbound function's media
layer)."""
OPTIONAL_COMPONENTS = {"whatsapp-buffer:index:AlarmNotifications": "whatsapp-buffer-alarm-notifications"}
"""Declared only when configured (alarmEmail)."""
DASHBOARD = {"whatsapp-buffer:index:Dashboard": "whatsapp-buffer-dashboard"}
"""The stack's CloudWatch dashboard (components/dashboard.py)."""


@pytest.mark.parametrize("config", [{}, {"alarmEmail": "ops@example.com"}], ids=["sample-stack", "alarm-email"])
def test_every_aws_resource_is_a_child_of_a_component_and_named_after_it(config):
    graph = deployed_graph(config, stack="dev")
    kinds = {**COMPONENTS, **SHARED_COMPONENTS, **OPTIONAL_COMPONENTS, **DASHBOARD}
    components = {r.urn: r.name for r in graph.resources if r.type in kinds}

    for resource in graph.resources:
        if resource.type in kinds or resource.type == "whatsapp-buffer:index:WhatsAppBuffer":
            continue
        assert resource.parent in components, f"{resource.name} is not parented to a component"
        assert resource.name.startswith(components[resource.parent] + "-"), resource.name


def test_each_component_owns_the_resources_of_its_box(graph):
    def owned(component_type: str) -> set[tuple[str, str]]:
        (component,) = graph.by_type(f"whatsapp-buffer:index:{component_type}")
        return {(r.type.split(":")[-1], r.name) for r in graph.children_of(component.urn)}

    assert {
        ("Topic", "whatsapp-buffer-buffered-ingest-in-topic"),
        ("Table", "whatsapp-buffer-buffered-ingest-raw-table"),
        ("Queue", "whatsapp-buffer-buffered-ingest-dlq"),
        ("Function", "whatsapp-buffer-buffered-ingest-ingest-function"),
        ("TopicSubscription", "whatsapp-buffer-buffered-ingest-ingest-subscription"),
    } <= owned("Ingest")
    assert {
        ("EventSourceMapping", "whatsapp-buffer-stream-aggregator-stream-mapping"),
        ("Function", "whatsapp-buffer-stream-aggregator-aggregator-function"),
        ("Queue", "whatsapp-buffer-stream-aggregator-bursts"),
        ("Queue", "whatsapp-buffer-stream-aggregator-bursts-dlq"),
        ("Queue", "whatsapp-buffer-stream-aggregator-failures"),
    } <= owned("Aggregator")
    assert {
        ("Function", "whatsapp-buffer-connect-bridge-inbound-function"),
        ("EventSourceMapping", "whatsapp-buffer-connect-bridge-bursts-mapping"),
        ("Table", "whatsapp-buffer-connect-bridge-sessions-table"),
        ("Table", "whatsapp-buffer-connect-bridge-idempotency-table"),
        ("Topic", "whatsapp-buffer-connect-bridge-out-topic"),
        ("Bucket", "whatsapp-buffer-connect-bridge-media"),
    } <= owned("Inbound")
    assert {
        ("Function", "whatsapp-buffer-connect-bridge-outbound-function"),
        ("TopicSubscription", "whatsapp-buffer-connect-bridge-outbound-subscription"),
        ("Queue", "whatsapp-buffer-connect-bridge-outbound-dlq"),
    } <= owned("Outbound")


def test_functions_are_python313_arm64_with_the_sdk_layer_and_code_from_runtime_only(graph):
    functions = graph.by_type("aws:lambda/function:Function")
    layers = {r.name.removeprefix("whatsapp-buffer-"): r for r in graph.by_type("aws:lambda/layerVersion:LayerVersion")}
    layer, media = layers["sdk-layer-version"], layers["media-layer-version"]

    assert {f.inputs["handler"] for f in functions} == {
        f"whatsapp_buffer.entrypoints.{name}.handler" for name in FUNCTIONS
    }
    for f in functions:
        assert f.inputs["runtime"] == "python3.13"
        assert f.inputs["architectures"] == ["arm64"]
        converts = f.inputs["handler"].endswith((".inbound.handler", ".outbound.handler"))
        extra = [media.outputs["arn"]] if converts else []
        assert f.inputs["layers"] == [layer.outputs["arn"], *extra]
        files = f.inputs["code"]["archive"]
        assert "whatsapp_buffer/settings.py" in files
        assert all(path.startswith("whatsapp_buffer/") for path in files)
        assert not any("__pycache__" in path or path.endswith(".pyc") for path in files)


def test_each_function_logs_to_its_own_log_group_created_with_retention(graph):
    groups = {g.inputs["name"]: g for g in graph.by_type("aws:cloudwatch/logGroup:LogGroup")}

    for f in graph.by_type("aws:lambda/function:Function"):
        group = groups[f"/aws/lambda/{f.outputs['name']}"]
        assert group.inputs["retentionInDays"] == 14
        assert group.parent == f.parent


def test_function_roles_are_assumable_by_lambda_only(graph):
    roles = {f.inputs["role"] for f in graph.by_type("aws:lambda/function:Function")}
    assert len(roles) == len(FUNCTIONS)
    for role in (r for r in graph.by_type("aws:iam/role:Role") if r.outputs["arn"] in roles):
        (statement,) = statements(policy(role, "assumeRolePolicy"))

        assert statement == {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }


def test_raw_table_streams_new_images_and_expires_items_on_a_numeric_ttl(graph):
    table = graph.get("whatsapp-buffer-buffered-ingest-raw-table").inputs

    assert (table["hashKey"], table["rangeKey"]) == ("pk", "sk")
    assert {(a["name"], a["type"]) for a in table["attributes"]} == {
        ("pk", "S"),
        ("sk", "S"),
        ("waiting", "S"),
        ("first_pending", "N"),
    }
    assert table["streamEnabled"] is True and table["streamViewType"] == "NEW_IMAGE"
    assert table["ttl"] == {"attributeName": "expires_at", "enabled": True}
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["pointInTimeRecovery"]["enabled"] and table["serverSideEncryption"]["enabled"]


def test_raw_table_indexes_only_conversations_with_pending_messages_by_their_oldest(graph):
    """Sparse: ingest sets `waiting` with `first_pending`, a flush that leaves nothing pending removes both, so the
    sweeper's Query reads just the conversations with something to send (adapters/raw_control.py)."""
    (index,) = graph.get("whatsapp-buffer-buffered-ingest-raw-table").inputs["globalSecondaryIndexes"]

    assert index["name"] == "pending-since" and index["projectionType"] == "KEYS_ONLY"
    assert index["keySchemas"] == [
        {"attributeName": "waiting", "keyType": "HASH"},
        {"attributeName": "first_pending", "keyType": "RANGE"},
    ]


def test_the_sweeper_runs_every_minute_on_eventbridge_scheduler(graph):
    schedule = graph.get("whatsapp-buffer-stream-aggregator-sweep-schedule").inputs

    assert schedule["scheduleExpression"] == "rate(1 minute)"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    assert schedule["target"]["arn"] == function(graph, "sweeper").outputs["arn"]
    assert json.loads(schedule["target"]["input"]) == {}


def test_sessions_table_is_found_by_conversation_and_by_contact(graph):
    table = graph.get("whatsapp-buffer-connect-bridge-sessions-table").inputs

    assert table["hashKey"] == "conversation"
    (index,) = table["globalSecondaryIndexes"]
    assert index["name"] == "by-contact" and index["projectionType"] == "ALL"
    assert index["keySchemas"] == [{"attributeName": "contact_id", "keyType": "HASH"}]
    assert table["ttl"] == {"attributeName": "expires_at", "enabled": True}
    assert not table.get("streamEnabled")
    assert table["pointInTimeRecovery"]["enabled"] and table["serverSideEncryption"]["enabled"]


def test_idempotency_table_has_the_powertools_layout(graph):
    table = graph.get("whatsapp-buffer-connect-bridge-idempotency-table").inputs

    assert table["hashKey"] == "id"
    assert table["ttl"] == {"attributeName": "expiration", "enabled": True}


def test_stream_mapping_is_a_bounded_tumbling_window_over_control_records(graph):
    mapping = graph.get("whatsapp-buffer-stream-aggregator-stream-mapping").inputs

    assert mapping["eventSourceArn"] == graph.get("whatsapp-buffer-buffered-ingest-raw-table").outputs["streamArn"]
    assert mapping["functionName"] == function(graph, "aggregator").outputs["arn"]
    assert mapping["tumblingWindowInSeconds"] == 1  # windowSeconds' default
    assert mapping["batchSize"] == 100
    assert mapping["startingPosition"] == "LATEST"
    assert mapping["parallelizationFactor"] == 1
    assert mapping["bisectBatchOnFunctionError"] is True
    assert 0 < mapping["maximumRetryAttempts"] <= 10
    assert 0 < mapping["maximumRecordAgeInSeconds"] <= 3600
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    failures = graph.get("whatsapp-buffer-stream-aggregator-failures").outputs["arn"]
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == failures
    (only,) = mapping["filterCriteria"]["filters"]
    assert json.loads(only["pattern"]) == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"record_type": {"S": ["control", "tick"]}}},
    }


def _stream_record(event_name, sk, record_type=None, ttl=False):
    """A raw table stream record as Lambda filters it (NEW_IMAGE view: a REMOVE carries no NewImage; a TTL deletion
    has userIdentity type "Service", principalId "dynamodb.amazonaws.com": botocore's dynamodbstreams Record)."""
    dynamodb = {"Keys": {"pk": {"S": "CONV#1065#1555"}, "sk": {"S": sk}}, "StreamViewType": "NEW_IMAGE"}
    if event_name != "REMOVE":
        dynamodb["NewImage"] = {**dynamodb["Keys"], "record_type": {"S": record_type}}
    record = {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb}
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


TICK_INSERT = _stream_record("INSERT", "TICK", "tick")
TICK_MODIFY = _stream_record("MODIFY", "TICK#2", "tick")
TICK_REMOVE = _stream_record("REMOVE", "TICK", ttl=True)


def test_the_aggregator_mapping_passes_control_and_tick_writes_and_never_a_removal_or_a_message(graph):
    """botocore's dynamodbstreams `Record.eventName`: INSERT "a new item was added", MODIFY "one or more of an
    existing item's attributes were modified", REMOVE "the item was deleted"; the filter's value list is an "or"
    (Lambda Developer Guide, "Lambda event filtering": `"PaymentType": [ "Credit", "Debit"]`). Applied by the
    sandbox's filter, as the replay applies it."""
    patterns = [
        f["pattern"]
        for f in graph.get("whatsapp-buffer-stream-aggregator-stream-mapping").inputs["filterCriteria"]["filters"]
    ]
    passes = lambda record: filters.matches_any(patterns, record)  # noqa: E731

    assert passes(TICK_INSERT) and passes(TICK_MODIFY)
    assert passes(_stream_record("MODIFY", "CONTROL", "control"))
    assert not passes(TICK_REMOVE)
    assert not passes(_stream_record("REMOVE", "CONTROL", ttl=True))
    assert not passes(_stream_record("INSERT", "MSG#0001749416383.000000#wamid.1", "message"))


@pytest.mark.parametrize("overrides", [{}, {"transcribeLanguages": "en-US"}])
def test_the_inbound_functions_stream_mapping_never_passes_a_tick(overrides):
    graph = deployed_graph(overrides, stack="dev")
    patterns = [
        f["pattern"]
        for f in graph.get("whatsapp-buffer-connect-bridge-raw-stream-mapping").inputs["filterCriteria"]["filters"]
    ]

    assert not any(filters.matches_any(patterns, r) for r in (TICK_INSERT, TICK_MODIFY, TICK_REMOVE))


def test_bursts_queue_is_fifo_with_explicit_dedupe_and_a_fifo_dead_letter_queue(graph):
    bursts = graph.get("whatsapp-buffer-stream-aggregator-bursts")
    dlq = graph.get("whatsapp-buffer-stream-aggregator-bursts-dlq")

    assert bursts.outputs["name"] == "whatsapp-buffer-dev-bursts.fifo"
    assert bursts.inputs["fifoQueue"] is True
    assert bursts.inputs["contentBasedDeduplication"] is False
    assert bursts.inputs["deduplicationScope"] == "messageGroup"
    assert bursts.inputs["fifoThroughputLimit"] == "perMessageGroupId"
    assert json.loads(bursts.inputs["redrivePolicy"]) == {
        "deadLetterTargetArn": dlq.outputs["arn"],
        "maxReceiveCount": 5,
    }
    assert dlq.inputs["fifoQueue"] is True and dlq.outputs["name"].endswith(".fifo")
    inbound_timeout = function(graph, "inbound").inputs["timeout"]
    assert bursts.inputs["visibilityTimeoutSeconds"] >= 6 * inbound_timeout


def test_inbound_reads_bursts_ten_at_a_time_reporting_partial_failures(graph):
    mapping = graph.get("whatsapp-buffer-connect-bridge-bursts-mapping").inputs

    assert mapping["eventSourceArn"] == graph.get("whatsapp-buffer-stream-aggregator-bursts").outputs["arn"]
    assert mapping["functionName"] == function(graph, "inbound").outputs["arn"]
    assert mapping["batchSize"] == 10
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]


def test_every_queue_is_encrypted(graph):
    queues = graph.by_type("aws:sqs/queue:Queue")

    assert len(queues) == 6
    assert all(q.inputs["sqsManagedSseEnabled"] is True for q in queues)


def test_topics_are_encrypted_with_their_own_keys(graph):
    for topic_name in ("whatsapp-buffer-buffered-ingest-in-topic", "whatsapp-buffer-connect-bridge-out-topic"):
        key = graph.get(f"{topic_name}-key")

        assert graph.get(topic_name).inputs["kmsMasterKeyId"] == key.outputs["arn"]
        assert key.inputs["enableKeyRotation"] is True


def test_sns_subscriptions_redrive_to_a_dead_letter_queue_the_function_also_fails_into(graph):
    cases = [
        ("whatsapp-buffer-buffered-ingest", "in-topic", "ingest", "whatsapp-buffer-buffered-ingest-dlq"),
        ("whatsapp-buffer-connect-bridge", "out-topic", "outbound", "whatsapp-buffer-connect-bridge-outbound-dlq"),
    ]
    for component, topic, short_name, dlq_name in cases:
        topic_arn = graph.get(f"{component}-{topic}").outputs["arn"]
        dlq_arn = graph.get(dlq_name).outputs["arn"]
        fn = function(graph, short_name)
        subscription = graph.get(f"{component}-{short_name}-subscription").inputs
        invoke_config = graph.get(f"{component}-{short_name}-invoke-config").inputs
        permission = graph.get(f"{component}-{short_name}-invoke-permission").inputs
        (queue_statement,) = statements(policy(graph.get(f"{component}-{short_name}-dlq-policy")))

        assert (subscription["topic"], subscription["protocol"], subscription["endpoint"]) == (
            topic_arn,
            "lambda",
            fn.outputs["arn"],
        )
        assert json.loads(subscription["redrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}
        assert "filterPolicy" not in subscription
        assert invoke_config["destinationConfig"]["onFailure"]["destination"] == dlq_arn
        assert invoke_config["maximumRetryAttempts"] == 2
        assert (permission["principal"], permission["sourceArn"]) == ("sns.amazonaws.com", topic_arn)
        assert queue_statement["Principal"] == {"Service": "sns.amazonaws.com"}
        assert queue_statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topic_arn}}


def test_media_bucket_is_private_encrypted_tls_only_and_expiring(graph):
    public_access = graph.get("whatsapp-buffer-connect-bridge-media-public-access-block").inputs
    encryption = graph.get("whatsapp-buffer-connect-bridge-media-encryption").inputs
    lifecycle = graph.get("whatsapp-buffer-connect-bridge-media-lifecycle").inputs
    ownership = graph.get("whatsapp-buffer-connect-bridge-media-ownership").inputs
    (deny,) = statements(policy(graph.get("whatsapp-buffer-connect-bridge-media-policy")))

    assert all(
        public_access[flag] is True
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    assert encryption["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    assert lifecycle["rules"][0]["status"] == "Enabled" and lifecycle["rules"][0]["expiration"]["days"] == 7
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_stack_exports_what_a_user_needs(graph):
    outputs = graph.stack_outputs

    assert outputs["inTopicArn"] == graph.get("whatsapp-buffer-buffered-ingest-in-topic").outputs["arn"]
    assert outputs["outTopicArn"] == graph.get("whatsapp-buffer-connect-bridge-out-topic").outputs["arn"]
    assert outputs["burstsQueueUrl"] == graph.get("whatsapp-buffer-stream-aggregator-bursts").outputs["url"]
    assert outputs["rawTableName"] == graph.get("whatsapp-buffer-buffered-ingest-raw-table").outputs["name"]
    assert outputs["sessionsTableName"] == graph.get("whatsapp-buffer-connect-bridge-sessions-table").outputs["name"]
    assert outputs["mediaBucketName"] == graph.get("whatsapp-buffer-connect-bridge-media").outputs["bucket"]
    assert {
        "burstsDeadLetterQueueUrl",
        "ingestDeadLetterQueueUrl",
        "outboundDeadLetterQueueUrl",
        "aggregatorFailuresQueueUrl",
        "ingestFunctionName",
        "aggregatorFunctionName",
        "inboundFunctionName",
        "outboundFunctionName",
    } <= set(outputs)


REFUSALS = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"record_type": {"S": ["refusal"]}}}}


def test_a_stack_that_does_not_transcribe_hands_inbound_only_the_refusals_to_tell_from_the_raw_table_stream(graph):
    readers = [
        m
        for m in graph.by_type("aws:lambda/eventSourceMapping:EventSourceMapping")
        if "/stream/" in m.inputs["eventSourceArn"]
    ]
    assert sorted(m.name for m in readers) == [
        "whatsapp-buffer-connect-bridge-raw-stream-mapping",
        "whatsapp-buffer-stream-aggregator-stream-mapping",
    ]
    mapping = graph.get("whatsapp-buffer-connect-bridge-raw-stream-mapping").inputs
    assert mapping["functionName"] == function(graph, "inbound").outputs["arn"]
    (only,) = mapping["filterCriteria"]["filters"]
    assert json.loads(only["pattern"]) == REFUSALS


def test_a_transcribing_stack_hands_inbound_each_stored_voice_note_and_audio_file_from_the_raw_table_stream():
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    mapping = graph.get("whatsapp-buffer-connect-bridge-raw-stream-mapping").inputs

    assert mapping["eventSourceArn"] == graph.get("whatsapp-buffer-buffered-ingest-raw-table").outputs["streamArn"]
    assert mapping["functionName"] == function(graph, "inbound").outputs["arn"]
    assert mapping["startingPosition"] == "LATEST"
    assert mapping["maximumRetryAttempts"] == 2 and 0 < mapping["maximumRecordAgeInSeconds"] <= 3600
    refusals, recordings = mapping["filterCriteria"]["filters"]
    assert json.loads(refusals["pattern"]) == REFUSALS
    assert json.loads(recordings["pattern"]) == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"record_type": {"S": ["message"]}, "kind": {"S": ["voice", "audio"]}}},
    }
    readers = [
        m
        for m in graph.by_type("aws:lambda/eventSourceMapping:EventSourceMapping")
        if "/stream/" in m.inputs["eventSourceArn"]
    ]
    assert len(readers) == 2, "DynamoDB Streams: no more than two readers per shard"


def test_a_transcribing_stack_indexes_only_the_transcripts_still_owed_and_sweeps_them_every_minute():
    """Sparse (DynamoDB developer guide, "Take advantage of sparse indexes"): a debt carries `debt_open` and `owed_at`
    until it is paid (runtime adapters/transcript_debts.py). The schedule's input is an event the inbound function
    recognises as the sweep (its `TRIGGERS`)."""
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    table = graph.get("whatsapp-buffer-connect-bridge-sessions-table").inputs
    owed = [index for index in table["globalSecondaryIndexes"] if index["name"] == "owed-since"]
    assert [(i["projectionType"], i["keySchemas"]) for i in owed] == [
        (
            "KEYS_ONLY",
            [{"attributeName": "debt_open", "keyType": "HASH"}, {"attributeName": "owed_at", "keyType": "RANGE"}],
        )
    ]
    assert {"name": "owed_at", "type": "N"} in table["attributes"]
    schedule = graph.get("whatsapp-buffer-connect-bridge-transcripts-sweep-schedule").inputs
    assert schedule["scheduleExpression"] == "rate(1 minute)"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    assert inbound.trigger_of(json.loads(schedule["target"]["input"])).source == (
        "the owed transcripts' sweep (EventBridge Scheduler)"
    )


def test_a_half_claimed_bursts_lease_outlasts_any_aggregator_invocation():
    """A claim's writer is over once Lambda has ended it at its timeout; only then may another flush send a
    half-claimed burst that cannot be completed (runtime lifecycle.CLAIM_LEASE_SECONDS)."""
    from components.functions import FUNCTIONS
    from whatsapp_buffer.aggregator.lifecycle import CLAIM_LEASE_SECONDS

    assert FUNCTIONS["aggregator"].timeout_seconds < CLAIM_LEASE_SECONDS
