"""The functions one trigger invokes (ingest and outbound: SNS; aggregator: the raw table's stream) refuse an event
of another kind with an error naming what they serve and the event's top-level keys, never an empty success.

What SNS hands a subscribed function: `Records`, each with `"EventSource": "aws:sns"` and its `Sns` notification
(Powertools' `SNSEvent` data class reads `Records` and each record's `EventSource`; AWS's sample SNS event for Lambda,
https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html, has the same shape). A DynamoDB stream's tumbling
window invoke: `Records`, each `"eventSource": "aws:dynamodb"`, none on the final invoke, and `window`, `state`,
`isFinalInvokeForWindow` (Powertools' `DynamoDBStreamEvent`; https://docs.aws.amazon.com/lambda/latest/dg/
services-ddb-windows.html)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from tests.fixtures.fakes import LambdaContext
from tests.handlers.test_outbound import World
from whatsapp_buffer.entrypoints import aggregator as aggregator_module
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.errors import UnsupportedEvent
from whatsapp_buffer.outbound.send_reply import SENT

NOT_SNS = {
    "empty object": {},
    "no records": {"Records": []},
    "an SQS batch": {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]},
    "a DynamoDB stream batch": {"Records": [{"eventSource": "aws:dynamodb", "eventName": "INSERT"}]},
    "a record that is not an object": {"Records": ["aws:sns"]},
    "an EventBridge event": {"source": "aws.transcribe", "detail-type": "Transcribe Job State Change"},
    "a string": "hello",
    "null": None,
}


@pytest.fixture
def outbound_world():
    with mock_aws():
        yield World()
    outbound.installed.reset()


@pytest.mark.parametrize("event", list(NOT_SNS.values()), ids=list(NOT_SNS))
def test_outbound_refuses_an_event_that_is_not_an_sns_notification(outbound_world, event):
    # GIVEN a chat whose agent message the function relayed
    outbound_world.open_session()
    assert outbound_world.handle("agent_text") == [SENT]
    sent = len(outbound_world.sent())
    assert sent > 0

    # WHEN the function is invoked with an event that is not an SNS notification
    with pytest.raises(UnsupportedEvent) as refused:
        outbound.handler(event, LambdaContext())

    # THEN the error names the topic it serves, and nothing more was sent
    assert "the outbound function serves the Connect chat streaming topic (SNS)" in str(refused.value)
    assert "none of them" in str(refused.value)
    assert len(outbound_world.sent()) == sent


def test_outbound_refuses_an_event_that_is_not_an_sns_notification_naming_its_keys_not_its_values(outbound_world):
    with pytest.raises(UnsupportedEvent, match=r"top-level keys \['Details', 'Name'\]") as refused:
        outbound.handler({"Name": "ContactFlowEvent", "Details": {"to": "+15550001111"}}, LambdaContext())

    assert "15550001111" not in str(refused.value)


@pytest.mark.parametrize("event", list(NOT_SNS.values()), ids=list(NOT_SNS))
def test_ingest_refuses_an_event_that_is_not_an_sns_notification(ingest, store, event):
    with pytest.raises(UnsupportedEvent) as refused:
        ingest_module.handler(event, LambdaContext())

    assert "the ingest function serves End User Messaging's topic (SNS)" in str(refused.value)
    assert "none of them" in str(refused.value)


def test_ingest_refuses_an_event_that_is_not_an_sns_notification_naming_its_keys_not_its_values(ingest, store):
    with pytest.raises(UnsupportedEvent, match=r"top-level keys \['body', 'from'\]") as refused:
        ingest_module.handler({"from": "15550001111", "body": "hi"}, LambdaContext())

    assert "15550001111" not in str(refused.value)


NOT_A_WINDOW = {
    **{name: event for name, event in NOT_SNS.items() if name != "a DynamoDB stream batch"},
    "a stream batch without a window": {"Records": [{"eventSource": "aws:dynamodb", "eventName": "INSERT"}]},
    "an SNS notification": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}], "state": {}},
    "a window of SQS records": {"Records": [{"eventSource": "aws:sqs"}], "isFinalInvokeForWindow": False},
}


@pytest.mark.parametrize("event", list(NOT_A_WINDOW.values()), ids=list(NOT_A_WINDOW))
def test_aggregator_refuses_an_event_that_is_not_a_window_of_the_raw_tables_stream(aggregator, event):
    with pytest.raises(UnsupportedEvent) as refused:
        aggregator_module.handler(event, LambdaContext())

    assert "the aggregator function serves the raw table's stream on a tumbling window (DynamoDB)" in str(refused.value)
    assert "none of them" in str(refused.value)


def test_aggregator_refuses_an_event_that_is_not_a_window_naming_its_keys_not_its_values(aggregator):
    with pytest.raises(UnsupportedEvent, match=r"top-level keys \['Records', 'customer'\]") as refused:
        aggregator_module.handler({"Records": [], "customer": "15550001111"}, LambdaContext())

    assert "15550001111" not in str(refused.value)


def test_aggregator_answers_a_windows_final_invoke_without_records(aggregator):
    event = {"Records": [], "window": {}, "state": {}, "isFinalInvokeForWindow": True}

    assert aggregator_module.handler(event, LambdaContext()) == {"state": {}, "batchItemFailures": []}
