"""What invokes the inbound function: each trigger's event is recognised by exactly one row of `TRIGGERS`, and an
event no row recognises is refused with an error naming what the function serves, never answered as a success.
test_inbound's world (moto, the project's one fake)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from tests.fixtures.fakes import LambdaContext
from tests.handlers.test_inbound import World, text_burst
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.errors import UnsupportedEvent
from whatsapp_buffer.settings import TRANSCRIPTS_SWEEP_EVENT

# One event of each trigger, as Lambda hands it over: an SQS batch, a DynamoDB stream batch, an EventBridge event
# of Transcribe (detail-type "Transcribe Job State Change") and the sweep schedule's fixed input.
TRIGGER_EVENTS = {
    "the bursts FIFO queue (SQS)": {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]},
    "the raw table's stream (DynamoDB)": {"Records": [{"eventSource": "aws:dynamodb", "eventName": "INSERT"}]},
    "Transcribe's job state changes (EventBridge)": {
        "source": "aws.transcribe",
        "detail-type": "Transcribe Job State Change",
        "detail": {"TranscriptionJobName": "media-bucket-5550007", "TranscriptionJobStatus": "COMPLETED"},
    },
    "the owed transcripts' sweep (EventBridge Scheduler)": dict(TRANSCRIPTS_SWEEP_EVENT),
}

NONSENSE = {
    "empty object": {},
    "no records": {"Records": []},
    "an SNS delivery": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]},
    "a record that is not an object": {"Records": ["aws:sqs"]},
    "another service's event": {"source": "aws.s3", "detail-type": "Object Created"},
    "a transcribe source with another detail-type": {"source": "aws.transcribe", "detail-type": "Something Else"},
    "a string": "hello",
    "null": None,
}


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    inbound.installed.reset()


@pytest.mark.parametrize("source", sorted(TRIGGER_EVENTS))
def test_each_triggers_event_is_recognised_by_its_own_row_and_no_other(source):
    rows = [trigger.source for trigger in inbound.TRIGGERS if trigger.recognises(TRIGGER_EVENTS[source])]

    assert rows == [source]


def test_the_table_has_one_row_per_trigger_the_function_serves():
    assert sorted(trigger.source for trigger in inbound.TRIGGERS) == sorted(TRIGGER_EVENTS)


@pytest.mark.parametrize("event", list(NONSENSE.values()), ids=list(NONSENSE))
def test_an_event_no_trigger_recognises_is_refused_naming_what_the_function_serves(world, event):
    # GIVEN a chat the function already delivered a burst into
    world.deliver(text_burst("Hello"))
    before = len(world.calls("SendMessage"))
    assert before > 0

    # WHEN the function is invoked with an event of none of its triggers
    with pytest.raises(UnsupportedEvent) as refused:
        inbound.handler(event, LambdaContext())

    # THEN the error says so and lists every trigger, and nothing was sent
    message = str(refused.value)
    assert "none of them" in message
    assert all(source in message for source in TRIGGER_EVENTS)
    assert len(world.calls("SendMessage")) == before


def test_the_refusal_names_the_events_top_level_keys_not_its_values(world):
    with pytest.raises(UnsupportedEvent, match=r"top-level keys \['detail', 'source'\]") as refused:
        inbound.handler({"source": "aws.s3", "detail": {"secret": "+15550001111"}}, LambdaContext())

    assert "15550001111" not in str(refused.value)
