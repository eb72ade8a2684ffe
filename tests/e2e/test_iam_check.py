"""The replay's IAM check: every AWS action a function performs must be allowed by its role as the program declares it."""

from __future__ import annotations

import pytest

from sandbox import trace
from sandbox.iam_check import IamDenied
from sandbox.program import ACCOUNT_ID, run_program
from sandbox.replay import Replay
from sandbox.wiring import from_graph
from tests.e2e.conftest import TRACES


def _wiring_without(function: str, action: str):
    graph = run_program({}, stack="sandbox")
    wiring = from_graph(graph, region="us-east-1", account_id=ACCOUNT_ID)
    policy = wiring.functions[function].policy
    for statement in policy.statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        statement["Action"] = [a for a in actions if a != action]
    policy.statements = [s for s in policy.statements if s["Action"]]
    return wiring


@pytest.mark.parametrize(
    ("function", "action"),
    [
        ("ingest", "dynamodb:PutItem"),
        ("aggregator", "sqs:SendMessage"),
        ("inbound", "connect:StartChatContact"),
        ("outbound", "social-messaging:SendWhatsAppMessage"),
    ],
)
def test_a_removed_permission_fails_the_replay_naming_the_action_and_the_role(function, action):
    wiring = _wiring_without(function, action)
    events = trace.read_trace(TRACES / "burst.jsonl")
    with pytest.raises(IamDenied) as raised:
        Replay(events, wiring=wiring).run()
    assert raised.value.action == action
    assert raised.value.role == wiring.functions[function].policy.role
    assert action in str(raised.value) and wiring.functions[function].policy.role in str(raised.value)


def test_the_declared_policies_allow_everything_the_example_replay_does():
    events = trace.read_trace(TRACES / "two_customers_media.jsonl")
    transcript = Replay(events).run()  # would raise IamDenied on the first action a role does not allow
    assert transcript["stats"]["connect_messages"] > 0


def test_a_presigned_put_is_checked_against_the_role_of_the_function_that_signed_it():
    """S3 authorises the request of a pre-signed URL with its signer's credentials (Amazon S3 User Guide, "Download
    and upload objects with presigned URLs": "The credentials used by the presigned URL are those of the AWS Identity
    and Access Management (IAM) principal who generated the URL"): the inbound function signs the PUT End User
    Messaging sends the customer's media with, so a role whose s3:PutObject leaves out inbound/ fails the replay."""
    graph = run_program({}, stack="sandbox")
    wiring = from_graph(graph, region="us-east-1", account_id=ACCOUNT_ID)
    policy = wiring.functions["inbound"].policy
    for statement in policy.statements:
        if "s3:PutObject" in statement["Action"]:
            statement["Action"] = [a for a in statement["Action"] if a != "s3:PutObject"]
            policy.statements.append(
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject"],
                    "Resource": [r + "-not-inbound" for r in statement["Resource"]],
                }
            )
            break
    events = trace.read_trace(TRACES / "two_customers_media.jsonl")
    with pytest.raises(IamDenied) as raised:
        Replay(events, wiring=wiring).run()
    assert raised.value.action == "s3:PutObject"
    assert ":::" in raised.value.resource and "/inbound/" in raised.value.resource
