"""SQS's rule on the characters of a message body (sandbox.sqs_message_rules, applied in each function's worker by
sandbox.sdk_events); moto accepts any body.

The source, quoted in each test: the botocore model's SendMessage documentation (MessageBody) and its
InvalidMessageContents error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.sdk_events import SdkHooks, WorkerFaults
from sandbox.sqs_message_rules import OUTSIDE_ALLOWED
from tests.fixtures.fakes import NO_RETRIES

ALLOWED_DOC = (
    "<code>#x9</code> | <code>#xA</code> | <code>#xD</code> | <code>#x20</code> to <code>#xD7FF</code> | "
    "<code>#xE000</code> to <code>#xFFFD</code> | <code>#x10000</code> to <code>#x10FFFF</code>"
)
REJECTS_DOC = (
    "If a message contains characters outside the allowed set, Amazon SQS rejects the message and returns an "
    "InvalidMessageContents error."
)


def _model() -> Any:
    return botocore.session.get_session().get_service_model("sqs")


@pytest.fixture
def sqs() -> Iterator[tuple[Any, str, SdkHooks]]:
    """A function's SQS client, its calls seen by the worker's hooks, and a FIFO queue like the bursts queue."""
    with mock_aws():
        hooks = SdkHooks(WorkerFaults([], "test"))
        with hooks.installed():
            # A session of its own: boto3's default one was made before the hooks were installed.
            client = boto3.session.Session().client("sqs", region_name="us-east-1", config=NO_RETRIES)
            url = client.create_queue(QueueName="bursts.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            hooks.take()
            yield client, url, hooks


def _send(client: Any, url: str, body: str) -> dict[str, Any]:
    return dict(client.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId="d"))


@pytest.mark.parametrize("character", ["\ufffe", "\uffff", "\x00", "\x08", "\x0b", "\x1f"])
def test_a_body_with_a_character_outside_the_allowed_set_is_invalid_message_contents(sqs, character):
    """botocore sqs SendMessage, MessageBody: "The following Unicode characters are allowed ... #x9 | #xA | #xD |
    #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF" ... "If a message contains characters outside the allowed
    set, Amazon SQS rejects the message and returns an InvalidMessageContents error." The error shape's documentation:
    "The message contains characters outside the allowed set." (An earlier revision of this text said SQS replaces such
    characters with U+FFFD; the model botocore ships says it rejects, and the sandbox follows it.)"""
    operation = _model().operation_model("SendMessage")
    doc = " ".join(str(operation.input_shape.members["MessageBody"].documentation).split())
    assert ALLOWED_DOC in doc
    assert REJECTS_DOC in doc
    assert "InvalidMessageContents" in [shape.name for shape in operation.error_shapes]
    client, url, hooks = sqs
    with pytest.raises(ClientError) as refused:
        _send(client, url, f'{{"text":"my code is 12{character}34"}}')
    answer = refused.value.response
    assert answer["Error"]["Code"] == "InvalidMessageContents"
    assert (
        "The message contains characters outside the allowed set."
        in _model().shape_for("InvalidMessageContents").documentation
    )
    assert answer["Error"]["Message"] == "The message contains characters outside the allowed set."
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [call.error for call in hooks.take()] == ["InvalidMessageContents"]
    assert client.receive_message(QueueUrl=url).get("Messages", []) == []


@pytest.mark.parametrize(
    "body",
    [
        "tab\there, new\nline, return\r",
        "edges \x20 \ud7ff \ue000 \ufffd \U00010000 \U0010ffff",
        "every language: привет مرحبا 你好 😀",
        '{"text":"\\uffff"}',  # the JSON escape of U+FFFF is six ASCII characters
    ],
)
def test_a_body_of_allowed_characters_is_sent(sqs, body):
    """The same documentation: #x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD and #x10000 to #x10FFFF are allowed,
    the edges of each range included."""
    client, url, hooks = sqs
    assert _send(client, url, body)["MessageId"]
    assert [call.error for call in hooks.take()] == [None]
    assert client.receive_message(QueueUrl=url)["Messages"][0]["Body"] == body


def test_the_allowed_set_is_the_documented_one_character_by_character():
    """Every code point of the Basic Multilingual Plane and the edges of the supplementary planes against the ranges the
    documentation lists (#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF)."""
    documented = [(0x9, 0x9), (0xA, 0xA), (0xD, 0xD), (0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF)]
    for point in [*range(0x10000), 0x10000, 0x1FFFF, 0x10FFFF]:
        allowed = any(low <= point <= high for low, high in documented)
        assert (OUTSIDE_ALLOWED.search(chr(point)) is None) is allowed, hex(point)
