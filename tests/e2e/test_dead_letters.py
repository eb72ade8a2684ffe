"""What Lambda leaves on a dead-letter path, as the sandbox reproduces it (the runbook in docs/operations.md reads these)."""

from __future__ import annotations

import json

from sandbox import faults, trace, verify
from sandbox.pipeline import local_client
from sandbox.program import ACCOUNT_ID
from sandbox.replay import DRAIN_SECONDS, START_EPOCH, Replay
from tests.e2e.conftest import TRACES


def test_a_rejected_input_lands_on_the_dead_letter_queue_as_lambda_records_it():
    events = trace.read_trace(TRACES / "redelivery_and_bad_input.jsonl")
    rep = Replay(events)
    rep.start()
    try:
        for event in events:
            rep.schedule(event, event.data.get("id"))
        rep.pipeline.run(until=START_EPOCH + DRAIN_SECONDS)
        sqs = local_client("sqs", rep.services.moto_url, "us-east-1")
        url = f"{rep.services.moto_url}/{ACCOUNT_ID}/{rep.wiring.stack_outputs['ingestDeadLetterQueueUrl'].rsplit('/', 1)[1]}"
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    finally:
        rep.stop()
    (message,) = messages
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == "{not json"
    assert record["responsePayload"]["errorType"] == "MalformedEvent"


def test_a_burst_the_bridge_cannot_deliver_is_listed_as_dead_lettered_once_sqs_moves_it():
    # botocore's SQS RedrivePolicy: "When the ReceiveCount for a message exceeds the maxReceiveCount for a queue,
    # Amazon SQS moves the message to the dead-letter-queue." Connect refusing every StartChatContact makes each of the
    # bursts queue's five receives fail; the replay must say so, not only count the message as never shown.
    events = trace.read_trace(TRACES / "burst.jsonl")
    rep = Replay(events, faults=faults.parse("connect", rate=1.0, seed=1))
    transcript = rep.run()
    from_queue = [r for r in transcript["rejected"] if r["source"] == "sqs"]
    assert transcript["connect"] == []
    assert from_queue and all(r["function"] == "inbound" for r in from_queue)
    assert all("bursts-dlq" in r["reason"] and "after 5 receives" in r["reason"] for r in from_queue)
    result = verify.audit(events, transcript)
    assert result.lost == result.messages and result.dead_lettered == len(transcript["rejected"]) >= len(from_queue)
