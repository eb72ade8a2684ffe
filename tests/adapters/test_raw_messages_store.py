"""Storing a message against moto's DynamoDB when the transaction meets what moto does not model: a concurrent
transaction on the conversation's control item, and a redelivery long after the message itself expired.

A conflict is answered through botocore's `before-call` event, whose first answer replaces the call (moto answers at
`before-send`, where every handler runs, so moto would still write what the refusal says was not written).
"""

import itertools

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from sandbox.sdk_events import error_response
from tests.fixtures.tables import create_raw_table
from whatsapp_buffer.adapters import aws_errors
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.errors import TransientAwsError
from whatsapp_buffer.model import Conversation, InboundMessage

CONV = Conversation("106540352242922", "16505551234")
T0 = 1_749_416_383.0
CONFLICT = ("None", "None", "TransactionConflict")
_tables = itertools.count()


@pytest.fixture(scope="module")
def dynamodb():
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def store(dynamodb):
    name = f"raw-store-{next(_tables)}"
    create_raw_table(dynamodb, name)
    yield RawTable(name, dynamodb)
    dynamodb.delete_table(TableName=name)


def msg(message_id, sent_at=T0):
    return InboundMessage(message_id, CONV, "text", sent_at, {"text": "hi"}, received_at=T0 + 2)


def stored_ids(store):
    items = store.client.scan(TableName=store.table_name, ConsistentRead=True)["Items"]
    return sorted(i["message_id"]["S"] for i in items if i["sk"]["S"].startswith("MSG#"))


class Cancellations:
    """Answers the next `times` TransactWriteItems with a TransactionCanceledException of `reasons` as DynamoDB words
    it, before moto sees them; `before` runs just before each refusal (a concurrent writer)."""

    EVENT = "before-call.dynamodb.TransactWriteItems"

    def __init__(self, client, reasons, times, before=None):
        self.reasons, self.left, self.before, self.attempts = reasons, times, before, 0
        client.meta.events.register_first(self.EVENT, self.answer)
        self._client = client

    def answer(self, **_):
        self.attempts += 1
        if self.left == 0:
            return None
        self.left -= 1
        if self.before is not None:
            self.before()
        message = (
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(self.reasons)}]"
        )
        parsed = {
            "Error": {"Code": "TransactionCanceledException", "Message": message},
            "CancellationReasons": [{"Code": reason} for reason in self.reasons],
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, {}, None), parsed

    def remove(self):
        self._client.meta.events.unregister(self.EVENT, self.answer)


@pytest.fixture
def cancellations(store):
    made = []

    def make(reasons, times, before=None):
        made.append(Cancellations(store.client, reasons, times, before))
        return made[-1]

    yield make
    for one in made:
        one.remove()


@pytest.mark.parametrize("mode", ["standard", "legacy"])
def test_botocore_does_not_retry_a_transaction_cancelled_by_a_conflict(mode):
    """botocore's DynamoDB model, TransactionCanceledException: "There is an ongoing TransactWriteItems operation
    that conflicts with a concurrent TransactWriteItems request. In this case the TransactWriteItems operation fails
    with a TransactionCanceledException", reason "Code: TransactionConflict … Message: Transaction is ongoing for the
    item". botocore's retry rules (`data/_retry.json`, DynamoDB: ReplicatedWriteConflictException,
    TransactionInProgressException and CRC32 errors; `retries/standard.py`: throttling codes including
    TransactionInProgressException) never name TransactionCanceledException, so the SDK makes one attempt in both
    retry modes and any retry is the caller's."""
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=boto3.session.Config(retries={"mode": mode, "max_attempts": 5}),
    )
    sent = []

    def conflict(request, **_):
        sent.append(request)
        return error_response(request.url, "json", "TransactionCanceledException", 400, CONFLICT)

    client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", conflict)
    with pytest.raises(client.exceptions.TransactionCanceledException) as raised:
        client.transact_write_items(
            TransactItems=[{"ConditionCheck": {"TableName": "t", "Key": {}, "ConditionExpression": "a"}}]
        )
    assert len(sent) == 1
    assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == list(CONFLICT)


def test_a_message_whose_transaction_met_a_concurrent_one_is_stored_within_the_call(store, cancellations, monkeypatch):
    """Two ingests of one conversation at once (an album, one webhook per photo) both update its control item:
    DynamoDB cancels one with TransactionConflict. It is sent again after a jittered back-off, not left to Lambda's
    asynchronous retry a minute later."""
    slept = []
    monkeypatch.setattr("whatsapp_buffer.adapters.aws_errors.time.sleep", slept.append)
    conflict = cancellations(CONFLICT, times=2)

    assert store.store_message(msg("wamid.1"), now=T0, retention_hours=1) is True

    assert conflict.attempts == 3
    assert stored_ids(store) == ["wamid.1"]
    assert store.read_control(CONV).pending == 1
    ceilings = [aws_errors.CONFLICT_BACKOFF_SECONDS * 2**n for n in range(2)]
    assert len(slept) == 2 and all(0 <= s <= c for s, c in zip(slept, ceilings, strict=True))


def test_a_conflict_that_does_not_clear_fails_after_a_bounded_number_of_attempts(store, cancellations, monkeypatch):
    slept = []
    monkeypatch.setattr("whatsapp_buffer.adapters.aws_errors.time.sleep", slept.append)
    conflict = cancellations(CONFLICT, times=100)

    with pytest.raises(TransientAwsError):
        store.store_message(msg("wamid.1"), now=T0, retention_hours=1)

    assert conflict.attempts == aws_errors.CONFLICT_RETRIES + 1
    assert len(slept) == aws_errors.CONFLICT_RETRIES
    assert sum(slept) <= aws_errors.CONFLICT_BACKOFF_SECONDS * (2**aws_errors.CONFLICT_RETRIES - 1)
    assert stored_ids(store) == []


@pytest.mark.parametrize(
    "reasons",
    [("None", "None", "ThrottlingError"), ("None", "None", "ProvisionedThroughputExceeded"), ("None", "None", "None")],
)
def test_a_cancellation_for_any_other_reason_is_not_sent_again_here(store, cancellations, monkeypatch, reasons):
    """Throttling is the SDK's and Lambda's to retry (with their own back-off); only a conflict is retried here."""
    monkeypatch.setattr("whatsapp_buffer.adapters.aws_errors.time.sleep", lambda _: None)
    refusal = cancellations(reasons, times=1)

    with pytest.raises(TransientAwsError):
        store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    assert refusal.attempts == 1


def test_a_retry_after_a_concurrent_copy_was_stored_is_a_redelivery(store, cancellations, monkeypatch):
    """SNS may deliver one event twice at once: the copy that lost the conflict meets, on its retry, the SEEN# marker
    the other wrote, and is dropped as a redelivery (the retry is safe because a cancelled transaction wrote nothing
    and the marker's condition decides what a retry may write)."""
    monkeypatch.setattr("whatsapp_buffer.adapters.aws_errors.time.sleep", lambda _: None)
    other = RawTable(store.table_name, boto3.client("dynamodb", region_name="us-east-1"))
    cancellations(CONFLICT, times=1, before=lambda: other.store_message(msg("wamid.1"), now=T0, retention_hours=1))

    assert store.store_message(msg("wamid.1"), now=T0 + 1, retention_hours=1) is False
    assert stored_ids(store) == ["wamid.1"]
    assert store.read_control(CONV).pending == 1


def expire(store, now):
    """What DynamoDB's TTL does, some time after each item's `expires_at` (it deletes lazily, item by item)."""
    for item in store.client.scan(TableName=store.table_name, ConsistentRead=True)["Items"]:
        if int(item["expires_at"]["N"]) <= now:
            store.client.delete_item(TableName=store.table_name, Key={"pk": item["pk"], "sk": item["sk"]})


def raw_items_of(store):
    return store.client.scan(TableName=store.table_name, ConsistentRead=True)["Items"]


def seen_marker(store, message_id):
    key = {"pk": {"S": f"CONV#{CONV.key}"}, "sk": {"S": f"SEEN#{message_id}"}}
    return store.client.get_item(TableName=store.table_name, Key=key, ConsistentRead=True).get("Item")


@pytest.mark.parametrize("retention_hours", [1, 24, 168])
def test_a_seen_marker_outlives_the_longest_redelivery_path_whatever_the_retention(store, retention_hours):
    """A stored message can come back as late as Lambda's asynchronous queue ("It retains events in a queue for up to
    six hours", AWS::Lambda::EventInvokeConfig) plus the ingest dead-letter queue's 14 days (an operator's replay),
    whatever `retentionHours` keeps the message itself; the marker holds ids only."""
    store.store_message(msg("wamid.1"), now=T0, retention_hours=retention_hours)

    marker = seen_marker(store, "wamid.1")
    assert int(marker["expires_at"]["N"]) >= T0 + (14 * 24 + 6) * 3600
    assert set(marker) == {"pk", "sk", "record_type", "expires_at"}
    (message,) = [i for i in raw_items_of(store) if i["sk"]["S"].startswith("MSG#")]
    assert int(message["expires_at"]["N"]) == int(T0 + retention_hours * 3600)


def test_a_replay_from_the_dead_letter_queue_after_the_message_expired_is_a_redelivery(store):
    """docs/operations.md tells the operator to replay an ingest dead-letter event; its messages stored on the first
    attempt (before a sibling failed it) are gone from the table after `retentionHours`, yet must not be stored and
    delivered again."""
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    replay_at = T0 + 14 * 24 * 3600
    expire(store, replay_at)
    assert stored_ids(store) == []

    assert store.store_message(msg("wamid.1"), now=replay_at, retention_hours=1) is False
    assert stored_ids(store) == []


def test_a_redelivery_meeting_an_expired_marker_but_its_message_item_is_a_redelivery(store):
    """TTL deletes expired items one by one, on its own schedule (botocore DynamoDB model, UpdateTimeToLive:
    "DynamoDB deletes expired items on a best-effort basis … typically within two days of expiration"): a redelivery
    can find the marker gone and the message item still there. The transaction is then cancelled by the message item's condition (botocore TransactionCanceledException:
    "Transaction cancellation reasons are ordered in the order of requested items"), which is a redelivery too, not a
    failure to retry until the dead-letter queue."""
    store.store_message(msg("wamid.1"), now=T0, retention_hours=1)
    key = {"pk": {"S": f"CONV#{CONV.key}"}, "sk": {"S": "SEEN#wamid.1"}}
    store.client.delete_item(TableName=store.table_name, Key=key)

    assert store.store_message(msg("wamid.1"), now=T0 + 60, retention_hours=1) is False
    assert stored_ids(store) == ["wamid.1"]
    assert store.read_control(CONV).pending == 1
