"""The policy pack passes the stack and the example program, and each policy refuses a graph that breaks it.

Where each rule comes from:
* Topics on a customer managed key: SNS Developer Guide, "Encryption at rest" ("protecting the contents of messages
  in Amazon SNS topics using keys managed in AWS KMS"); a service that publishes to an encrypted topic needs the key
  policy to let it use the key (End User Messaging Social User Guide, "Add a message and event destination": "To use
  an Amazon SNS topic that is encrypted using AWS KMS keys you have to grant AWS End User Messaging Social permissions
  to the existing key policy"), which the AWS managed key alias/aws/sns cannot be given (KMS Developer Guide,
  "Editing keys": "You cannot change the properties of AWS managed CMKs", the key policy among them).
* In-topic: End User Messaging Social User Guide, "Add a message and event destination" (its topic policy):
  principal social-messaging.amazonaws.com, sns:Publish, add aws:SourceAccount. Out-topic: Amazon Connect
  Administrator Guide, chat message streaming (its topic policy): connect.amazonaws.com, sns:Publish,
  aws:SourceAccount and ArnEquals aws:SourceArn = the instance ARN.
* Media bucket: the S3 knowledge-center policy for the s3-bucket-ssl-requests-only rule (Deny s3:* on the bucket and
  its objects when "aws:SecureTransport": "false"); S3 Block Public Access's four settings; a lifecycle expiration.
* IAM: resource types per action from the Service Authorization Reference as parliament ships it; "*" only where an
  action lists none (dynamodb:ListStreams: "you must specify all resources ("*")", tests/infra/test_iam_lint.py).
* Dead letters: SNS subscription redrive policy (deadLetterTargetArn), Lambda asynchronous invocation on-failure
  destinations, stream event source mappings' DestinationConfig.OnFailure, SQS redrive policies.
* Log retention: CloudWatch Logs PutRetentionPolicy's retentionInDays "Possible values" (botocore, pinned below).
* Outreach: Amazon Connect Administrator Guide, "Invoke AWS Lambda functions" (flows invoking Lambda): a
  lambda:InvokeFunction permission for connect.amazonaws.com with the instance ARN as source; Lambda AddPermission's
  SourceArn: "Lambda configures the comparison using the StringLike operator", so a wildcard there admits more than
  one instance.
"""

from __future__ import annotations

import re

import botocore.session
import pytest
from pack_harness import (
    POLICIES,
    PROJECT_DIR,
    RETENTION_DAYS,
    applies,
    broken,
    stack_args,
    takes_only_every_resource,
    violations,
    without,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from sandbox.program import run_program
from whatsapp_buffer.settings import LOG_RETENTION_DAYS

EXAMPLE = PROJECT_DIR / "examples" / "support_center"
IN_POLICY = "whatsapp-buffer-buffered-ingest-in-topic-policy"
OUT_POLICY = "whatsapp-buffer-connect-bridge-out-topic-policy"
OTHER_INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/*"


@pytest.fixture(
    scope="module",
    params=[
        {},
        {
            "alarmEmail": "ops@example.com",
            "whatsappPhoneNumberIds": "phone-number-id-0a1b",
            "transcribeLanguages": "en-US",
        },
    ],
    ids=["sample-stack", "every-optional-resource"],
)
def stack(request):
    return run_program(request.param)


@pytest.fixture(scope="module")
def example(monkeypatch_module):
    monkeypatch_module.chdir(EXAMPLE)
    return run_program(
        {},
        project="contact-center",
        program=EXAMPLE / "__main__.py",
        stack_file=EXAMPLE / "Pulumi.dev.yaml",
        project_file=EXAMPLE / "Pulumi.yaml",
    )


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize("name", POLICIES)
def test_the_declared_stack_passes_every_policy_and_each_applies(stack, name):
    assert applies(name, stack)
    assert violations(name, stack) == []


@pytest.mark.parametrize("name", POLICIES)
def test_the_example_program_that_builds_the_component_passes_every_policy(example, name):
    assert violations(name, example) == []


def _statement(**values):
    return lambda inputs: inputs["policy"]["Statement"][0].update(values)


def _condition(operator, key, value=None):
    def change(inputs):
        condition = inputs["policy"]["Statement"][0]["Condition"]
        if value is None:
            condition.pop(operator)
        else:
            condition.setdefault(operator, {})[key] = value

    return change


def _set(**values):
    return lambda inputs: inputs.update(values)


BREAKAGES = {
    "topic without a key": (
        "topics-encrypted-with-kms",
        lambda g: broken(g, "whatsapp-buffer-buffered-ingest-in-topic", _set(kmsMasterKeyId=None)),
        "is not encrypted: set kms_master_key_id",
    ),
    "topic on the AWS managed key": (
        "topics-encrypted-with-kms",
        lambda g: broken(g, "whatsapp-buffer-connect-bridge-out-topic", _set(kmsMasterKeyId="alias/aws/sns")),
        "uses the AWS managed key alias/aws/sns",
    ),
    "in-topic without a policy": (
        "in-topic-publishable-only-by-end-user-messaging",
        lambda g: without(g, IN_POLICY),
        "has no TopicPolicy",
    ),
    "in-topic open to everyone": (
        "in-topic-publishable-only-by-end-user-messaging",
        lambda g: broken(g, IN_POLICY, _statement(Principal="*")),
        "only social-messaging.amazonaws.com may publish",
    ),
    "in-topic open to End User Messaging of every account": (
        "in-topic-publishable-only-by-end-user-messaging",
        lambda g: broken(g, IN_POLICY, _condition("StringEquals", "aws:SourceAccount")),
        "add Condition StringEquals aws:SourceAccount",
    ),
    "in-topic allowing subscribe": (
        "in-topic-publishable-only-by-end-user-messaging",
        lambda g: broken(g, IN_POLICY, _statement(Action=["sns:Publish", "sns:Subscribe"])),
        "allow only sns:Publish",
    ),
    "out-topic admitting every Connect instance": (
        "out-topic-publishable-only-by-the-connect-instance",
        lambda g: broken(g, OUT_POLICY, _condition("ArnEquals", "aws:SourceArn")),
        "admits every Connect instance",
    ),
    "out-topic source ARN with a wildcard": (
        "out-topic-publishable-only-by-the-connect-instance",
        lambda g: broken(g, OUT_POLICY, _condition("ArnEquals", "aws:SourceArn", OTHER_INSTANCE)),
        "ArnEquals aws:SourceArn = your instance's ARN",
    ),
    "out-topic instance of another account": (
        "out-topic-publishable-only-by-the-connect-instance",
        lambda g: broken(g, OUT_POLICY, _condition("StringEquals", "aws:SourceAccount", "999999999999")),
        "is not in aws:SourceAccount 999999999999",
    ),
    "out-topic on every resource": (
        "out-topic-publishable-only-by-the-connect-instance",
        lambda g: broken(g, OUT_POLICY, _statement(Resource="*")),
        "name only the topic's own ARN",
    ),
    "bucket open to public policies": (
        "media-bucket-private-tls-only-with-expiry",
        lambda g: broken(g, "whatsapp-buffer-connect-bridge-media-public-access-block", _set(blockPublicPolicy=False)),
        "is not private",
    ),
    "bucket with a public-read ACL": (
        "media-bucket-private-tls-only-with-expiry",
        lambda g: broken(g, "whatsapp-buffer-connect-bridge-media", _set(acl="public-read")),
        "public ACL public-read",
    ),
    "bucket accepting plain HTTP on its objects": (
        "media-bucket-private-tls-only-with-expiry",
        lambda g: broken(
            g, "whatsapp-buffer-connect-bridge-media-policy", lambda i: i["policy"]["Statement"][0]["Resource"].pop()
        ),
        "accepts plain HTTP",
    ),
    "bucket keeping media forever": (
        "media-bucket-private-tls-only-with-expiry",
        lambda g: without(g, "whatsapp-buffer-connect-bridge-media-lifecycle"),
        "keeps customer media forever",
    ),
    "bucket expiring only a prefix": (
        "media-bucket-private-tls-only-with-expiry",
        lambda g: broken(
            g, "whatsapp-buffer-connect-bridge-media-lifecycle", lambda i: i["rules"][0].update(filter={"prefix": "x/"})
        ),
        "keeps customer media forever",
    ),
    "wildcard action": (
        "iam-without-wildcards",
        lambda g: broken(g, "whatsapp-buffer-stream-aggregator-aggregator-policy", _statement(Action=["dynamodb:*"])),
        "allows 'dynamodb:*': name each action",
    ),
    "scoped action on every resource": (
        "iam-without-wildcards",
        lambda g: broken(g, "whatsapp-buffer-connect-bridge-outbound-policy", _statement(Resource="*")),
        "on every resource: name the ARNs",
    ),
    "every queue of every account": (
        "iam-without-wildcards",
        lambda g: broken(g, "whatsapp-buffer-connect-bridge-outbound-policy", _statement(Resource="arn:aws:sqs:*:*:*")),
        "every resource of a service, region or account",
    ),
    "NotAction": (
        "iam-without-wildcards",
        lambda g: broken(
            g,
            "whatsapp-buffer-connect-bridge-inbound-policy",
            lambda i: i["policy"]["Statement"][0].update(NotAction="s3:*"),
        ),
        "uses NotAction",
    ),
    "SNS subscription without a dead-letter queue": (
        "async-paths-dead-lettered",
        lambda g: broken(g, "whatsapp-buffer-buffered-ingest-ingest-subscription", lambda i: i.pop("redrivePolicy")),
        "has no dead-letter queue: set redrive_policy",
    ),
    "function invoked by SNS without an on-failure destination": (
        "async-paths-dead-lettered",
        lambda g: without(g, "whatsapp-buffer-connect-bridge-outbound-invoke-config"),
        "is invoked asynchronously",
    ),
    "stream mapping without an on-failure destination": (
        "async-paths-dead-lettered",
        lambda g: broken(g, "whatsapp-buffer-stream-aggregator-stream-mapping", lambda i: i.pop("destinationConfig")),
        "reads a stream with no on-failure destination",
    ),
    "bursts queue without a dead-letter queue": (
        "async-paths-dead-lettered",
        lambda g: broken(g, "whatsapp-buffer-stream-aggregator-bursts", lambda i: i.pop("redrivePolicy")),
        "feeds a function with no dead-letter queue",
    ),
    "schedule that retries without a dead-letter queue": (
        "async-paths-dead-lettered",
        lambda g: broken(
            g,
            "whatsapp-buffer-stream-aggregator-sweep-schedule",
            lambda i: i["target"]["retryPolicy"].update(maximumRetryAttempts=3),
        ),
        "schedule 'whatsapp-buffer-stream-aggregator-sweep-schedule' has no dead-letter queue",
    ),
    "log group kept forever": (
        "function-log-retention",
        lambda g: broken(g, "whatsapp-buffer-connect-bridge-inbound-logs", _set(retentionInDays=0)),
        "keeps logs forever",
    ),
    "function without its log group": (
        "function-log-retention",
        lambda g: without(g, "whatsapp-buffer-buffered-ingest-ingest-logs"),
        "which this program does not declare",
    ),
    "outreach invocable by any principal": (
        "outreach-invocable-by-connect-only",
        lambda g: broken(g, "whatsapp-buffer-contact-flow-outreach-connect-permission", _set(principal="*")),
        "only connect.amazonaws.com",
    ),
    "outreach invocable from every instance": (
        "outreach-invocable-by-connect-only",
        lambda g: broken(g, "whatsapp-buffer-contact-flow-outreach-connect-permission", _set(sourceArn=OTHER_INSTANCE)),
        "set your Connect instance's ARN",
    ),
    "outreach invocable with no source": (
        "outreach-invocable-by-connect-only",
        lambda g: broken(g, "whatsapp-buffer-contact-flow-outreach-connect-permission", lambda i: i.pop("sourceArn")),
        "has source_arn unset",
    ),
}


@pytest.mark.parametrize(("name", "break_it", "fix"), BREAKAGES.values(), ids=BREAKAGES.keys())
def test_each_policy_refuses_a_graph_that_breaks_it_saying_what_to_set(sample_stack, name, break_it, fix):
    # GIVEN the sample stack passes the policy
    assert violations(name, sample_stack) == []
    # WHEN one resource loses the property THEN the policy reports it, naming the resource and the fix
    found = violations(name, break_it(sample_stack))
    assert any(fix in message for message in found), found


def test_every_policy_is_broken_by_some_graph():
    assert {name for name, _, _ in BREAKAGES.values()} == set(POLICIES)


def test_a_teams_own_resources_beside_the_bridge_are_not_judged(sample_stack):
    # GIVEN a topic and a role policy of the team's program, outside any whatsapp-buffer component
    own = [
        r
        for r in sample_stack.resources
        if r.name in ("whatsapp-buffer-buffered-ingest-in-topic", "whatsapp-buffer-connect-bridge-outbound-policy")
    ]
    outside = [
        type(r)(
            urn=f"urn:pulumi:dev::whatsapp-buffer::{r.type}::team-{r.name}",
            type=r.type,
            name=f"team-{r.name}",
            parent=None,
            inputs={
                **r.inputs,
                "kmsMasterKeyId": None,
                "policy": '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
            },
            outputs=r.outputs,
        )
        for r in own
    ]
    graph = type(sample_stack)(sample_stack.resources + outside, sample_stack.stack_outputs)
    # THEN the pack still passes
    assert violations("topics-encrypted-with-kms", graph) == []
    assert violations("iam-without-wildcards", graph) == []


def test_a_stack_without_the_outreach_function_is_not_applicable(sample_stack):
    graph = type(sample_stack)(
        [r for r in sample_stack.resources if "whatsapp-buffer:index:Outreach" not in r.urn], sample_stack.stack_outputs
    )
    with pytest.raises(_NotApplicableError):
        violations("outreach-invocable-by-connect-only", graph)


def test_a_value_unknown_during_preview_stops_the_policy_instead_of_passing_it(sample_stack):
    """The runtime reports UnknownValueError as an advisory "can't run policy ... during preview" (pulumi_policy
    policy.py); a validation must read the value, not skip it, so the unknown is surfaced."""
    args = stack_args(sample_stack)
    (policy,) = [r for r in args.resources if r.name == OUT_POLICY]
    policy.props = unknown_checking_proxy({**policy.props, "policy": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
    with pytest.raises(UnknownValueError):
        POLICIES["out-topic-publishable-only-by-the-connect-instance"].validate(args, lambda *_: None)


def test_star_is_accepted_only_for_actions_the_reference_lists_without_a_resource_type():
    assert takes_only_every_resource("dynamodb:ListStreams")
    assert not takes_only_every_resource("dynamodb:GetRecords")
    assert not takes_only_every_resource("sqs:SendMessage")
    assert not takes_only_every_resource("nosuch:Action")


@pytest.mark.parametrize(
    "allowed",
    [RETENTION_DAYS, LOG_RETENTION_DAYS],
    ids=["the pack's (it runs alone, in its own environment)", "the logRetentionDays setting's"],
)
def test_the_retention_values_are_the_ones_cloudwatch_logs_documents(allowed):
    model = botocore.session.get_session().get_service_model("logs")
    doc = model.operation_model("PutRetentionPolicy").input_shape.members["retentionInDays"].documentation
    listed = re.search(r"Possible values are: ([\d, and]+)\.", doc).group(1)
    assert tuple(int(v) for v in re.findall(r"\d+", listed)) == allowed


def test_make_policy_prints_each_policy_and_fails_on_a_violation(capsys, monkeypatch):
    import offline

    assert offline.main([]) == 0
    out = capsys.readouterr().out
    assert all(f"ok   {name}" in out for name in POLICIES), out
    # GIVEN a policy that finds a violation THEN the run fails and prints its message
    monkeypatch.setattr(
        offline, "violations", lambda name, graph: ["broken thing: set X"] if name == "iam-without-wildcards" else []
    )
    assert offline.main([]) == 1
    assert "FAIL iam-without-wildcards\n     broken thing: set X" in capsys.readouterr().out


def test_make_policy_names_a_bad_config_value_before_any_policy(capsys):
    import offline

    assert offline.main(["logRetentionDays=0"]) == 2
    assert "logRetentionDays=0 is invalid" in capsys.readouterr().out


def test_two_bridges_in_one_program_pass_every_policy_and_a_break_in_one_is_found(monkeypatch):
    monkeypatch.chdir(EXAMPLE)
    graph = run_program(
        {},
        project="contact-center",
        program=PROJECT_DIR / "tests" / "infra" / "programs" / "two_bridges.py",
        stack_file=EXAMPLE / "Pulumi.dev.yaml",
        project_file=EXAMPLE / "Pulumi.yaml",
    )
    assert {name: violations(name, graph) for name in POLICIES} == {name: [] for name in POLICIES}
    (sales_key,) = [
        r.name for r in graph.by_type("aws:sns/topic:Topic") if r.name.startswith("sales") and "in-topic" in r.name
    ]

    found = violations("topics-encrypted-with-kms", broken(graph, sales_key, _set(kmsMasterKeyId=None)))

    assert len(found) == 1 and f"SNS topic '{sales_key}' is not encrypted" in found[0]
