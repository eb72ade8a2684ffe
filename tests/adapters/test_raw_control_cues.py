"""The control item keeps the latest message's end-of-turn cue and the arrival before it (moto's DynamoDB), and the
tick carries them into the next window; the control item never holds the message's words."""

import boto3
import pytest
from moto import mock_aws

from tests.fixtures.tables import create_raw_table
from whatsapp_buffer.adapters.raw_control import control_key
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.aggregator.window import control_view, listed_view
from whatsapp_buffer.model import Conversation, InboundMessage
from whatsapp_buffer.storage_keys import tick_from_stream

TABLE = "raw-cues"
CONV = Conversation("106540352242922", "16505551234")
T0 = 1_749_416_383.0


@pytest.fixture
def store():
    with mock_aws():
        client = boto3.client("dynamodb")
        create_raw_table(client, TABLE)
        yield RawTable(TABLE, client)


def msg(message_id, text="hi"):
    return InboundMessage(message_id, CONV, "text", T0, {"text": text}, received_at=T0)


def control_item(store):
    return store.client.get_item(TableName=TABLE, Key=control_key(CONV), ConsistentRead=True)["Item"]


def test_first_message_files_its_cue_and_has_no_earlier_arrival(store):
    store.store_message(msg("wamid.1", "does it ship to Canada?"), now=T0 + 2, retention_hours=1, cue="done")
    control = store.read_control(CONV)
    assert (control.cue, control.last_arrival, control.previous_arrival) == ("done", T0 + 2, T0 + 2)
    # the first message's own arrival: no pause inside a burst to learn from
    assert control.previous_gap == 0


def test_each_message_moves_last_arrival_to_previous_arrival_in_the_same_write(store):
    # "DynamoDB evaluates every action against the item's attribute values as they were before the update"
    # (Developer Guide, "Using update expressions in DynamoDB")
    store.store_message(msg("wamid.1"), now=T0 + 2, retention_hours=1, cue="open")
    store.store_message(msg("wamid.2"), now=T0 + 9, retention_hours=1, cue="plain")
    control = store.read_control(CONV)
    assert (control.cue, control.previous_arrival, control.last_arrival) == ("plain", T0 + 2, T0 + 9)
    assert control.previous_gap == 7


def test_a_redelivery_changes_neither_cue_nor_arrivals(store):
    store.store_message(msg("wamid.1"), now=T0 + 2, retention_hours=1, cue="open")
    store.store_message(msg("wamid.2"), now=T0 + 9, retention_hours=1, cue="done")
    assert store.store_message(msg("wamid.2"), now=T0 + 15, retention_hours=1, cue="open") is False
    control = store.read_control(CONV)
    assert (control.cue, control.previous_arrival, control.last_arrival) == ("done", T0 + 2, T0 + 9)


def test_a_message_without_a_cue_removes_the_previous_one(store):
    store.store_message(msg("wamid.1"), now=T0 + 2, retention_hours=1, cue="done")
    store.store_message(msg("wamid.2"), now=T0 + 4, retention_hours=1)
    assert store.read_control(CONV).cue is None


def test_the_control_item_holds_the_cue_label_and_never_the_words(store):
    words = "my order 4471 never arrived,"
    store.store_message(msg("wamid.1", words), now=T0 + 2, retention_hours=1, cue="open")
    item = control_item(store)
    assert item["cue"] == {"S": "open"}
    assert not any(words in str(value) for value in item.values())


def test_a_tick_carries_the_cue_and_previous_arrival_into_the_next_window(store):
    view = [2, T0 + 9, T0 + 2, 2, "open", T0 + 2]
    store.write_tick(CONV, {CONV.key: view, "106540352242922#16505550000": None}, now=T0 + 10)
    (item,) = [i for i in store.client.scan(TableName=TABLE)["Items"] if i["sk"]["S"] == "TICK"]
    deserialized = boto3.dynamodb.types.TypeDeserializer()
    image = {k: deserialized.deserialize(v) for k, v in item.items()}
    _, listed = tick_from_stream({"pk": image["pk"], "sk": image["sk"]}, image)
    assert listed_view(list(listed[CONV.key])) == view


def test_the_control_item_read_back_and_its_stream_image_give_the_same_view(store):
    store.store_message(msg("wamid.1"), now=T0 + 2, retention_hours=1, cue="open")
    store.store_message(msg("wamid.2"), now=T0 + 9, retention_hours=1, cue="done")
    deserialized = boto3.dynamodb.types.TypeDeserializer()
    image = {k: deserialized.deserialize(v) for k, v in control_item(store).items()}
    assert control_view(image) == store.read_control(CONV).as_view() == [2, T0 + 9, T0 + 2, 2, "done", T0 + 2]
