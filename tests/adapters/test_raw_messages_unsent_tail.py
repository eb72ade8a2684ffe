"""The flush reads a conversation's unsent messages only, not its whole history, on moto's DynamoDB and SQS.

Sent message items stay in the raw table until their TTL (a reply may quote them), and a FilterExpression does not
make a read cheaper. botocore's DynamoDB model (Query): "A single Query operation will read up to the maximum number
of items set (if using the Limit parameter) or a maximum of 1 MB of data and then apply any filtering to the results
using FilterExpression", "FilterExpression is applied after a Query finishes, but before the results are returned",
and "DynamoDB calculates the number of read capacity units consumed based on item size ... The number will also be
the same whether or not you use a FilterExpression." So what a flush pays for is the items its key condition reads:
the Query's `ScannedCount` ("The number of items evaluated, before any QueryFilter is applied").
"""

import boto3
import pytest
from moto import mock_aws

from tests.fixtures.tables import create_raw_table
from whatsapp_buffer.adapters.bursts_queue import BurstsFifoQueue
from whatsapp_buffer.adapters.raw_common import partition_key
from whatsapp_buffer.adapters.raw_messages import message_item
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.aggregator.flush import Aggregator
from whatsapp_buffer.aggregator.lifecycle import Settlement
from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.model import Conversation, InboundMessage
from whatsapp_buffer.storage_keys import CONTROL_SK

TABLE = "raw-tail"
CONV = Conversation("106540352242922", "16505551234")
T0 = 1_749_416_380.0
POLICY = BufferPolicy(buffer_seconds=5, max_wait_seconds=60, max_messages=100, window_seconds=10, end_of_turn="fixed")
HISTORY = 12


def msg(message_id, sent_at, received_at):
    return InboundMessage(message_id, CONV, "text", sent_at, {"text": message_id}, received_at=received_at)


class Flush:
    """An aggregator on moto's table and FIFO queue, with a virtual clock and the items each Query read."""

    def __init__(self) -> None:
        dynamodb = boto3.client("dynamodb")
        create_raw_table(dynamodb, TABLE)
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="bursts.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        self.store = RawTable(TABLE, dynamodb)
        self.t = T0
        self.aggregator = Aggregator(self.store, BurstsFifoQueue(url, sqs), POLICY, now=lambda: self.t)
        self.scanned: list[int] = []
        dynamodb.meta.events.register("after-call.dynamodb.Query", self._count)

    def _count(self, parsed, **_):
        self.scanned.append(parsed["ScannedCount"])

    def store_message(self, message_id, sent_at):
        self.t += 1
        assert self.store.store_message(msg(message_id, sent_at, self.t), self.t, retention_hours=24)

    def flush(self):
        """The next window end, once every message is quiet: the message ids of each burst, and the items read."""
        self.t += 30
        self.scanned.clear()
        bursts = self.aggregator.end_window([CONV])
        return [list(burst.message_ids) for burst in bursts], sum(self.scanned)


@pytest.fixture
def flush():
    with mock_aws():
        yield Flush()


def test_a_long_history_flush_reads_only_the_unsent_tail(flush):
    # GIVEN a conversation whose HISTORY earlier messages were flushed (their items stay until TTL, marked sent)
    for i in range(HISTORY):
        flush.store_message(f"wamid.{i:02d}", sent_at=T0 + i)
    (sent,), _ = flush.flush()
    assert len(sent) == HISTORY
    # WHEN one more message comes and its burst is flushed
    flush.store_message("wamid.new", sent_at=T0 + 100)
    bursts, scanned = flush.flush()
    # THEN the burst holds it alone, and the flush's query read that one item, not the HISTORY sent before it
    assert bursts == [["wamid.new"]]
    assert scanned == 1


def test_a_late_message_with_an_older_whatsapp_time_is_still_flushed(flush):
    # GIVEN a conversation whose messages sent at T0-20 and T0+50 were flushed
    flush.store_message("wamid.a", sent_at=T0 - 20)
    flush.store_message("wamid.b", sent_at=T0 + 50)
    assert flush.flush()[0] == [["wamid.a", "wamid.b"]]
    # WHEN a message WhatsApp timestamped between them arrives late (a retried webhook), with one sent after them
    flush.store_message("wamid.late", sent_at=T0 + 1)
    flush.store_message("wamid.c", sent_at=T0 + 52)
    bursts, scanned = flush.flush()
    # THEN both are flushed, in WhatsApp's order, and the query read from the late one on: itself, b and c
    assert bursts == [["wamid.late", "wamid.c"]]
    assert scanned == 3


def test_a_message_older_than_the_pending_ones_is_found_by_the_next_flush(flush):
    # GIVEN two flushed bursts (sent at T0-30.. and T0+10..) and a message pending since (sent at T0+40)
    for first in (T0 - 30, T0 + 10):
        for i in range(3):
            flush.store_message(f"wamid.{first + i:.0f}", sent_at=first + i)
        flush.flush()
    flush.store_message("wamid.pending", sent_at=T0 + 40)
    # WHEN a message WhatsApp timestamped at T0 arrives before the next flush
    flush.store_message("wamid.older", sent_at=T0)
    bursts, scanned = flush.flush()
    # THEN the next flush finds it, reading from it on (itself, the burst sent after it, the pending one)
    assert bursts == [["wamid.older", "wamid.pending"]]
    assert scanned == 5


def test_items_of_the_older_layout_are_still_flushed(flush):
    # GIVEN message items written under the older key layout `MSG#<sent_at>#<message_id>`, pending on a control item
    # written before the flush kept where the unsent messages start, and one message stored now
    for i, message_id in enumerate(["wamid.old1", "wamid.old2"]):
        item = message_item(msg(message_id, T0 + 60 + i, T0 + 60 + i), T0 + 60, retention_hours=24)
        item["sk"] = {"S": f"MSG#{T0 + 60 + i:020.6f}#{message_id}"}
        flush.store.client.put_item(TableName=TABLE, Item=item)
    flush.store.client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"CONV#{CONV.key}"},
            "sk": {"S": "CONTROL"},
            "record_type": {"S": "control"},
            "pending": {"N": "2"},
            "version": {"N": "2"},
            "last_arrival": {"N": repr(T0 + 61)},
            "first_pending": {"N": repr(T0 + 60)},
            "waiting": {"S": "pending"},
        },
    )
    flush.t = T0 + 61
    flush.store_message("wamid.new", sent_at=T0 + 70)
    # WHEN the conversation is flushed, and then again after one more message
    first, _ = flush.flush()
    flush.store_message("wamid.next", sent_at=T0 + 80)
    second, scanned = flush.flush()
    # THEN the older items went out in the first burst, in WhatsApp's order, and the next read only the new message
    assert first == [["wamid.old1", "wamid.old2", "wamid.new"]]
    assert second == [["wamid.next"]]
    assert scanned == 1


def test_the_control_item_keeps_where_the_unsent_messages_start_through_stores_and_settles(flush):
    """Ingest adds each message's WhatsApp time to a set on the control item without reading it first; botocore's
    DynamoDB model (UpdateItem, UpdateExpression): "ADD - Adds the specified value to the item, if the attribute does
    not already exist ... If the existing data type is a set and if Value is also a set, then Value is added to the
    existing set." The read then starts at the least of those and the settle's bound, compared as the sort key is
    (Query: "otherwise, the results are returned in order of UTF-8 bytes"); a settle at the version it read empties
    the set and writes the least key it left unsent."""
    store = flush.store
    # GIVEN two messages stored, the later one first
    flush.store_message("wamid.2", sent_at=T0 + 9)
    flush.store_message("wamid.1", sent_at=T0 + 3)
    item = store.client.get_item(TableName=TABLE, Key={"pk": {"S": f"CONV#{CONV.key}"}, "sk": {"S": "CONTROL"}})
    # THEN the control item holds both times, and no settle's bound yet: the read starts at the first message
    assert sorted(float(t) for t in item["Item"]["stored_since"]["NS"]) == [T0 + 3, T0 + 9]
    assert store.read_control(CONV).unsent_from is None
    # WHEN a settle leaves wamid.2 unsent
    _, second = store.unsent_messages(CONV)
    control = store.read_control(CONV)
    settled = store.settle_control(
        CONV, Settlement(control.version, 1, second.message.received_at, (second.store_key,))
    )
    # THEN the next read starts at wamid.2's key, until a message with an older time lowers it
    assert settled
    assert store.read_control(CONV).unsent_from == second.store_key
    assert [m.message.message_id for m in store.unsent_messages(CONV, second.store_key)] == ["wamid.2"]
    flush.store_message("wamid.0", sent_at=T0)
    assert store.read_control(CONV).unsent_from == f"MSG#{T0:020.6f}"


def test_a_message_stored_by_an_ingest_that_keeps_no_stored_since_is_still_flushed(flush):
    """During `pulumi up` the aggregator may run this code while ingest still runs the previous version (or after a
    rollback and a redeploy): a message stored without adding its time to `stored_since` sorts before the settle's
    `unsent_from`. The control item's `pending` count, which every version keeps, shows the read missed it."""
    flush.store_message("wamid.A", sent_at=T0)
    assert flush.flush()[0] == [["wamid.A"]]
    # GIVEN a message stored as the previous ingest stores it: the same transaction, no stored_since
    flush.store_message("wamid.B", sent_at=T0 + 50)
    control = {"pk": {"S": partition_key(CONV)}, "sk": {"S": CONTROL_SK}}
    boto3.client("dynamodb").update_item(TableName=TABLE, Key=control, UpdateExpression="REMOVE stored_since")
    # WHEN the next window ends THEN it is flushed, not left pending behind a settle that counted none
    assert flush.flush()[0] == [["wamid.B"]]
