"""Who may publish, encrypt, and call what: resource policies parsed from JSON, and least privilege for every role."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from iam_lint import _import_parliament, wildcard_only
from infra_helpers import allowed, as_list, function, policy, role_statements, statements

from sandbox.program import ACCOUNT_ID, deployed_graph
from whatsapp_buffer.settings import FUNCTIONS

INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-0000-0000-000000000000"


def test_only_end_user_messaging_of_this_account_may_publish_to_the_in_topic(graph):
    topic_arn = graph.get("whatsapp-buffer-buffered-ingest-in-topic").outputs["arn"]
    (statement,) = statements(policy(graph.get("whatsapp-buffer-buffered-ingest-in-topic-policy")))

    assert graph.get("whatsapp-buffer-buffered-ingest-in-topic-policy").inputs["arn"] == topic_arn
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "social-messaging.amazonaws.com"}
    assert statement["Action"] == ["sns:Publish"]
    assert statement["Resource"] == topic_arn
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_only_the_configured_connect_instance_may_publish_to_the_out_topic(graph):
    topic_arn = graph.get("whatsapp-buffer-connect-bridge-out-topic").outputs["arn"]
    (statement,) = statements(policy(graph.get("whatsapp-buffer-connect-bridge-out-topic-policy")))

    assert statement["Principal"] == {"Service": "connect.amazonaws.com"}
    assert statement["Action"] == ["sns:Publish"]
    assert statement["Resource"] == topic_arn
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        "ArnEquals": {"aws:SourceArn": INSTANCE},
    }


@pytest.mark.parametrize(
    ("key_name", "service"),
    [
        ("whatsapp-buffer-buffered-ingest-in-topic-key", "social-messaging.amazonaws.com"),
        ("whatsapp-buffer-connect-bridge-out-topic-key", "connect.amazonaws.com"),
    ],
)
def test_topic_key_admits_the_publishing_service_of_this_account_and_the_account_admin(graph, key_name, service):
    by_principal = {str(s["Principal"]): s for s in statements(policy(graph.get(key_name)))}

    admin = by_principal[str({"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"})]
    publisher = by_principal[str({"Service": service})]
    assert len(by_principal) == 2
    assert admin["Action"] == "kms:*"
    assert publisher["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
    assert publisher["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


@pytest.mark.parametrize("short_name", FUNCTIONS)
def test_role_policy_has_no_wildcard_action(graph, short_name):
    for statement in role_statements(graph, short_name):
        for action in as_list(statement["Action"]):
            service, _, name = action.partition(":")
            assert service and name and "*" not in action, action


def _stack_arns(graph) -> set[str]:
    arns = set()
    for resource in graph.resources:
        for key in ("arn", "streamArn"):
            if isinstance(resource.outputs.get(key), str):
                arns.add(resource.outputs[key])
    return arns


@pytest.mark.parametrize("short_name", FUNCTIONS)
def test_role_policy_resources_are_this_stacks_or_the_configured_instance_and_numbers(graph, short_name):
    own = _stack_arns(graph)
    table_arns = {r.outputs["arn"] for r in graph.by_type("aws:dynamodb/table:Table")}
    allowed_resources = (
        own
        | {f"{arn}:*" for arn in own}
        | {f"{arn}/*" for arn in own}
        | {f"{arn}/stream/*" for arn in table_arns}
        | {f"{arn}/index/by-contact" for arn in table_arns}
        | {f"{arn}/index/pending-since" for arn in table_arns}
        | {
            INSTANCE,
            f"{INSTANCE}/contact/*",
            f"{INSTANCE}/contact-flow/00000000-0000-0000-0000-000000000000",
            f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:phone-number-id/*",
            # The outreach function reads the templates of the account's WABAs (the stack names numbers, not WABAs).
            f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:waba/*",
        }
    )

    for statement in role_statements(graph, short_name):
        if as_list(statement["Resource"]) == ["*"] and all(wildcard_only(a) for a in as_list(statement["Action"])):
            continue  # actions without resource-level permissions take "*" only (see test_iam_lint)
        for resource in as_list(statement["Resource"]):
            assert resource in allowed_resources, f"{short_name} may act on {resource}"


def test_each_function_may_do_exactly_what_it_calls(graph):
    raw = graph.get("whatsapp-buffer-buffered-ingest-raw-table").outputs["arn"]
    sessions = graph.get("whatsapp-buffer-connect-bridge-sessions-table").outputs["arn"]
    idempotency = graph.get("whatsapp-buffer-connect-bridge-idempotency-table").outputs["arn"]
    bursts = graph.get("whatsapp-buffer-stream-aggregator-bursts").outputs["arn"]
    media = graph.get("whatsapp-buffer-connect-bridge-media").outputs["arn"] + "/*"
    numbers = f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:phone-number-id/*"

    ingest = allowed(graph, "ingest")
    aggregator = allowed(graph, "aggregator")
    inbound = allowed(graph, "inbound")
    outbound = allowed(graph, "outbound")

    assert set(ingest) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",  # the quote of a reply to an agent message
        "dynamodb:Query",  # the quote of a reply to an earlier customer message
        "sqs:SendMessage",
    }
    assert ingest["dynamodb:PutItem"] == ingest["dynamodb:GetItem"] == ingest["dynamodb:Query"] == {raw}
    assert ingest["sqs:SendMessage"] == {graph.get("whatsapp-buffer-buffered-ingest-dlq").outputs["arn"]}
    assert aggregator["dynamodb:GetRecords"] == {raw + "/stream/*"}
    assert aggregator["dynamodb:Query"] == {raw}
    assert aggregator["sqs:SendMessage"] == {
        bursts,
        graph.get("whatsapp-buffer-stream-aggregator-failures").outputs["arn"],
    }
    assert aggregator["dynamodb:PutItem"] == {raw}  # a window end's tick, its attributes limited (test below)
    assert set(aggregator) - {"logs:CreateLogStream", "logs:PutLogEvents"} == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "sqs:SendMessage",
    }
    assert inbound["connect:StartChatContact"] == {
        INSTANCE,
        f"{INSTANCE}/contact/*",
        f"{INSTANCE}/contact-flow/00000000-0000-0000-0000-000000000000",
    }
    # A later ad's attributes on an open chat (Service Authorization Reference: UpdateContactAttributes acts on the
    # `contact` resource type, instance/${InstanceId}/contact/${ContactId}): the instance's contacts, nothing else.
    assert inbound["connect:UpdateContactAttributes"] == {f"{INSTANCE}/contact/*"}
    assert inbound["connect:StopContact"] == {f"{INSTANCE}/contact/*"}  # only the orphaned chats it started
    assert inbound["social-messaging:GetWhatsAppMessageMedia"] == {numbers}
    assert inbound["sqs:ReceiveMessage"] == {bursts}
    assert "sqs:ChangeMessageVisibility" not in inbound
    assert "social-messaging:SendWhatsAppMessage" not in inbound  # only markAsRead needs it
    assert "dynamodb:Query" not in inbound
    assert inbound["dynamodb:PutItem"] == {sessions, idempotency}
    assert inbound["dynamodb:DeleteItem"] == {idempotency}
    assert inbound["s3:PutObject"] == {media}
    assert outbound["social-messaging:SendWhatsAppMessage"] == {numbers}
    assert outbound["social-messaging:PostWhatsAppMessageMedia"] == {numbers}
    # UpdateItem and GetItem act on the table alone (Service Authorization Reference: resource type `table*`). A Query
    # with IndexName is authorised against the index: the Developer Guide's API permissions reference, "To query an
    # index: arn:aws:dynamodb:region:account-id:table/table-name/index/index-name"; AWS's refusals name it
    # ("not authorized to perform: dynamodb:Query on resource: ...:table/REDACTED/index/uuid", aws/aws-cdk#1540).
    assert outbound["dynamodb:UpdateItem"] == {sessions, idempotency}
    assert outbound["dynamodb:DeleteItem"] == {idempotency}
    assert outbound["dynamodb:Query"] == {sessions + "/index/by-contact"}
    assert outbound["dynamodb:GetItem"] == {sessions, idempotency}  # sessions: the index lags, the table confirms
    assert outbound["dynamodb:PutItem"] == {raw, idempotency}  # raw: what the agent said, for reply quotes
    assert outbound["sqs:SendMessage"] == {graph.get("whatsapp-buffer-connect-bridge-outbound-dlq").outputs["arn"]}
    assert not any(action.startswith(("connect:", "connectparticipant:")) for action in outbound)
    assert not any(action.startswith("connectparticipant:") for action in inbound)


def test_inbound_may_list_the_media_bucket_only_under_the_prefixes_it_copies_media_to(graph):
    """Service Authorization Reference (parliament's copy): ListBucket "Grants permission to list some or all of
    the objects in an Amazon S3 bucket (up to 1000)" on the resource type `bucket*`
    (`arn:${Partition}:s3:::${BucketName}`), with the condition key `s3:prefix`, "Filters access by key name prefix"
    (String, so StringLike). The inbound function finds a file End User Messaging copied under a key prefix by
    listing that prefix (`inbound/<burst>/<i>-<media id>/`, `prepared/<media id>/`); no other function lists."""
    s3 = next(s for s in _import_parliament().iam_definition if s["prefix"] == "s3")
    (list_bucket,) = [p for p in s3["privileges"] if p["privilege"] == "ListBucket"]
    assert [r["resource_type"] for r in list_bucket["resource_types"]] == ["bucket*", ""]
    assert "s3:prefix" in list_bucket["resource_types"][1]["condition_keys"]
    (bucket_type,) = [r for r in s3["resources"] if r["resource"] == "bucket"]
    (prefix_key,) = [c for c in s3["conditions"] if c["condition"] == "s3:prefix"]
    assert (bucket_type["arn"], prefix_key["type"]) == ("arn:${Partition}:s3:::${BucketName}", "String")
    bucket = graph.get("whatsapp-buffer-connect-bridge-media").outputs["bucket"]

    (listing,) = [s for s in role_statements(graph, "inbound") if "s3:ListBucket" in as_list(s["Action"])]

    assert as_list(listing["Action"]) == ["s3:ListBucket"]
    assert as_list(listing["Resource"]) == [f"arn:aws:s3:::{bucket}"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["inbound/*"]}}  # prepared/* only when transcribing
    assert not [f for f in ("ingest", "aggregator", "outbound") if "s3:ListBucket" in allowed(graph, f)]


def test_the_aggregator_may_put_only_tick_items(graph):
    """Its one PutItem is a window end's tick. IAM User Guide, "Amazon DynamoDB: Allows access to specific
    attributes": `"ForAllValues:StringEquals": {"dynamodb:Attributes": [...]}` on an Allow of PutItem (among others)
    limits the top-level attributes a request may name; a tick names exactly what `RawTable.write_tick` writes, so
    the grant cannot write a message's attributes (`status`, `body`) or a control item's (`pending`, `version`)."""
    from whatsapp_buffer.adapters.raw_table import RawTable
    from whatsapp_buffer.model import Conversation

    raw = graph.get("whatsapp-buffer-buffered-ingest-raw-table").outputs["arn"]
    (put,) = [s for s in role_statements(graph, "aggregator") if "dynamodb:PutItem" in as_list(s["Action"])]
    assert (as_list(put["Action"]), as_list(put["Resource"])) == (["dynamodb:PutItem"], [raw])
    granted = set(put["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"])

    written = []

    class Client:
        def put_item(self, **params):
            written.append(set(params["Item"]))

    RawTable("raw", Client()).write_tick(
        Conversation("1065", "1555"), {"1065#1555": [1, 1.0, 1.0, 1], "1065#2": None}, 9.0
    )
    assert written == [granted]
    assert not granted & {"status", "body", "pending", "version", "waiting", "first_pending"}


def test_the_sweeper_may_read_the_pending_index_and_touch_control_items_only(graph):
    raw = graph.get("whatsapp-buffer-buffered-ingest-raw-table").outputs["arn"]

    sweeper = allowed(graph, "sweeper")

    assert set(sweeper) - {"logs:CreateLogStream", "logs:PutLogEvents"} == {"dynamodb:Query", "dynamodb:UpdateItem"}
    assert sweeper["dynamodb:Query"] == {raw + "/index/pending-since"}
    assert sweeper["dynamodb:UpdateItem"] == {raw}


def test_only_this_accounts_scheduler_may_invoke_the_sweeper_and_nothing_else(graph):
    schedule = graph.get("whatsapp-buffer-stream-aggregator-sweep-schedule")
    role = graph.get("whatsapp-buffer-stream-aggregator-sweep-schedule-role")
    (trust,) = statements(policy(role, "assumeRolePolicy"))
    (grant,) = statements(policy(graph.get("whatsapp-buffer-stream-aggregator-sweep-schedule-policy")))

    assert schedule.inputs["target"]["roleArn"] == role.outputs["arn"]
    assert (
        schedule.inputs["target"]["arn"]
        == graph.get("whatsapp-buffer-stream-aggregator-sweeper-function").outputs["arn"]
    )
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert (grant["Action"], grant["Resource"]) == (["lambda:InvokeFunction"], [schedule.inputs["target"]["arn"]])


def test_each_function_writes_only_its_own_log_group(graph):
    for short_name in FUNCTIONS:
        name = f"whatsapp-buffer-dev-{short_name}"

        assert allowed(graph, short_name)["logs:PutLogEvents"] == {
            f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/lambda/{name}:*"
        }
        assert "logs:CreateLogGroup" not in allowed(graph, short_name)


def test_mark_as_read_is_what_lets_inbound_send_to_whatsapp():
    graph = deployed_graph({"markAsRead": "true"}, stack="dev")
    numbers = f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:phone-number-id/*"
    assert allowed(graph, "inbound")["social-messaging:SendWhatsAppMessage"] == {numbers}


def test_configured_phone_numbers_scope_social_messaging_to_those_numbers():
    graph = deployed_graph({"whatsappPhoneNumberIds": "phone-number-id-0a1b,phone-number-id-2c3d"}, stack="dev")
    expected = {
        f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:phone-number-id/0a1b",
        f"arn:aws:social-messaging:us-east-1:{ACCOUNT_ID}:phone-number-id/2c3d",
    }

    assert allowed(graph, "inbound")["social-messaging:GetWhatsAppMessageMedia"] == expected
    assert allowed(graph, "outbound")["social-messaging:SendWhatsAppMessage"] == expected


def test_a_stack_that_does_not_transcribe_grants_no_transcribe_action(graph):
    assert not [action for action in allowed(graph, "inbound") if action.startswith("transcribe:")]


def test_transcribing_lets_inbound_start_jobs_only_into_its_media_bucket_and_read_only_its_own_jobs():
    """Service Authorization Reference (list_amazontranscribe, parliament's copy): StartTranscriptionJob has no
    resource type and takes the condition keys transcribe:OutputBucketName and transcribe:OutputKey;
    GetTranscriptionJob's resource is transcription-job/${JobName}."""
    graph = deployed_graph({"transcribeLanguages": "en-US,es-US"}, stack="dev")
    bucket = graph.get("whatsapp-buffer-connect-bridge-media").outputs["bucket"]
    (start,) = [
        s for s in role_statements(graph, "inbound") if "transcribe:StartTranscriptionJob" in as_list(s["Action"])
    ]
    assert wildcard_only("transcribe:StartTranscriptionJob") and as_list(start["Resource"]) == ["*"]
    assert as_list(start["Action"]) == ["transcribe:StartTranscriptionJob"]
    assert start["Condition"] == {
        "StringEquals": {"transcribe:OutputBucketName": bucket},
        "StringLike": {"transcribe:OutputKey": "transcripts/*"},
    }
    assert allowed(graph, "inbound")["transcribe:GetTranscriptionJob"] == {
        f"arn:aws:transcribe:us-east-1:{ACCOUNT_ID}:transcription-job/{bucket}-*"
    }
    # Transcribe reads the recording and writes the transcript with the caller's own S3 permissions
    assert {"s3:GetObject", "s3:PutObject"} <= set(allowed(graph, "inbound"))
    assert not [
        a for f in ("ingest", "aggregator", "outbound") for a in allowed(graph, f) if a.startswith("transcribe:")
    ]


def test_transcribing_lets_inbound_list_its_prepared_recordings_too():
    """Inbound asks whether a recording is prepared by listing its key (runtime `MediaBucket.exists`): HeadObject's
    documentation, "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403
    Forbidden error" for a missing object. The listing stays within `prepared/` (s3:prefix)."""
    transcribing = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    media = transcribing.get("whatsapp-buffer-connect-bridge-media").outputs
    (listing,) = [s for s in role_statements(transcribing, "inbound") if "s3:ListBucket" in as_list(s["Action"])]
    assert as_list(listing["Resource"]) == [media["arn"]]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["inbound/*", "prepared/*"]}}
    assert not [f for f in FUNCTIONS if f != "inbound" and "s3:ListBucket" in allowed(transcribing, f)]


@pytest.mark.parametrize(
    ("config", "sends"),
    [
        ({"echoTranscripts": "true"}, False),  # nothing to echo without transcription
        ({"echoTranscripts": "true", "transcribeLanguages": "en-US"}, True),
        ({"transcribeLanguages": "en-US"}, False),
    ],
)
def test_echoing_transcripts_is_what_else_lets_inbound_send_to_whatsapp(config, sends):
    graph = deployed_graph(config, stack="dev")
    assert ("social-messaging:SendWhatsAppMessage" in allowed(graph, "inbound")) is sends


def test_a_transcribing_stack_routes_only_its_own_finished_jobs_to_inbound_and_only_that_rule_may_invoke_it():
    """Amazon Transcribe developer guide, "Using Amazon EventBridge with Amazon Transcribe": the rule example
    `{"source": ["aws.transcribe"], "detail-type": ["Transcribe Job State Change"], "detail":
    {"TranscriptionJobStatus": ["COMPLETED", "FAILED"]}}`; EventBridge user guide, "Prefix matching": a value
    `{"prefix": "..."}` matches the strings that start with it. Lambda invoked by a rule needs a resource policy for
    events.amazonaws.com whose SourceArn is the rule (Lambda developer guide, "Using resource-based policies")."""
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    bucket = graph.get("whatsapp-buffer-connect-bridge-media").outputs["bucket"]
    (rule,) = graph.by_type("aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.transcribe"],
        "detail-type": ["Transcribe Job State Change"],
        "detail": {
            "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
            "TranscriptionJobName": [{"prefix": f"{bucket}-"}],
        },
    }
    inbound_function = function(graph, "inbound")
    (target,) = graph.by_type("aws:cloudwatch/eventTarget:EventTarget")
    assert target.inputs["arn"] == inbound_function.outputs["arn"]
    assert target.inputs["rule"] == rule.outputs.get("name", rule.inputs.get("name"))
    (permission,) = [
        p for p in graph.by_type("aws:lambda/permission:Permission") if p.inputs["principal"] == "events.amazonaws.com"
    ]
    assert permission.inputs["function"] == inbound_function.outputs["name"]
    assert permission.inputs["sourceArn"] == rule.outputs["arn"]


def test_a_stack_that_does_not_transcribe_has_no_transcribe_rule_and_inbound_updates_no_transcript_owed(graph):
    assert graph.by_type("aws:cloudwatch/eventRule:EventRule") == []
    like_keys = {
        key
        for statement in role_statements(graph, "inbound")
        for operator, keys in statement.get("Condition", {}).items()
        if "StringLike" in operator
        for key in keys
    }
    # Only the listing of media copies (test above): no transcript owed, no transcript output key.
    assert like_keys == {"s3:prefix"}


@pytest.mark.parametrize("config", [{}, {"transcribeLanguages": "en-US"}], ids=["plain", "transcribing"])
def test_inbound_updates_sessions_only_by_their_own_keys_never_a_transcript_owed_through_them(config):
    """Service Authorization Reference, "Condition keys for Amazon DynamoDB": dynamodb:LeadingKeys — "Filters access
    by the partition key values of the table"; with ForAllValues, every item a request touches must match. The
    session items' keys are `<phone number id>#<customer>`; the debts' `transcript-owed#<job>`."""
    graph = deployed_graph(config, stack="dev")
    sessions = graph.get("whatsapp-buffer-connect-bridge-sessions-table").outputs["arn"]
    updates = [
        s
        for s in role_statements(graph, "inbound")
        if "dynamodb:UpdateItem" in as_list(s["Action"]) and sessions in as_list(s["Resource"])
    ]
    assert all(as_list(s["Resource"]) == [sessions] for s in updates)
    assert all("dynamodb:LeadingKeys" in json.dumps(s.get("Condition", {})) for s in updates), updates
    (sessions_only,) = [s for s in updates if s["Sid"] == "RecordWhenCustomersWrote"]
    assert sessions_only["Condition"] == {"ForAllValues:StringNotLike": {"dynamodb:LeadingKeys": ["transcript-owed#*"]}}


def test_transcribing_lets_inbound_update_only_the_transcripts_owed_in_the_sessions_table():
    """Service Authorization Reference, "Condition keys for Amazon DynamoDB": dynamodb:LeadingKeys is the partition
    key value of the items a request touches; the debts are keyed `transcript-owed#<job>`."""
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    sessions = graph.get("whatsapp-buffer-connect-bridge-sessions-table").outputs["arn"]
    (settle,) = [s for s in role_statements(graph, "inbound") if s.get("Sid") == "SettleTranscriptsOwed"]
    assert as_list(settle["Action"]) == ["dynamodb:UpdateItem"] and as_list(settle["Resource"]) == [sessions]
    assert settle["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["transcript-owed#*"]}}


def test_a_completion_event_inbound_fails_to_settle_lands_in_the_transcripts_dead_letter_queue():
    """Lambda developer guide, "asynchronous invocation": after the retries (MaximumRetryAttempts) the event goes to
    the on-failure destination, sent with the function's execution role."""
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    dlq = graph.get("whatsapp-buffer-connect-bridge-transcripts-dlq").outputs["arn"]
    (config,) = [
        c
        for c in graph.by_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
        if c.inputs["functionName"] == function(graph, "inbound").outputs["name"]
    ]
    assert config.inputs["maximumRetryAttempts"] == 2
    assert config.inputs["destinationConfig"]["onFailure"]["destination"] == dlq
    failures = graph.get("whatsapp-buffer-connect-bridge-raw-stream-failures").outputs["arn"]
    assert allowed(graph, "inbound")["sqs:SendMessage"] == {dlq, failures}


def test_a_raw_stream_batch_inbound_gives_up_on_lands_in_its_failures_queue(graph):
    """Lambda developer guide, "Retaining discarded batches for a DynamoDB event source": "To retain records of
    failed event source mapping invocations, add a destination to your function's event source mapping" — without
    one, a batch past MaximumRetryAttempts (2 here) or its maximum record age is dropped, and with it a refusal notice
    the agent should read. The record is sent with the function's execution role (sqs:SendMessage on the queue)."""
    failures = graph.get("whatsapp-buffer-connect-bridge-raw-stream-failures")
    (mapping,) = [
        m
        for m in graph.by_type("aws:lambda/eventSourceMapping:EventSourceMapping")
        if m.name == "whatsapp-buffer-connect-bridge-raw-stream-mapping"
    ]
    assert mapping.inputs["maximumRetryAttempts"] == 2
    assert mapping.inputs["destinationConfig"]["onFailure"]["destinationArn"] == failures.outputs["arn"]
    assert allowed(graph, "inbound")["sqs:SendMessage"] == {failures.outputs["arn"]}
    assert failures.inputs["sqsManagedSseEnabled"] is True


def test_transcribing_lets_inbound_query_only_the_index_of_transcripts_still_owed_and_scheduler_invoke_it_for_the_sweep():
    """The sweep for completion events that never came (EventBridge events reference, "Amazon Transcribe events":
    "Delivery type: Best effort") reads the sessions table's sparse `owed-since` index, nothing else of the table;
    the Scheduler role that starts it may invoke the inbound function only, assumed only by this account's schedules."""
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    sessions = graph.get("whatsapp-buffer-connect-bridge-sessions-table").outputs["arn"]
    assert allowed(graph, "inbound")["dynamodb:Query"] == {sessions + "/index/owed-since"}
    schedule = graph.get("whatsapp-buffer-connect-bridge-transcripts-sweep-schedule")
    role = graph.get("whatsapp-buffer-connect-bridge-transcripts-sweep-schedule-role")
    (trust,) = statements(policy(role, "assumeRolePolicy"))
    (grant,) = statements(policy(graph.get("whatsapp-buffer-connect-bridge-transcripts-sweep-schedule-policy")))
    assert schedule.inputs["target"]["roleArn"] == role.outputs["arn"]
    assert schedule.inputs["target"]["arn"] == function(graph, "inbound").outputs["arn"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert (grant["Action"], grant["Resource"]) == (["lambda:InvokeFunction"], [schedule.inputs["target"]["arn"]])


def test_a_stack_that_does_not_transcribe_has_no_transcripts_sweep_and_inbound_queries_nothing(graph):
    assert "dynamodb:Query" not in allowed(graph, "inbound")
    assert [s.name for s in graph.by_type("aws:scheduler/schedule:Schedule")] == [
        "whatsapp-buffer-stream-aggregator-sweep-schedule"
    ]


def test_a_transcribing_stack_alarms_when_the_transcripts_sweep_keeps_failing_for_fifteen_minutes():
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    (alarm,) = [
        a
        for a in graph.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["metricName"] == "LateTranscriptSweepFailures"
    ]
    assert alarm.inputs["name"] == "whatsapp-buffer-dev-transcripts-sweep-failures"
    assert alarm.inputs["period"] * alarm.inputs["evaluationPeriods"] == 15 * 60
    assert alarm.inputs["datapointsToAlarm"] == alarm.inputs["evaluationPeriods"] and alarm.inputs["threshold"] == 0


def test_a_transcribing_stacks_alarms_are_all_in_the_runbook():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    runbook = readme.split("## Operations: alarms and what to do", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`<prefix>-([a-z-]+)`", runbook))
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    names = {
        a.inputs["name"].removeprefix("whatsapp-buffer-dev-")
        for a in graph.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert {"transcripts-dlq-depth", "transcripts-sweep-failures"} <= names <= documented


TYPING_EVENT = {"ContentType": "application/vnd.amazonaws.connect.event.typing", "Type": "EVENT"}


def _outbound_filter_policy(graph):
    (subscription,) = [
        s
        for s in graph.by_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["endpoint"] == function(graph, "outbound").outputs["arn"]
    ]
    return subscription.inputs.get("filterPolicy")


def test_without_agent_presence_sns_drops_the_agents_typing_events_before_the_outbound_function():
    """Amazon Connect admin guide, "Use the Amazon SNS payload after enabling message streaming": "You can also
    leverage the filtering capability in Amazon SNS by building custom subscription filtering policies"; the message
    attributes include `ContentType`, one of whose values is `application/vnd.amazonaws.connect.event.typing`. With
    agentPresence off the outbound function has nothing to do with a typing event; every other message still reaches
    it, also one without a ContentType attribute (the guide does not say every message carries it)."""
    from sandbox import filters

    policy = _outbound_filter_policy(deployed_graph({"agentPresence": "false"}, stack="dev"))
    assert policy is not None
    assert not filters.sns_attributes_match(policy, TYPING_EVENT)
    for other in (
        {"ContentType": "text/plain", "Type": "MESSAGE"},
        {"ContentType": "application/vnd.amazonaws.connect.event.chat.ended", "Type": "EVENT"},
        {"ContentType": "application/vnd.amazonaws.connect.event.participant.left", "Type": "EVENT"},
        {"Type": "ATTACHMENT"},
    ):
        assert filters.sns_attributes_match(policy, other), other


def test_with_agent_presence_typing_events_reach_the_outbound_function(graph):
    assert _outbound_filter_policy(graph) is None
