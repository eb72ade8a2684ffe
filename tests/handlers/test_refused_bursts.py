"""A burst the bursts queue refuses for what it holds does not block its conversation forever: the flush fails and is
retried at the next windows, and after flush.MAX_SEND_REFUSALS refusals the agent is told in its place, its messages
are set aside with the reason, and the rest of the conversation flushes.

The queue here keeps messages of at most 1,024 bytes (SetQueueAttributes MaximumMessageSize: "An integer from 1,024
bytes (1 KiB) up to 1,048,576 bytes (1 MiB)", botocore sqs), so moto refuses a long burst as SQS does
(InvalidParameterValue, "Message must be shorter than 1024 bytes"). Virtual time as in test_aggregator.
"""

from __future__ import annotations

import json

import boto3
import pytest

from tests.fixtures import eum
from tests.fixtures.log_lines import log_lines
from tests.handlers.conftest import T0, drain_bursts, emitted, message_item
from tests.handlers.test_aggregator import arrive, run_windows
from whatsapp_buffer.aggregator.flush import MAX_SEND_REFUSALS
from whatsapp_buffer.model import Conversation

CONV = Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER)
LONG = "a long message " * 100


@pytest.fixture
def queue_url(aws) -> str:
    sqs = boto3.client("sqs")
    return sqs.create_queue(
        QueueName="whatsapp-buffer-test-bursts.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false", "MaximumMessageSize": "1024"},
    )["QueueUrl"]


def test_a_burst_the_queue_refuses_is_told_to_the_agent_and_set_aside_after_bounded_refusals(
    ingest, window, virtual_clock, queue_url, dynamodb, capsys
):
    # GIVEN a message the queue cannot take (its burst is over the queue's size), then a short one later
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", LONG, sent_at=T0 + 1))
    # WHEN the conversation is due: the first flushes are refused and wait (WhatsApp order is kept)
    run_windows(window, T0 + 20 + 10 * (MAX_SEND_REFUSALS - 1))
    assert drain_bursts(queue_url) == []
    item = message_item(dynamodb, CONV, "wamid.1")
    assert (item["status"]["S"], int(item["send_refusals"]["N"])) == ("claimed", MAX_SEND_REFUSALS - 1)
    # THEN at the MAX_SEND_REFUSALS-th refusal the agent is told in its place, under its message id
    run_windows(window, T0 + 20 + 10 * MAX_SEND_REFUSALS)
    ((notice, _),) = drain_bursts(queue_url)
    assert notice.message_ids == ("wamid.1",)
    (line,) = [item.text for item in notice.items]
    assert line.startswith("[WhatsApp bridge] The customer sent 1 message(s) that could not be passed on")
    assert "InvalidParameterValue" in line and "a long message" not in line
    # AND the message is set aside with why (never its words), logged and counted
    item = message_item(dynamodb, CONV, "wamid.1")
    assert item["status"]["S"] == "set_aside"
    assert item["set_aside_reason"]["S"] == "the bursts queue refused the burst (InvalidParameterValue)"
    out = emitted(capsys)
    assert (sum(out.get("BurstsRefused", [])), sum(out.get("MessagesSetAside", []))) == (1, 1)
    # AND the customer's next message flushes as usual
    arrive(virtual_clock, T0 + 80, eum.message("wamid.2", "ok?", sent_at=T0 + 80))
    run_windows(window, T0 + 120)
    assert [(burst.message_ids, burst.items[0].text) for burst, _ in drain_bursts(queue_url)] == [(("wamid.2",), "ok?")]


def test_a_refused_burst_is_logged_as_set_aside_with_its_reason_never_its_words(
    ingest, window, virtual_clock, queue_url
):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", LONG, sent_at=T0 + 1))
    with log_lines() as lines:
        run_windows(window, T0 + 20 + 10 * MAX_SEND_REFUSALS)
    refused = [line for line in lines if line["message"].startswith("the bursts queue refused a burst")]
    assert [(line["level"], line["reason"], line["messages"]) for line in refused] == [
        ("ERROR", "the bursts queue refused the burst (InvalidParameterValue)", 1)
    ]
    assert "a long message" not in json.dumps(lines) and eum.CUSTOMER not in json.dumps(lines)
