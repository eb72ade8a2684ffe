"""The whole pipeline on loopback, in virtual time, delivering events the way AWS does.

* SNS -> Lambda: asynchronous invoke; a failed invoke is retried (the function's MaximumRetryAttempts, 1 then 2
  minutes later), then its event goes to the function's dead-letter queue with the error, as Lambda does.
* DynamoDB stream -> Lambda: the mapping's filter criteria, batch size and tumbling window; windows aligned on the
  clock; the `state` each invoke returns is handed to the next; a final invoke at each window's end; failed batches
  retried up to MaximumRetryAttempts, then metadata to the on-failure destination.
* SQS (FIFO) -> Lambda: batches up to the mapping's size; partial batch failures; a failed message comes back after
  the queue's visibility timeout (in virtual time); moto's redrive policy moves it to the DLQ after maxReceiveCount.
* Connect streaming -> out-topic -> Lambda: the fake Connect publishes, the pipeline delivers like SNS.

Every function call is checked against its role (sandbox.iam), and so are the calls Lambda itself makes with the
function's role (reading the stream, polling the queue, writing a dead letter).
"""

from __future__ import annotations

import copy
import heapq
import itertools
import json
import math
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.config

from sandbox import filters, iam
from sandbox.faults import FaultPlan, worker_spec
from sandbox.lambdas import FunctionProcess, Invocation
from sandbox.wiring import FunctionSpec, QueueSpec, StreamMapping, Wiring

SNS_DELIVERY_DELAY = 0.05
"""Seconds from an SNS publish to the Lambda invoke."""
SQS_POLL_DELAY = 0.05
ASYNC_RETRY_DELAYS = (60.0, 120.0)
STREAM_RETRY_DELAY = 1.0
HIDDEN = 43_200
"""Real-time visibility timeout that keeps a failed message hidden in moto until virtual time releases it."""


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


def _touches(params: dict[str, Any], tables: set[str]) -> bool:
    names = {params.get("TableName")}
    names.update(next(iter(e.values())).get("TableName") for e in params.get("TransactItems", []))
    names.update(params.get("RequestItems", {}).keys())
    return bool(names & tables)


class _StreamReader:
    """Lambda's shard poller, emulated: reads new records of a table's stream from the moto backend in this process.

    (Handlers reach moto over HTTP like any AWS client; only the sandbox's stand-in for the Lambda service reads the
    stream in-process, which keeps a 1,000-message replay well inside a minute.)
    """

    def __init__(self, account: Any, table: str) -> None:
        self._account, self._table = account, table
        shard = self._shard()
        self._next = shard.starting_sequence_number + len(shard.items)  # ShardIteratorType LATEST

    def _shard(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self._account.account_id][self._account.region].get_table(self._table).stream_shard

    def read(self) -> list[dict[str, Any]]:
        shard = self._shard()
        items = shard.items[self._next - shard.starting_sequence_number :]
        self._next += len(items)
        return [copy.deepcopy(item.to_json()) for item in items]


def local_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for a loopback stand-in: explicit endpoint and throwaway credentials, never real AWS."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",  # noqa: S106 - moto accepts anything
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def _index_key_schema(index: dict[str, Any]) -> list[dict[str, str]]:
    """A GSI's key schema from either pulumi-aws form (`keySchemas` in v7, `hashKey`/`rangeKey` before)."""
    if index.get("keySchemas"):
        return [{"AttributeName": k["attributeName"], "KeyType": k["keyType"]} for k in index["keySchemas"]]
    schema = [{"AttributeName": index["hashKey"], "KeyType": "HASH"}]
    if index.get("rangeKey"):
        schema.append({"AttributeName": index["rangeKey"], "KeyType": "RANGE"})
    return schema


class VirtualClock:
    """Seconds since the epoch, moved only by the scheduler."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> float:
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start


@dataclass(order=True)
class _Job:
    at: float
    seq: int
    label: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)


@dataclass
class DeadLetter:
    at: float
    """When the input reached the function's trigger (trace seconds)."""
    function: str
    source: str
    error_type: str | None
    reason: str
    event: Any
    dead_lettered_at: float = 0.0


@dataclass
class InvocationRecord:
    at: float
    function: str
    ok: bool
    error_type: str | None
    calls: int


class Pipeline:
    """Owns the workers, the scheduler and every delivery path between them."""

    def __init__(
        self,
        wiring: Wiring,
        *,
        moto_url: str,
        fake_url: str,
        clock: VirtualClock,
        on_invocation: Callable[[str, Invocation], None] | None = None,
        on_settle: Callable[[], None] | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        self.wiring = wiring
        self.clock = clock
        self.moto_url = moto_url
        self.fake_url = fake_url
        self.on_invocation = on_invocation
        self.on_settle = on_settle
        self.faults = faults or FaultPlan()
        self._sns_rng = self.faults.rng("sns")
        self.sns_duplicates = 0
        self.injected_errors = 0
        """AWS answers replaced by injected errors inside the functions (see sandbox.faults)."""
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._published: list[tuple[str, str, dict[str, str]]] = []
        self._published_lock = threading.Lock()
        self.dead_letters: list[DeadLetter] = []
        self.invocations: list[InvocationRecord] = []
        self.metrics: dict[str, dict[str, float]] = {}
        self.api_calls: Counter[tuple[str, str, str]] = Counter()
        """(function, service, operation) -> how many calls the handlers made."""
        self.logs: dict[str, list[str]] = {}
        self.bursts_seen: dict[str, str] = {}
        """burst id -> the queue body that carried it (for the transcript)."""
        self.workers: dict[str, FunctionProcess] = {}
        region = wiring.account.region
        self._ddb = local_client("dynamodb", moto_url, region)
        self._sqs = local_client("sqs", moto_url, region)
        self._s3 = local_client("s3", moto_url, region)
        self._windows: dict[int, dict[float, dict[str, Any]]] = {}
        self._readers: dict[int, _StreamReader] = {}
        self._stream_dirty = False
        self._streamed_tables = {m.table for m in wiring.stream_mappings}
        self._poll_scheduled: set[str] = set()

    # ---------------------------------------------------------------- set-up
    def provision(self) -> None:
        """Create in moto every table, queue and bucket the program declares, with the program's names and settings."""
        for table in self.wiring.tables.values():
            kwargs: dict[str, Any] = {
                "TableName": table.name,
                "KeySchema": [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
                + ([{"AttributeName": table.range_key, "KeyType": "RANGE"}] if table.range_key else []),
                "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in table.attributes],
                "BillingMode": "PAY_PER_REQUEST",
            }
            if table.stream_view:
                kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view}
            if table.indexes:
                kwargs["GlobalSecondaryIndexes"] = [
                    {
                        "IndexName": index["name"],
                        "KeySchema": _index_key_schema(index),
                        "Projection": {"ProjectionType": index.get("projectionType", "ALL")},
                    }
                    for index in table.indexes
                ]
            self._ddb.create_table(**kwargs)
            if table.ttl_attribute:
                self._ddb.update_time_to_live(
                    TableName=table.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
                )
        ordered = sorted(self.wiring.queues.values(), key=lambda q: q.dead_letter_arn is not None)
        for queue in ordered:
            attributes = {"VisibilityTimeout": str(int(queue.visibility_timeout_s))}
            if queue.fifo:
                attributes["FifoQueue"] = "true"
                attributes["ContentBasedDeduplication"] = "true" if queue.content_based_dedup else "false"
            if queue.dead_letter_arn:
                attributes["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": queue.dead_letter_arn, "maxReceiveCount": queue.max_receive_count or 5}
                )
            self._sqs.create_queue(QueueName=queue.name, Attributes=attributes)
        for bucket in self.wiring.buckets:
            self._s3.create_bucket(Bucket=bucket)
        for mapping in self.wiring.stream_mappings:
            self._check_service_side(
                mapping.function,
                [
                    (f"dynamodb:{action}", self.wiring.tables[mapping.table].arn + "/stream/" + "2026-01-01T00:00:00.000")
                    for action in ("DescribeStream", "GetRecords", "GetShardIterator")
                ],
            )
        for mapping in self.wiring.queue_mappings:
            queue = self.wiring.queues[mapping.queue]
            self._check_service_side(
                mapping.function,
                [(f"sqs:{a}", queue.arn) for a in ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")],
            )

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        env = dict(spec.env)
        env.update(
            {
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_ENDPOINT_URL_CONNECT": self.fake_url,
                "AWS_ENDPOINT_URL_CONNECTPARTICIPANT": self.fake_url,
                "AWS_ENDPOINT_URL_SOCIALMESSAGING": self.fake_url,
                "AWS_ACCESS_KEY_ID": "sandbox",
                "AWS_SECRET_ACCESS_KEY": "sandbox",
                "AWS_SESSION_TOKEN": "sandbox",
                "AWS_REGION": self.wiring.account.region,
                "AWS_DEFAULT_REGION": self.wiring.account.region,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        return env

    def start_functions(self) -> None:
        for spec in self.wiring.functions.values():
            worker = FunctionProcess(
                function_name=spec.name,
                function_arn=spec.arn,
                handler=spec.handler,
                env=self.environment(spec),
                memory_mb=spec.memory_mb,
                timeout_s=spec.timeout_s,
                faults=worker_spec(self.faults, spec.key),
                fault_seed=f"{self.faults.seed}:{spec.key}",
            )
            worker.start(self.clock.now)
            self.workers[spec.key] = worker
        for key, worker in self.workers.items():
            worker.wait_ready()
            self._check_calls(key, worker.init_calls)
            self.logs.setdefault(key, []).extend(worker.init_output)
        for index, mapping in enumerate(self.wiring.stream_mappings):
            self._readers[index] = _StreamReader(self.wiring.account, mapping.table)
            self._windows[index] = {}

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()

    # ---------------------------------------------------------------- scheduling
    def schedule(self, at: float, label: str, run: Callable[[], None]) -> None:
        heapq.heappush(self._heap, _Job(at, next(self._seq), label, run))

    def run(self, *, until: float) -> None:
        """Run jobs in time order until none are left (or virtual time passes `until`)."""
        self._settle()
        while self._heap:
            job = heapq.heappop(self._heap)
            if job.at > until:
                heapq.heappush(self._heap, job)
                return
            self.clock.now = max(self.clock.now, job.at)
            job.run()
            self._settle()

    def pending_jobs(self) -> int:
        return len(self._heap)

    def _settle(self) -> None:
        """After each job: let services see the time move, then hand new stream records and Connect's publishes on."""
        if self.on_settle:
            self.on_settle()
        if self._stream_dirty:
            self._stream_dirty = False
            for index in range(len(self.wiring.stream_mappings)):
                self._pump_stream(index)
        with self._published_lock:
            published, self._published = self._published, []
        for topic_arn, message, attributes in published:
            self.publish(topic_arn, message, attributes)

    # ---------------------------------------------------------------- invoking
    def invoke(self, key: str, event: dict[str, Any]) -> Invocation:
        invocation = self.workers[key].invoke(event, self.clock.now)
        self.invocations.append(
            InvocationRecord(self.clock.elapsed, key, invocation.ok, invocation.error_type, len(invocation.calls))
        )
        self.logs.setdefault(key, []).extend(invocation.output)
        totals = self.metrics.setdefault(key, {})
        for name, value in invocation.metrics().items():
            totals[name] = totals.get(name, 0.0) + value
        self._check_calls(key, invocation.calls)
        self.api_calls.update((key, call.service, call.operation) for call in invocation.calls)
        self.injected_errors += invocation.injected
        self._after_calls(invocation)
        if self.on_invocation:
            self.on_invocation(key, invocation)
        return invocation

    def _check_calls(self, key: str, calls: list[Any]) -> None:
        spec = self.wiring.functions[key]
        for call in calls:
            iam.check(spec.name, spec.policy, iam.required(call.service, call.operation, call.params, self.wiring.account))

    def _check_service_side(self, key: str, pairs: list[tuple[str, str]]) -> None:
        spec = self.wiring.functions[key]
        iam.check(spec.name, spec.policy, pairs)

    def _after_calls(self, invocation: Invocation) -> None:
        for call in invocation.calls:
            if call.service == "dynamodb" and call.operation in _WRITES and _touches(call.params, self._streamed_tables):
                self._stream_dirty = True
            if call.service == "sqs" and call.operation in ("SendMessage", "SendMessageBatch") and not call.error:
                queue = self.wiring.queue_by_url(call.params.get("QueueUrl", ""))
                if queue is not None:
                    self._schedule_poll(queue.name)

    # ---------------------------------------------------------------- SNS -> Lambda (async)
    def publish(self, topic_arn: str, message: str, attributes: dict[str, str] | None = None) -> None:
        """An SNS publish to `topic_arn`: deliver to every Lambda subscription whose filter policy matches."""
        attributes = attributes or {}
        for subscription in self.wiring.subscriptions:
            if subscription.topic_arn != topic_arn:
                continue
            if not filters.sns_attributes_match(subscription.filter_policy, attributes):
                continue
            event = self._sns_event(topic_arn, message, attributes)
            deliveries = [SNS_DELIVERY_DELAY]
            if self._sns_rng.random() < self.faults.sns_duplicate_rate:
                deliveries.append(SNS_DELIVERY_DELAY + self._sns_rng.uniform(0.1, 30.0))  # at-least-once: a second copy
                self.sns_duplicates += 1
            for delay in deliveries:
                self.schedule(
                    self.clock.now + delay,
                    f"sns->{subscription.function}",
                    lambda s=subscription, e=event, t=self.clock.elapsed: self._invoke_async(
                        s.function, e, attempt=0, first_at=t
                    ),
                )

    def publish_from_service(self, topic_arn: str, message: str, attributes: dict[str, str]) -> None:
        """Thread-safe entry for the fake Connect (it publishes from its HTTP thread, mid-invoke)."""
        with self._published_lock:
            self._published.append((topic_arn, message, attributes))

    def _sns_event(self, topic_arn: str, message: str, attributes: dict[str, str]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "EventSource": "aws:sns",
                    "EventVersion": "1.0",
                    "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                    "Sns": {
                        "Type": "Notification",
                        "MessageId": str(uuid.uuid4()),
                        "TopicArn": topic_arn,
                        "Subject": None,
                        "Message": message,
                        "Timestamp": iso(self.clock.now),
                        "SignatureVersion": "1",
                        "Signature": "sandbox",
                        "SigningCertUrl": "https://sns.invalid/cert.pem",
                        "UnsubscribeUrl": "https://sns.invalid/unsubscribe",
                        "MessageAttributes": {k: {"Type": "String", "Value": v} for k, v in attributes.items()},
                    },
                }
            ]
        }

    def _invoke_async(self, key: str, event: dict[str, Any], *, attempt: int, first_at: float) -> None:
        spec = self.wiring.functions[key]
        invocation = self.invoke(key, event)
        if invocation.ok:
            return
        if attempt < spec.async_retries:
            delay = ASYNC_RETRY_DELAYS[min(attempt, len(ASYNC_RETRY_DELAYS) - 1)]
            self.schedule(
                self.clock.now + delay,
                f"retry->{key}",
                lambda: self._invoke_async(key, event, attempt=attempt + 1, first_at=first_at),
            )
            return
        self._dead_letter(spec, "sns", event, invocation, first_at)

    def _dead_letter(self, spec: FunctionSpec, source: str, event: Any, invocation: Invocation, first_at: float) -> None:
        reason = f"{invocation.error_type}: {invocation.error_message}"
        self.dead_letters.append(
            DeadLetter(first_at, spec.key, source, invocation.error_type, reason, event, self.clock.elapsed)
        )
        if spec.async_failure_arn and ":sqs:" in spec.async_failure_arn:
            queue = self.wiring.queue_by_arn(spec.async_failure_arn)
            self._check_service_side(spec.key, [("sqs:SendMessage", queue.arn)])
            request_id = str(uuid.uuid4())
            if spec.async_failure_is_destination:
                # What Lambda sends an on-failure destination: an invocation record around the event and the error.
                record = {
                    "version": "1.0",
                    "timestamp": iso(self.clock.now),
                    "requestContext": {
                        "requestId": request_id,
                        "functionArn": f"{spec.arn}:$LATEST",
                        "condition": "RetriesExhausted",
                        "approximateInvokeCount": spec.async_retries + 1,
                    },
                    "requestPayload": event,
                    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                    "responsePayload": {"errorType": invocation.error_type, "errorMessage": invocation.error_message},
                }
                self._send(queue, json.dumps(record), {})
            else:
                # A dead-letter queue gets the event itself, the error in message attributes.
                self._send(queue, json.dumps(event), {"ErrorCode": "200", "ErrorMessage": reason[:1000], "RequestID": request_id})

    def _send(self, queue: QueueSpec, body: str, attributes: dict[str, str]) -> None:
        kwargs: dict[str, Any] = {
            "QueueUrl": self._moto_queue_url(queue),
            "MessageBody": body,
            "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        }
        if queue.fifo:
            kwargs.update(MessageGroupId="dead-letters", MessageDeduplicationId=str(uuid.uuid4()))
        self._sqs.send_message(**kwargs)

    def _moto_queue_url(self, queue: QueueSpec) -> str:
        return f"{self.moto_url}/{self.wiring.account.account_id}/{queue.name}"

    # ---------------------------------------------------------------- DynamoDB stream -> Lambda (tumbling window)
    def _pump_stream(self, index: int) -> None:
        mapping = self.wiring.stream_mappings[index]
        records = [self._lambda_record(mapping, r) for r in self._readers[index].read()]
        records = [r for r in records if filters.matches_any(mapping.filters, r)]
        if not records:
            return
        window = mapping.window_s or 0
        start = math.floor(self.clock.now / window) * window if window else self.clock.now
        windows = self._windows[index]
        is_new = start not in windows
        windows.setdefault(start, {"state": {}})
        for offset in range(0, len(records), mapping.batch_size):
            batch = records[offset : offset + mapping.batch_size]
            self._invoke_stream(index, start, batch, final=False, attempt=0)
        if window and is_new:
            self.schedule(
                start + window,
                f"window-end->{mapping.function}",
                lambda: self._invoke_stream(index, start, [], final=True, attempt=0),
            )
        elif not window:
            windows.pop(start, None)

    def _lambda_record(self, mapping: StreamMapping, record: dict[str, Any]) -> dict[str, Any]:
        table = self.wiring.tables[mapping.table]
        dynamodb = dict(record["dynamodb"])
        dynamodb["ApproximateCreationDateTime"] = float(int(self.clock.now))
        return {
            "eventID": record.get("eventID", uuid.uuid4().hex),
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.wiring.account.region,
            "dynamodb": dynamodb,
            "eventSourceARN": table.stream_arn,
        }

    def _window_event(self, index: int, start: float, records: list[dict[str, Any]], *, final: bool) -> dict[str, Any]:
        mapping = self.wiring.stream_mappings[index]
        table = self.wiring.tables[mapping.table]
        event: dict[str, Any] = {"Records": records}
        if mapping.window_s:
            event.update(
                {
                    "window": {"start": iso(start), "end": iso(start + mapping.window_s)},
                    "state": self._windows[index].get(start, {}).get("state", {}),
                    "shardId": "shardId-00000001-sandbox",
                    "eventSourceARN": table.stream_arn,
                    "isFinalInvokeForWindow": final,
                    "isWindowTerminatedEarly": False,
                }
            )
        return event

    def _invoke_stream(self, index: int, start: float, batch: list[dict[str, Any]], *, final: bool, attempt: int) -> None:
        mapping = self.wiring.stream_mappings[index]
        invocation = self.invoke(mapping.function, self._window_event(index, start, batch, final=final))
        failed_from = None
        if invocation.ok:
            result = invocation.result if isinstance(invocation.result, dict) else {}
            if mapping.window_s and "state" not in result:
                failed_from = 0  # Lambda counts a tumbling-window invoke without `state` as failed
            elif mapping.window_s:
                self._windows[index].setdefault(start, {})["state"] = result["state"]
            failures = (result.get("batchItemFailures") or []) if mapping.report_item_failures else []
            if failures and failed_from is None:
                failed_ids = {f.get("itemIdentifier") for f in failures}
                failed_from = next(
                    (i for i, r in enumerate(batch) if r["dynamodb"].get("SequenceNumber") in failed_ids), 0
                )
        else:
            failed_from = 0
        if failed_from is None:
            if final:
                self._windows[index].pop(start, None)
            return
        remaining = batch[failed_from:]
        if mapping.max_retries < 0 or attempt < mapping.max_retries:
            # The shard waits for this batch: Lambda retries it (from the first failed record) before anything else;
            # a failed final invoke is retried with the window's state, which stays until it succeeds or is dropped.
            self.schedule(
                self.clock.now + STREAM_RETRY_DELAY,
                f"stream-retry->{mapping.function}",
                lambda: self._invoke_stream(index, start, remaining, final=final, attempt=attempt + 1),
            )
            return
        spec = self.wiring.functions[mapping.function]
        self.dead_letters.append(
            DeadLetter(
                self.clock.elapsed,
                mapping.function,
                "stream",
                invocation.error_type or "BatchItemFailures",
                f"{invocation.error_type or 'batch item failures'}: {invocation.error_message or ''}".strip(),
                {"records": len(remaining), "final": final},
                self.clock.elapsed,
            )
        )
        if mapping.on_failure_arn and ":sqs:" in mapping.on_failure_arn:
            queue = self.wiring.queue_by_arn(mapping.on_failure_arn)
            self._check_service_side(spec.key, [("sqs:SendMessage", queue.arn)])
            self._send(queue, json.dumps({"requestContext": {"condition": "RetryAttemptsExhausted"}, "records": len(remaining)}), {})
        if final:
            self._windows[index].pop(start, None)

    # ---------------------------------------------------------------- SQS -> Lambda
    def _schedule_poll(self, queue_name: str) -> None:
        if queue_name in self._poll_scheduled:
            return
        if not any(m.queue == queue_name for m in self.wiring.queue_mappings):
            return
        self._poll_scheduled.add(queue_name)
        self.schedule(self.clock.now + SQS_POLL_DELAY, f"poll->{queue_name}", lambda: self._poll(queue_name))

    def _poll(self, queue_name: str) -> None:
        self._poll_scheduled.discard(queue_name)
        mapping = next(m for m in self.wiring.queue_mappings if m.queue == queue_name)
        queue = self.wiring.queues[queue_name]
        url = self._moto_queue_url(queue)
        while True:
            response = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(mapping.batch_size, 10),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                VisibilityTimeout=HIDDEN,
            )
            messages = response.get("Messages", [])
            if not messages:
                return
            for message in messages:
                self._remember_burst(message["Body"])
            event = {"Records": [self._sqs_record(queue, m) for m in messages]}
            invocation = self.invoke(mapping.function, event)
            if invocation.ok:
                result = invocation.result if isinstance(invocation.result, dict) else {}
                failed = {f.get("itemIdentifier") for f in (result.get("batchItemFailures") or [])}
            else:
                failed = {m["MessageId"] for m in messages}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self._sqs.delete_message_batch(
                    QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
                )
            for message in messages:
                if message["MessageId"] in failed:
                    self.schedule(
                        self.clock.now + queue.visibility_timeout_s,
                        f"visible-again->{queue_name}",
                        lambda m=message: self._release(queue_name, m["ReceiptHandle"]),
                    )

    def _release(self, queue_name: str, receipt: str) -> None:
        queue = self.wiring.queues[queue_name]
        try:
            self._sqs.change_message_visibility(QueueUrl=self._moto_queue_url(queue), ReceiptHandle=receipt, VisibilityTimeout=0)
        except self._sqs.exceptions.ReceiptHandleIsInvalid:
            return
        self._schedule_poll(queue_name)

    def _remember_burst(self, body: str) -> None:
        try:
            burst_id = json.loads(body).get("burst_id")
        except (ValueError, AttributeError):
            return
        if burst_id:
            self.bursts_seen.setdefault(burst_id, body)

    def _sqs_record(self, queue: QueueSpec, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType", "String")}
                for k, v in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue.arn,
            "awsRegion": self.wiring.account.region,
        }

    def dead_letter_depth(self, queue: QueueSpec) -> int:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self._moto_queue_url(queue), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])
