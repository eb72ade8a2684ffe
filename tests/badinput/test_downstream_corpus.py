"""The out-topic, bursts-queue and raw-stream corpora through the outbound, inbound and aggregator handlers.

Outbound (SNS, async): a malformed streaming message raises MalformedEvent (retries, then its DLQ); one of an unknown
type is a logged notice, not an error. Inbound (SQS FIFO): a body that is not a burst is a batch item failure of its
own conversation only (maxReceiveCount then moves it to the DLQ). Aggregator (stream, tumbling window): a record of an
unknown shape is a batch item failure; the conversations of the good records in the batch still flush.
"""

from __future__ import annotations

import copy
import json
import uuid

import pytest

from tests import corpus
from tests.fixtures import eum
from tests.fixtures.log_lines import log_lines
from tests.handlers import test_inbound, test_outbound
from tests.handlers.conftest import T0, drain_bursts, emitted
from whatsapp_buffer.aggregator import flush as flush_module
from whatsapp_buffer.entrypoints import aggregator as aggregator_module
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.outbound.send_reply import IGNORED, SENT

# ------------------------------------------------------------------ outbound: Connect streaming events

STREAMING = {
    **{name: json.loads(text) for name, text in corpus.files("streaming").items()},
    **corpus.generated_streaming(),
}
STREAMING_EXPECTED = {
    "attachments_not_a_list.json": (MalformedEvent, "Attachments is not a list"),
    "content_not_a_string.json": IGNORED,
    "deeply_nested": (MalformedEvent, "nested too deeply"),
    "json_array.json": (MalformedEvent, "not a JSON object"),
    "lone_surrogate_in_agent_text.json": SENT,
    "message_attributes_not_an_object.json": SENT,
    "no_contact_id.json": (MalformedEvent, "no ContactId"),
    "no_type.json": (MalformedEvent, "no Type"),
    "no_visibility.json": IGNORED,
    "not_json.json": (MalformedEvent, "not JSON"),
    "sns_without_message.json": (MalformedEvent, "without a Message"),
    "unknown_event_content_type.json": IGNORED,
    "unknown_type.json": IGNORED,
}
CONTACT = "contact-1"
GOOD_REPLY = {
    "Type": "MESSAGE",
    "ContentType": "text/plain",
    "Content": "good neighbour reply",
    "Id": "stream-good",
    "ContactId": CONTACT,
    "ParticipantRole": "AGENT",
}


def sns_record(sns: dict) -> dict:
    return {"EventSource": "aws:sns", "Sns": {"Type": "Notification", "MessageId": str(uuid.uuid4()), **sns}}


def good_reply_record() -> dict:
    return sns_record(
        {
            "Message": json.dumps(GOOD_REPLY),
            "MessageAttributes": {"MessageVisibility": {"Type": "String", "Value": "ALL"}},
        }
    )


@pytest.fixture
def outbound_world():
    with test_outbound.mock_aws():
        world = test_outbound.World()
        world.record_contact = CONTACT
        yield world
    outbound.installed.reset()


def test_every_streaming_corpus_input_has_an_expected_outcome():
    assert set(STREAMING) == set(STREAMING_EXPECTED)


@pytest.mark.parametrize("name", sorted(STREAMING_EXPECTED))
def test_streaming_corpus_input_is_relayed_ignored_or_rejected_and_the_next_reply_still_arrives(outbound_world, name):
    outbound_world.open_session()
    expected = STREAMING_EXPECTED[name]
    # GIVEN one corpus streaming message WHEN the out-topic delivers it
    if isinstance(expected, tuple):
        error, fragment = expected
        with pytest.raises(error, match=fragment):
            outbound_world.handle(sns_record(copy.deepcopy(STREAMING[name])))
    else:
        assert outbound_world.handle(sns_record(copy.deepcopy(STREAMING[name]))) == [expected]
    # THEN the agent's next reply reaches the customer exactly once
    before = len(outbound_world.sent())
    assert outbound_world.handle(good_reply_record()) == [SENT]
    assert [m["text"]["body"] for m in outbound_world.sent()[before:]] == ["good neighbour reply"]


def test_a_lone_surrogate_in_an_agent_reply_is_replaced_not_a_crash(outbound_world):
    outbound_world.open_session()
    outbound_world.handle(sns_record(copy.deepcopy(STREAMING["lone_surrogate_in_agent_text.json"])))
    assert outbound_world.sent()[0]["text"]["body"] == "Hi \ufffd there"


# ------------------------------------------------------------------ inbound: bursts-queue bodies

BURSTS = {**corpus.files("bursts"), **corpus.generated_bursts()}


@pytest.fixture
def inbound_world():
    with test_inbound.mock_aws():
        yield test_inbound.World()
    test_inbound.inbound.installed.reset()


@pytest.mark.parametrize("name", sorted(BURSTS))
def test_a_body_that_is_not_a_burst_fails_alone_and_the_other_conversation_is_delivered(inbound_world, name):
    # GIVEN a poison body and a good burst of another conversation in one batch
    good = test_inbound.text_burst("good neighbour")
    inbound_world.enqueue(
        (BURSTS[name], "poison-group", "poison"), (good.to_json(), good.conversation.key, good.burst_id)
    )
    # WHEN the inbound handler runs
    received, failed = inbound_world.run()
    # THEN only the poison is a batch item failure (SQS retries it, then its DLQ keeps it)
    assert len(received) == 2 and failed == {received[0]}
    # AND the good burst is in its chat, once
    contact_id = inbound_world.session().contact_id
    assert inbound_world.fake.contents(contact_id) == ["good neighbour"]
    # AND a redelivery of the poison fails the same way without touching the chat
    _, failed_again = inbound_world.retry()
    assert failed_again == {received[0]}
    assert len(inbound_world.fake.items(contact_id)) == 1


# ------------------------------------------------------------------ aggregator: stream records of unknown shape

STREAM_RECORDS = {name: json.loads(text) for name, text in corpus.files("stream_records").items()}
DROPPED_BY_FILTER = {"no_dynamodb_section.json"}
"""Records the event source mapping's filter criteria never hand to the aggregator (Powertools' batch processor
cannot even report a record without a `dynamodb` section as a failure: it raises AttributeError)."""


@pytest.fixture(scope="module")
def stream_filters() -> list:
    from sandbox.program import run_program
    from sandbox.wiring import from_graph

    wiring = from_graph(run_program({}, stack="badinput"), region="us-east-1", account_id="123456789012")
    # The aggregator's mapping (the inbound function's own reader of the stream takes refusal items only).
    (mapping,) = [m for m in wiring.stream_mappings if m.function == "aggregator"]
    return mapping.filters


@pytest.mark.parametrize("name", sorted(STREAM_RECORDS))
def test_the_stacks_stream_filter_drops_exactly_the_records_the_aggregator_cannot_report(stream_filters, name):
    from sandbox import filters

    assert filters.matches_any(stream_filters, STREAM_RECORDS[name]) is (name not in DROPPED_BY_FILTER)


@pytest.mark.parametrize("name", sorted(set(STREAM_RECORDS) - DROPPED_BY_FILTER))
def test_a_stream_record_of_unknown_shape_fails_alone_and_its_batch_neighbour_flushes(
    ingest, window, virtual_clock, queue_url, name
):
    # GIVEN a good message stored (its control record on the stream) and a poison record ahead of it in the batch
    ingest_handler_deliver(corpus.envelope(corpus.messages_change(corpus.text_message("wamid.CORPUS.agg.good"))))
    poison = copy.deepcopy(STREAM_RECORDS[name])
    records = [poison, *window.stream.new_records()]
    # WHEN the window's invoke and then its final invoke run
    response = aggregator_module.handler(window.event(records, {}, False, T0 - 5), None)
    virtual_clock.set(T0 + 30)
    final = aggregator_module.handler(window.event([], response["state"], True, T0 - 5), None)
    # THEN only the poison is reported as a failure (the mapping retries it a bounded number of times, then its
    # on-failure destination) ...
    poison_seq = poison.get("dynamodb", {}).get("SequenceNumber", "")
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [poison_seq]
    assert final == {"state": {}, "batchItemFailures": []}
    # ... and the good message's burst is on the queue
    (burst, _), *rest = drain_bursts(queue_url)
    assert burst.message_ids == ("wamid.CORPUS.agg.good",) and rest == []


REFUSAL_REASONS = {
    "bad_conversation_key.json": "not a conversation key",
    "keys_of_another_table.json": "stream record keys are not the raw table's",
    "numeric_keys.json": "stream record keys are not the raw table's",
}


@pytest.mark.parametrize("name", sorted(set(STREAM_RECORDS) - DROPPED_BY_FILTER))
def test_a_refused_stream_record_is_logged_with_its_reason_and_sequence_number_and_counted(window, capsys, name):
    # GIVEN a record of unknown shape WHEN the aggregator's window invoke gets it
    record = copy.deepcopy(STREAM_RECORDS[name])
    with log_lines() as lines:
        response = aggregator_module.handler(window.event([record], {}, False, T0 - 5), None)
    # THEN it is reported as a failure, and a warning says why with the sequence number the failures queue keeps
    sequence_number = record["dynamodb"]["SequenceNumber"]
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [sequence_number]
    (refused,) = [line for line in lines if line["message"] == "stream record refused"]
    assert refused["level"] == "WARNING" and refused["sequence_number"] == sequence_number
    assert refused["exception_name"] == "MalformedEvent" and REFUSAL_REASONS[name] in refused["reason"]
    # AND it is counted
    assert emitted(capsys)["StreamRecordsRefused"] == [1]


def test_a_record_refused_for_an_unexpected_error_is_logged_without_the_errors_message(
    ingest, window, capsys, monkeypatch
):
    # GIVEN a control record, and a bug whose error message carries the conversation key (the full phone number)
    message = corpus.text_message("wamid.CORPUS.agg.bug", customer=corpus.BAD_CUSTOMER)
    ingest_handler_deliver(corpus.envelope(corpus.messages_change(message)))
    records = window.stream.new_records()

    def broken(views, key, *args, **kwargs):
        raise KeyError(key)

    monkeypatch.setattr(flush_module, "merge_view", broken)
    capsys.readouterr()
    # WHEN the aggregator's window invoke gets the record
    with log_lines() as lines:
        response = aggregator_module.handler(window.event(records, {}, False, T0 - 5), None)
    # THEN it is refused, and the warning names the error's type and where it was raised, never its message
    assert len(response["batchItemFailures"]) == 1
    (refused,) = [line for line in lines if line["message"] == "stream record refused"]
    assert refused["exception_name"] == "KeyError" and refused["reason"].startswith("KeyError at ")
    output = capsys.readouterr()
    assert corpus.BAD_CUSTOMER not in output.out + output.err


def ingest_handler_deliver(body: str) -> None:
    ingest_module.handler(eum.sns_event(body), None)
