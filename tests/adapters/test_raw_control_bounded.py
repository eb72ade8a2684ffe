"""The control item stays bounded however long no settle comes (the aggregator down), and the flush still finds every
message stored meanwhile, on moto's DynamoDB and SQS.

DynamoDB Developer Guide, "Constraints": "One write request unit = one write per second, for items up to 1 KB in
size" and "Transactional write requests require two write request units to perform one write per second for items up
to 1 KB". botocore's DynamoDB model (TransactionCanceledException) cancels a transaction when "An item size becomes
too large (larger than 400 KB)". Ingest updates the control item in a transaction with every message: each byte the
item gains is paid on each message, and past 400 KB every store of the conversation would be refused.
"""

import boto3
import pytest
from moto import mock_aws

from tests.adapters.test_raw_messages_unsent_tail import CONV, T0, Flush, msg
from whatsapp_buffer.adapters.raw_common import STORED_SINCE, STORED_SINCE_LIMIT, partition_key
from whatsapp_buffer.storage_keys import CONTROL_SK

CONTROL = {"pk": {"S": partition_key(CONV)}, "sk": {"S": CONTROL_SK}}


def item_size(item):
    """An item's size as the Developer Guide ("DynamoDB item sizes and formats") estimates it: "The size of a string is
    (number of UTF-8-encoded bytes of attribute name) + (number of UTF-8-encoded bytes)"; "The size of a number is
    approximately (number of UTF-8-encoded bytes of attribute name) + (1 byte per two significant digits) + (1 byte)";
    a number set counted as the sum of its numbers."""

    def number(text):
        digits = text.replace("-", "").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1

    total = 0
    for name, value in item.items():
        total += len(name.encode())
        if "S" in value:
            total += len(value["S"].encode())
        elif "N" in value:
            total += number(value["N"])
        elif "NS" in value:
            total += sum(number(n) for n in value["NS"])
    return total


def control():
    return boto3.client("dynamodb").get_item(TableName="raw-tail", Key=CONTROL, ConsistentRead=True)["Item"]


def drain(flush):
    """Window ends until one flushes nothing: every burst's message ids, in the order they went out."""
    sent = []
    while bursts := flush.flush()[0]:
        sent += [message_id for burst in bursts for message_id in burst]
    return sent


@pytest.fixture
def flush():
    with mock_aws():
        yield Flush()


def test_the_control_item_stops_growing_while_no_settle_comes(flush):
    # GIVEN a conversation settled once (so its control item keeps where the unsent messages start)
    flush.store_message("wamid.first", sent_at=T0)
    assert drain(flush) == ["wamid.first"]
    # WHEN three times the limit of messages, each in its own WhatsApp second, are stored and no settle comes
    sizes, kept = [], []
    for i in range(3 * STORED_SINCE_LIMIT):
        flush.store_message(f"wamid.{i:04d}", sent_at=T0 + 10 + i)
        item = control()
        sizes.append(item_size(item))
        kept.append(len(item.get(STORED_SINCE, {}).get("NS", [])))
    # THEN the set never holds more than the limit, and the item is never larger than it was while filling up
    assert max(kept) == STORED_SINCE_LIMIT
    assert max(sizes[STORED_SINCE_LIMIT:]) <= max(sizes[: STORED_SINCE_LIMIT + 1])
    # AND it stays within one write unit (1 KB)
    assert max(sizes) < 1024


def test_every_message_stored_while_no_settle_comes_is_flushed_once(flush):
    # GIVEN a history flushed (sent at T0+100..T0+104): the next read would start after it
    for i in range(5):
        flush.store_message(f"wamid.h{i}", sent_at=T0 + 100 + i)
    assert len(drain(flush)) == 5
    # WHEN, with no settle, twice the limit of messages is stored, one in seven arriving late with a WhatsApp time
    # older than the whole history
    stored = []
    for i in range(2 * STORED_SINCE_LIMIT + 3):
        sent_at = T0 + 50 - i if i % 7 == 3 else T0 + 200 + i
        flush.store_message(f"wamid.{i:04d}", sent_at=sent_at)
        stored.append((sent_at, f"wamid.{i:04d}"))
    # THEN the next window ends flush each of them once, in WhatsApp's order
    assert drain(flush) == [message_id for _, message_id in sorted(stored)]


def test_a_redelivered_message_is_dropped_when_the_set_is_full(flush):
    """Both the seen marker's condition and the set's fail; botocore's DynamoDB model (CancellationReason): "An ordered
    list of errors for each item in the request which caused the transaction to get cancelled. The values of the list
    are ordered according to the ordering of the TransactWriteItems request parameter." (The set's bound is a
    ConditionExpression `size(...) < limit`: botocore lists `size` among its functions and says no more; moto counts a
    set's members.)"""
    # GIVEN a settled conversation whose control item holds the limit of stored times
    flush.store_message("wamid.first", sent_at=T0)
    drain(flush)
    for i in range(STORED_SINCE_LIMIT):
        flush.store_message(f"wamid.{i:04d}", sent_at=T0 + 10 + i)
    before = control()
    # WHEN one of them comes again
    flush.t += 1
    again = flush.store.store_message(msg("wamid.0000", T0 + 10, flush.t), flush.t, retention_hours=24)
    # THEN it is a redelivery: nothing stored, the control item unchanged
    assert again is False
    assert control() == before
