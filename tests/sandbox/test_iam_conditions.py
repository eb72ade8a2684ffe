"""The replay's IAM check evaluates Condition blocks as IAM does (sandbox.iam_conditions), on the stack's own grants.

IAM User Guide, "Conditions with multiple context keys or values": "If your policy statement has multiple condition
operators, the condition operators are evaluated using a logical AND. If your policy statement has multiple context
keys attached to a single condition operator, the context keys are evaluated using a logical AND. If a single
condition operator includes multiple values for a context key, those values are evaluated using a logical OR. If a
single negated matching condition operator includes multiple values for a context key, those values are evaluated
using a logical NOR." "Multivalued context key examples": "The ForAllValues set operator also returns true if there
are no context keys in the request." A plain operator on a key absent from the request does not match, a negated one
("StringNotLike") matches (iam.cloudcopilot.io, StringNotLikeIfExists: "'Negative' operators such as StringNotLike
already match requests if the key is not present").
"""

from __future__ import annotations

import pytest

from sandbox.iam_check import IamDenied, RoleCheck, RolePolicy, required
from sandbox.iam_conditions import evaluate
from sandbox.program import ACCOUNT_ID, run_program
from sandbox.sdk_events import ApiCall
from sandbox.wiring import from_graph


@pytest.fixture(scope="module")
def wiring():
    graph = run_program({"whatsapp-buffer:transcribeLanguages": "en-US"}, stack="sandbox")
    return from_graph(graph, region="us-east-1", account_id=ACCOUNT_ID)


@pytest.fixture(scope="module")
def roles(wiring):
    return RoleCheck(wiring.functions, wiring.account, {t.name: t.hash_key for t in wiring.tables.values()})


def _table(wiring, hash_key: str) -> str:
    return next(t.name for t in wiring.tables.values() if t.hash_key == hash_key)


def _allowed(roles, function: str, service: str, operation: str, params: dict) -> bool:
    try:
        roles.calls(function, [ApiCall(service, operation, params)])
    except IamDenied:
        return False
    return True


def test_operators_and_keys_are_anded_and_the_values_of_one_key_ored():
    condition = {"StringEquals": {"k:a": ["x", "y"], "k:b": "z"}, "StringLike": {"k:c": "p/*"}}
    holds = {"k:a": ("y",), "k:b": ("z",), "k:c": ("p/1",)}
    assert evaluate(condition, holds).holds
    assert not evaluate(condition, {**holds, "k:a": ("w",)}).holds
    assert not evaluate(condition, {**holds, "k:b": ("y",)}).holds
    assert not evaluate(condition, {**holds, "k:c": ("q/1",)}).holds


def test_a_negated_operator_with_several_values_is_their_nor():
    condition = {"StringNotLike": {"k:a": ["x*", "y*"]}}
    assert evaluate(condition, {"k:a": ("z1",)}).holds
    assert not evaluate(condition, {"k:a": ("y1",)}).holds


def test_for_all_values_needs_every_request_value_to_match_and_holds_for_none():
    condition = {"ForAllValues:StringLike": {"k:keys": ["outreach#*"]}}
    assert evaluate(condition, {"k:keys": ("outreach#1", "outreach#2")}).holds
    assert not evaluate(condition, {"k:keys": ("outreach#1", "whatsapp#2")}).holds
    assert evaluate(condition, {"k:keys": ()}).holds


def test_a_key_absent_from_the_request_fails_a_plain_operator_and_passes_a_negated_one():
    assert not evaluate({"StringLike": {"k:a": "x*"}}, {"k:a": ()}).holds
    assert evaluate({"StringNotLike": {"k:a": "x*"}}, {"k:a": ()}).holds


def test_arn_like_matches_each_of_the_six_components_with_wildcards():
    condition = {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:123456789012:topic-*"}}
    assert evaluate(condition, {"aws:sourcearn": ("arn:aws:sns:us-east-1:123456789012:topic-a",)}).holds
    assert not evaluate(condition, {"aws:sourcearn": ("arn:aws:sns:us-east-1:999999999999:topic-a",)}).holds


def test_a_key_the_check_cannot_fill_grants_nothing_and_is_reported():
    policy = RolePolicy("r")
    policy.add_document(
        {
            "Statement": [
                {
                    "Sid": "OnlyFromTheVpc",
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
                }
            ]
        }
    )
    decision = policy.decide("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q")
    assert not decision.allowed
    assert decision.unevaluated == ("OnlyFromTheVpc (condition key aws:SourceVpce)",)


def test_the_outreach_function_may_write_outreach_items_only(wiring, roles):
    table = _table(wiring, "conversation")
    for operation in ("GetItem", "UpdateItem"):
        assert _allowed(
            roles,
            "outreach",
            "dynamodb",
            operation,
            {"TableName": table, "Key": {"conversation": {"S": "outreach#c-1"}}},
        )
        assert not _allowed(
            roles,
            "outreach",
            "dynamodb",
            operation,
            {"TableName": table, "Key": {"conversation": {"S": "whatsapp#c-1"}}},
        )
    item = {"conversation": {"S": "whatsapp#c-1"}, "contact": {"S": "c"}}
    assert not _allowed(roles, "outreach", "dynamodb", "PutItem", {"TableName": table, "Item": item})
    assert _allowed(
        roles,
        "outreach",
        "dynamodb",
        "PutItem",
        {"TableName": table, "Item": {**item, "conversation": {"S": "outreach#c-1"}}},
    )


def test_inbound_updates_a_transcript_owed_item_and_a_conversation_by_separate_grants(wiring):
    table = _table(wiring, "conversation")
    owed = {"TableName": table, "Key": {"conversation": {"S": "transcript-owed#b-1"}}}
    plain = {"TableName": table, "Key": {"conversation": {"S": "whatsapp#p#c"}}}
    policy = wiring.functions["inbound"].policy
    by_sid = {s.get("Sid"): s for s in policy.statements}
    (settle,) = required("dynamodb", "UpdateItem", owed, wiring.account, {table: "conversation"})
    (write,) = required("dynamodb", "UpdateItem", plain, wiring.account, {table: "conversation"})
    settle_only, write_only = RolePolicy("settle"), RolePolicy("write")
    settle_only.add_document({"Statement": [by_sid["SettleTranscriptsOwed"]]})
    write_only.add_document({"Statement": [by_sid["RecordWhenCustomersWrote"]]})

    assert settle_only.allows(*settle) and not settle_only.allows(*write)
    assert write_only.allows(*write) and not write_only.allows(*settle)
    assert policy.allows(*settle) and policy.allows(*write)


@pytest.mark.parametrize(
    ("output", "allowed"),
    [
        ({"OutputKey": "transcripts/b-1.json"}, True),
        ({"OutputKey": "media/b-1.json"}, False),
        ({}, False),
        ({"OutputKey": "transcripts/b-1.json", "OutputBucketName": "another-bucket"}, False),
    ],
)
def test_inbound_starts_a_transcription_only_into_the_transcripts_of_the_media_bucket(wiring, roles, output, allowed):
    (bucket,) = wiring.buckets
    params = {
        "TranscriptionJobName": f"{bucket}-b-1",
        "Media": {"MediaFileUri": f"s3://{bucket}/inbound/b/0-m"},
        "OutputBucketName": bucket,
        **output,
    }
    (start,) = [
        r for r in required("transcribe", "StartTranscriptionJob", params, wiring.account) if "transcribe" in r.action
    ]
    assert wiring.functions["inbound"].policy.allows(*start) is allowed
    assert _allowed(roles, "inbound", "transcribe", "StartTranscriptionJob", params) is allowed


@pytest.mark.parametrize(
    ("prefix", "allowed"),
    [
        ("inbound/b/0-m/", True),
        ("prepared/m.wav", True),
        ("transcripts/", False),
        ("", False),  # a listing of the whole bucket
    ],
)
def test_inbound_lists_the_media_bucket_only_where_it_copies_media(wiring, roles, prefix, allowed):
    # Service Authorization Reference (parliament's copy): s3:ListBucket's condition key s3:prefix "Filters access by
    # key name prefix"; the stack limits it to inbound/* and, where it transcribes, prepared/*.
    (bucket,) = wiring.buckets
    params = {"Bucket": bucket, "MaxKeys": 1, **({"Prefix": prefix} if prefix else {})}
    assert _allowed(roles, "inbound", "s3", "ListObjectsV2", params) is allowed


def test_the_aggregator_may_put_only_the_tick_attributes(wiring, roles):
    table = _table(wiring, "pk")
    tick = {name: {"S": "x"} for name in ("pk", "sk", "record_type", "listed", "written_at", "expires_at")}
    assert _allowed(roles, "aggregator", "dynamodb", "PutItem", {"TableName": table, "Item": tick})
    assert not _allowed(
        roles, "aggregator", "dynamodb", "PutItem", {"TableName": table, "Item": {**tick, "body": {"S": "hi"}}}
    )


def test_a_grant_whose_condition_key_cannot_be_filled_denies_naming_the_statement_and_the_key(wiring):
    """Here no partition key is known for the table, so `dynamodb:LeadingKeys` cannot be filled: never a silent pass."""
    roles = RoleCheck(wiring.functions, wiring.account)  # no table key schema: LeadingKeys cannot be filled
    table = _table(wiring, "conversation")
    with pytest.raises(IamDenied, match="RecordOutreach \\(condition key dynamodb:LeadingKeys\\)") as denied:
        roles.calls(
            "outreach",
            [ApiCall("dynamodb", "GetItem", {"TableName": table, "Key": {"conversation": {"S": "outreach#1"}}})],
        )
    assert denied.value.unevaluated
