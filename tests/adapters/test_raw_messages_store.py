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
