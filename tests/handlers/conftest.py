"""moto-backed raw table (with its stream) and bursts FIFO queue, virtual time, and the handlers built on them.

Stream events are built from what moto's DynamoDB stream really recorded, passed through the same filter the event
source mapping declares (INSERT/MODIFY of control and tick items; components.aggregator, applied by the
sandbox's filter), and wrapped in the tumbling-window fields Lambda adds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components.aggregator import AGGREGATOR_RECORDS
from sandbox import filters
from tests.fixtures.tables import create_raw_table
from whatsapp_buffer import clock
from whatsapp_buffer.adapters.bursts_queue import BurstsFifoQueue
from whatsapp_buffer.adapters.raw_common import MSG_PREFIX, partition_key
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.aggregator.flush import Aggregator
from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.entrypoints import aggregator as aggregator_module
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.environment import AggregatorSettings, IngestSettings
from whatsapp_buffer.ingest.accept import Ingest
from whatsapp_buffer.model import Burst, Conversation, TypingSignal

TABLE = "whatsapp-buffer-test-raw"
POLICY = BufferPolicy(buffer_seconds=20, max_wait_seconds=120, max_messages=10, window_seconds=10, end_of_turn="fixed")
T0 = 1_749_416_380.0


class VirtualClock:
    def __init__(self, start: float) -> None:
        self.t = start
        clock.set_source(lambda: self.t)

    def set(self, t: float) -> None:
        self.t = t


@pytest.fixture
def virtual_clock() -> VirtualClock:
    return VirtualClock(T0)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws):
    client = boto3.client("dynamodb")
    create_raw_table(client, TABLE)
    return client


@pytest.fixture
def queue_url(aws) -> str:
    sqs = boto3.client("sqs")
    return sqs.create_queue(
        QueueName="whatsapp-buffer-test-bursts.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]


@pytest.fixture
def store(dynamodb) -> RawTable:
    return RawTable(TABLE, dynamodb)


@pytest.fixture
def ingest_settings() -> IngestSettings:
    return IngestSettings(
        raw_table_name=TABLE, retention_hours=24, ignore_reactions=False, ignore_stickers=False, max_wait_seconds=120
    )


@pytest.fixture
def ingest(store, ingest_settings, virtual_clock) -> Iterator[Ingest]:
    yield ingest_module.build(ingest_settings, store=store)
    ingest_module.installed.reset()


@pytest.fixture
def aggregator(store, queue_url, virtual_clock) -> Iterator[Aggregator]:
    settings = AggregatorSettings(raw_table_name=TABLE, bursts_queue_url=queue_url, policy=POLICY)
    yield aggregator_module.build(settings, store=store, queue=BurstsFifoQueue(queue_url, boto3.client("sqs")))
    aggregator_module.installed.reset()


class Stream:
    """Reads the raw table's stream, handing out each record once, like the event source mapping does.

    moto quirk: a cancelled TransactWriteItems (a redelivery) restores a copy of the table and its stream, after the
    cancelled update already appended a record, so later records reuse sequence numbers. Re-reading from the trim
    horizon and remembering records by content, not by position, hands out every real record exactly once.
    """

    def __init__(self, dynamodb) -> None:
        # botocore routes stream-ARN calls to an account-based endpoint that in-process moto does not intercept.
        self.client = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
        self.arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        shard = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]
        self.shard_id = shard["ShardId"]
        self.seen: set[str] = set()

    def new_records(self) -> list[dict[str, Any]]:
        iterator = self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=self.shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = []
        while iterator:
            response = self.client.get_records(ShardIterator=iterator)
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
            for record in response["Records"]:
                record = json.loads(json.dumps(record, default=str))  # as Lambda delivers it: plain JSON
                identity = json.dumps(record["dynamodb"], sort_keys=True)
                if identity in self.seen:
                    continue
                self.seen.add(identity)
                record["eventSourceARN"] = self.arn
                if _passes_mapping_filter(record):
                    records.append(record)
        return records


def _passes_mapping_filter(record: dict[str, Any]) -> bool:
    return filters.matches_any([AGGREGATOR_RECORDS], record)


@pytest.fixture
def stream(dynamodb) -> Stream:
    return Stream(dynamodb)


@dataclass
class Window:
    """Drives the aggregator through tumbling windows aligned to multiples of `length`, on virtual time."""

    stream: Stream
    clock: VirtualClock
    length: float = POLICY.window_seconds
    responses: list[dict[str, Any]] = field(default_factory=list)

    def event(self, records, state, final, start, terminated_early=False) -> dict[str, Any]:
        return {
            "Records": records,
            "window": {"start": _iso(start), "end": _iso(start + self.length)},
            "state": state,
            "shardId": self.stream.shard_id,
            "eventSourceARN": self.stream.arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": terminated_early,
        }

    def close(self, end: float) -> dict[str, Any]:
        """Deliver what the stream recorded since the last window, then the final invoke at `end`."""
        records = self.stream.new_records()
        start = end - self.length
        response = aggregator_module.handler(self.event(records, {}, False, start), None)
        self.responses.append(response)
        self.clock.set(end)
        final = aggregator_module.handler(self.event([], response["state"], True, start), None)
        self.responses.append(final)
        return final


def _iso(t: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(t, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def window(stream, virtual_clock, aggregator) -> Window:
    return Window(stream, virtual_clock)


def message_item(dynamodb: Any, conversation: Conversation, message_id: str) -> dict[str, Any]:
    """The raw table's item of one stored message of `conversation`, as DynamoDB holds it."""
    items = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :msg)",
        ExpressionAttributeValues={":pk": {"S": partition_key(conversation)}, ":msg": {"S": MSG_PREFIX}},
    )["Items"]
    (item,) = [i for i in items if i["message_id"]["S"] == message_id]
    return item


def drain_bursts(queue_url: str, typing: list[TypingSignal] | None = None) -> list[tuple[Burst, dict[str, Any]]]:
    """Receive and delete everything on the bursts queue (each group in order), with each message's SQS attributes;
    the typing signals between them go to `typing` when given."""
    sqs = boto3.client("sqs")
    result = []
    while True:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
        messages = response.get("Messages", [])
        if not messages:
            return result
        for message in messages:
            signal = TypingSignal.from_json(message["Body"])
            if signal is None:
                result.append((Burst.from_json(message["Body"]), message["Attributes"]))
            elif typing is not None:
                typing.append(signal)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def emitted(capsys) -> dict[str, list[float]]:
    """Every EMF metric the handler printed since the last call: name -> values, in order."""
    values: dict[str, list[float]] = {}
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values.setdefault(metric["Name"], []).extend(value if isinstance(value, list) else [value])
    return values
