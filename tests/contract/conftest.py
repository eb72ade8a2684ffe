"""The contract suite: one test per service rule the runtime depends on, each quoting its source.

The rules are checked against the project's one fake (`sandbox.fakes`) through real boto3 clients in-process, with
S3 from moto — the same fake the handler tests and the sandbox use. Where the runtime holds its own copy of a rule
(Connect's attachment list), a test pins that copy to the same quoted source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox.fakes import FakeServices
from tests.fixtures.fakes import NO_RETRIES

NUMBER = "phone-number-id-5f811eaa4c81499384c496b909afbb1a"
BUCKET = "media-bucket"
T0 = 1_800_000_000.0


@dataclass
class Aws:
    fake: FakeServices
    s3: Any
    connect: Any
    participant: Any
    social: Any
    clock: list[float]
    statuses: list[tuple[str, dict[str, Any]]]

    def open_chat(self) -> tuple[str, str]:
        """A started chat and its customer's connection token."""
        started = self.connect.start_chat_contact(
            InstanceId="instance", ContactFlowId="flow", ParticipantDetails={"DisplayName": "Maria"}
        )
        connection = self.participant.create_participant_connection(
            Type=["CONNECTION_CREDENTIALS"], ParticipantToken=started["ParticipantToken"], ConnectParticipant=True
        )
        return started["ContactId"], connection["ConnectionCredentials"]["ConnectionToken"]


@pytest.fixture
def aws():
    with mock_aws():
        clock = [T0]
        statuses: list[tuple[str, dict[str, Any]]] = []
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        fake = FakeServices(clock=lambda: clock[0], s3_client=s3, on_status=lambda o, s: statuses.append((o, s)))
        yield Aws(
            fake=fake,
            s3=s3,
            connect=fake.client("connect", config=NO_RETRIES),
            participant=fake.client("connectparticipant", config=NO_RETRIES),
            social=fake.client("socialmessaging", config=NO_RETRIES),
            clock=clock,
            statuses=statuses,
        )


def error_code(excinfo: Any) -> str:
    return excinfo.value.response["Error"]["Code"]
