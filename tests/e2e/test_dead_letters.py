"""What Lambda leaves on a dead-letter path, as the sandbox reproduces it (the README's runbook reads these)."""

from __future__ import annotations

import json

from sandbox import trace
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
