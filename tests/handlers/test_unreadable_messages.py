"""A stored message that cannot be read back (its body is not the JSON the runtime writes) does not block its
conversation forever: the flush fails and is retried at the next windows, and after flush.MAX_READ_FAILURES failed
flushes the item is set aside with its reason, and the rest of the conversation flushes.

Virtual time as in test_aggregator: windows of 10 s, bufferSeconds 20 (conftest.POLICY).
"""

from __future__ import annotations

import json

from tests.fixtures import eum
from tests.handlers.conftest import T0, TABLE, drain_bursts, emitted, message_item
from tests.handlers.test_aggregator import arrive, run_windows
from whatsapp_buffer.adapters.raw_common import partition_key
from whatsapp_buffer.aggregator.flush import MAX_READ_FAILURES
from whatsapp_buffer.model import Conversation

CONV = Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER)


def corrupt(dynamodb, message_id: str, body: str) -> str:
    """Overwrite the stored body of `message_id` (as a botched migration or a foreign writer would); its sort key."""
    item = message_item(dynamodb, CONV, message_id)
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET body = :body",
        ExpressionAttributeValues={":body": {"S": body}},
    )
    return item["sk"]["S"]


def stored(dynamodb, sort_key: str) -> dict:
    return dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": partition_key(CONV)}, "sk": {"S": sort_key}})["Item"]


def test_an_unreadable_message_is_set_aside_after_bounded_failures_and_the_rest_flush(
    ingest, window, virtual_clock, queue_url, dynamodb, capsys
):
    # GIVEN three messages, the middle one's stored body garbled
    for i, body in enumerate(["first", "second", "third"]):
        arrive(virtual_clock, T0 + 1 + i, eum.message(f"wamid.{i}", body, sent_at=T0 + 1 + i))
    key = corrupt(dynamodb, "wamid.1", '{"message_id": "wamid.1", "te')
    # WHEN the conversation is due: the first flushes fail on it and wait (WhatsApp order is kept)
    run_windows(window, T0 + 20 + 10 * (MAX_READ_FAILURES - 1))
    assert drain_bursts(queue_url) == []
    assert int(stored(dynamodb, key)["read_failures"]["N"]) == MAX_READ_FAILURES - 1
    # THEN at the MAX_READ_FAILURES-th failed flush it is set aside with why, and the others flush as one burst
    run_windows(window, T0 + 20 + 10 * MAX_READ_FAILURES)
    assert [burst.message_ids for burst, _ in drain_bursts(queue_url)] == [("wamid.0", "wamid.2")]
    item = stored(dynamodb, key)
    assert item["status"]["S"] == "set_aside"
    reason = item["set_aside_reason"]["S"]
    assert reason.startswith("body is not JSON")
    assert "message_id" not in reason and "wamid.1" not in reason  # never the customer's stored content
    assert sum(emitted(capsys).get("MessagesSetAside", [])) == 1


def test_a_set_aside_message_is_not_counted_pending_and_the_loop_ends(
    ingest, window, virtual_clock, queue_url, dynamodb, store
):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.0", "only"))
    corrupt(dynamodb, "wamid.0", json.dumps(["not", "a", "message"]))

    run_windows(window, T0 + 20 + 10 * MAX_READ_FAILURES + 30)

    assert drain_bursts(queue_url) == []
    control = store.read_control(CONV)
    assert (control.pending, control.first_pending) == (0, None)
    assert window.stream.new_records() == []
