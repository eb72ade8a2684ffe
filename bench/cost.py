"""The buffer's own AWS bill in dollars, from what a sandbox replay called, next to the Connect charges it saves.

One table of published on-demand prices (`PRICES`, us-east-1, each with its page and the date it was read), the
usage one replay caused (`Usage`: request units, requests, GB-seconds, log bytes) and the arithmetic between them
(`dollars`). Usage comes from the calls the handlers made, as the sandbox records them for every invoke, plus the
requests Lambda's event source mappings and SNS make on the stack's behalf. What the sandbox cannot measure is
modelled, and said so: DynamoDB item sizes (`bench.dynamodb_units`: a shadow of every item written), Lambda
duration (`DURATION_BASE_MS`, `CALL_LATENCY_MS`) and KMS requests (docs/benchmarks.md#cost-in-dollars).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from bench.dynamodb_units import SecondaryIndex, Shadow, call_kind, dynamodb_units

PRICES_READ_ON = "2026-12-01"
REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    usd: float
    per: float
    """`usd` buys this many units."""
    unit: str
    source: str

    @property
    def each(self) -> float:
        return self.usd / self.per


PRICES: dict[str, Price] = {
    "dynamodb_write_unit": Price(
        0.625,
        1e6,
        "write request unit (1 KB; transactional x2)",
        "aws.amazon.com/dynamodb/pricing/on-demand/ (US East, as quoted by "
        "airbyte.com/data-engineering-resources/dynamodb-pricing)",
    ),
    "dynamodb_read_unit": Price(
        0.125,
        1e6,
        "read request unit (4 KB strongly consistent; eventual x0.5; transactional x2)",
        "aws.amazon.com/dynamodb/pricing/on-demand/ (as above)",
    ),
    "dynamodb_stream_read_lambda": Price(
        0.0,
        1e5,
        "streams read request (GetRecords) made by a Lambda trigger: free",
        "docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html: "
        "'Read requests made by AWS Lambda-based consumers of DynamoDB Streams are free' "
        "(other consumers: $0.02 per 100,000, DynamoDB pricing page)",
    ),
    "lambda_request": Price(0.20, 1e6, "request", "aws.amazon.com/lambda/pricing/ (US East)"),
    "lambda_gb_second_arm64": Price(
        0.0000133334,
        1,
        "GB-second, Arm (first 7.5 billion GB-s a month)",
        "aws.amazon.com/lambda/pricing/ (US East, as quoted by cloudchipr.com/blog/aws-lambda-pricing)",
    ),
    "sqs_fifo_request": Price(
        0.50,
        1e6,
        "FIFO request per 64 KB chunk (send, receive, delete, change visibility)",
        "aws.amazon.com/sqs/pricing/ (as quoted by cloudburn.io/blog/amazon-sqs-pricing, March 2026)",
    ),
    "sns_publish": Price(
        0.50,
        1e6,
        "standard-topic publish per 64 KB chunk",
        "aws.amazon.com/sns/pricing/ (as quoted by factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols)",
    ),
    "sns_lambda_delivery": Price(
        0.0,
        1e6,
        "delivery to a Lambda subscription: no charge",
        "aws.amazon.com/sns/pricing/ delivery table (Lambda: no charge; not re-read through the search tool)",
    ),
    "kms_request": Price(0.03, 1e4, "symmetric-key request", "aws.amazon.com/kms/pricing/"),
    "s3_put": Price(0.005, 1e3, "PUT/COPY/POST/LIST request, S3 Standard", "aws.amazon.com/s3/pricing/"),
    "s3_get": Price(0.0004, 1e3, "GET/SELECT and other request, S3 Standard", "aws.amazon.com/s3/pricing/"),
    "logs_ingested_gb": Price(
        0.50,
        1,
        "GB of Lambda logs ingested, CloudWatch Logs Standard (first tier)",
        "aws.amazon.com/cloudwatch/pricing/ (as quoted by duckbillgroup.com on the May 2025 Lambda log tiers)",
    ),
    "connect_chat_message": Price(
        0.010,
        1,
        "Connect chat message sent or received",
        "aws.amazon.com/connect/pricing/ (Chat: '$0.010 per message sent or received', as transcribed by "
        "api-evangelist/amazon-connect plans/amazon-connect-plans-pricing.yml, read 2026-10-07)",
    ),
    "transcribe_batch_minute": Price(
        0.024,
        1,
        "minute of audio, Amazon Transcribe standard batch, tier 1 (first 250,000 minutes a month); "
        "billed per second with a 15-second minimum per request",
        "aws.amazon.com/transcribe/pricing/ (per-minute rate as quoted by third-party write-ups found through the "
        "search tool: '$0.024/minute for standard use, dropping to $0.015/minute after 250,000 monthly minutes'; the "
        "billing rule from the pricing page's Chinese edition, aws.amazon.com/cn/transcribe/pricing: billed in "
        "one-second increments with a 15-second minimum per request; the English page was not read directly)",
    ),
    "connect_chat_message_seed": Price(
        0.004,
        1,
        "Connect chat message, the AWS sample's cost table",
        "the AWS sample's README cost table",
    ),
}
"""us-east-1 on-demand, read on PRICES_READ_ON from the page each names; free tiers left out."""

DURATION_BASE_MS = 5.0
"""Billed ms an invoke spends outside AWS calls (parse, decide, log): an assumption for these small handlers."""
CALL_LATENCY_MS = {
    "dynamodb": 8.0,
    "sqs": 15.0,
    "sns": 20.0,
    "kms": 8.0,
    "s3": 25.0,
    "connect": 60.0,
    "connectparticipant": 60.0,
    "social-messaging": 150.0,
    "transcribe": 60.0,
}
"""Typical in-region latency per call (assumptions); a service not listed counts 50 ms."""
LAMBDA_PLATFORM_LOG_BYTES = 350
"""START, END and REPORT lines Lambda writes per invoke (about 350 bytes together)."""
SQS_CHUNK = 64 * 1024
SNS_CHUNK = 64 * 1024


# ---------------------------------------------------------------------- usage of one replay
@dataclass
class Usage:
    """What one replay used: request units, requests, GB-seconds and bytes (see the module docstring)."""

    whatsapp_messages: int = 0
    connect_messages: int = 0
    dynamodb_read_units: float = 0.0
    dynamodb_write_units: float = 0.0
    dynamodb_stream_reads_lambda: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: float = 0.0
    sqs_fifo_requests: int = 0
    sns_publishes: int = 0
    sns_lambda_deliveries: int = 0
    kms_requests: int = 0
    s3_puts: int = 0
    s3_gets: int = 0
    log_bytes: int = 0
    dynamodb_write_units_by_function: dict[str, float] = field(default_factory=dict)
    dynamodb_read_units_by_function: dict[str, float] = field(default_factory=dict)
    dynamodb_by_kind: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    """function -> what the call did (`call_kind`) -> {"calls", "wru", "rru"}"""

    def as_dict(self) -> dict[str, Any]:
        return {f.name: (round(v, 6) if isinstance(v := getattr(self, f.name), float) else v) for f in fields(self)}


LINES: tuple[tuple[str, str, str], ...] = (
    ("DynamoDB writes", "dynamodb_write_units", "dynamodb_write_unit"),
    ("DynamoDB reads", "dynamodb_read_units", "dynamodb_read_unit"),
    ("DynamoDB stream reads (Lambda)", "dynamodb_stream_reads_lambda", "dynamodb_stream_read_lambda"),
    ("Lambda requests", "lambda_requests", "lambda_request"),
    ("Lambda GB-seconds (arm64)", "lambda_gb_seconds", "lambda_gb_second_arm64"),
    ("SQS FIFO requests", "sqs_fifo_requests", "sqs_fifo_request"),
    ("SNS publishes", "sns_publishes", "sns_publish"),
    ("SNS deliveries to Lambda", "sns_lambda_deliveries", "sns_lambda_delivery"),
    ("KMS requests", "kms_requests", "kms_request"),
    ("S3 PUTs", "s3_puts", "s3_put"),
    ("S3 GETs", "s3_gets", "s3_get"),
    ("CloudWatch Logs ingestion", "log_gb", "logs_ingested_gb"),
)
"""(label, Usage quantity, PRICES key): the lines of the buffer's own bill."""


def _quantity(usage: Usage, name: str) -> float:
    if name == "log_gb":
        return usage.log_bytes / 1e9
    return float(getattr(usage, name))


def dollars(usage: Usage, prices: Mapping[str, Price] = PRICES) -> dict[str, Any]:
    """The bill of `usage`, line by line, per 1,000 WhatsApp messages, against the Connect messages it saves
    (unbuffered, every WhatsApp message is one Connect message)."""
    per = 1000 / usage.whatsapp_messages if usage.whatsapp_messages else math.nan
    lines = {label: _quantity(usage, name) * prices[key].each * per for label, name, key in LINES}
    own = sum(lines.values())
    saved_messages = (usage.whatsapp_messages - usage.connect_messages) * per
    saved = saved_messages * prices["connect_chat_message"].each
    saved_seed = saved_messages * prices["connect_chat_message_seed"].each
    return {
        "lines_per_1000_usd": {k: round(v, 7) for k, v in lines.items()},
        "own_per_1000_usd": round(own, 6),
        "connect_messages_per_1000": round(usage.connect_messages * per, 1),
        "connect_per_1000_usd": round(usage.connect_messages * per * prices["connect_chat_message"].each, 4),
        "connect_saved_messages_per_1000": round(saved_messages, 1),
        "connect_saved_per_1000_usd": round(saved, 4),
        "connect_saved_per_1000_usd_seed_price": round(saved_seed, 4),
        "net_saved_per_1000_usd": round(saved - own, 4),
        "own_pct_of_saved": round(100 * own / saved, 3) if saved else math.nan,
    }


TRANSCRIBE_MINIMUM_SECONDS = 15
"""Transcribe bills each request at least 15 seconds of audio (see `transcribe_batch_minute`)."""
LAMBDA_CPU_SCALE = 6.0
"""A 256 MB Lambda function gets about a sixth of a vCPU (bench/media.py): this machine's conversion time x 6."""
VOICE_NOTE_CALLS = {
    # early preparation (one stream invoke per recording, an upper bound: batches hold up to 10)
    "prepare": ("social-messaging", "social-messaging", "s3", "s3", "s3", "transcribe"),
    # at flush, beyond a text item: prepared WAV found, read for the upload, job found started, read, transcript read
    "flush": ("s3", "s3", "transcribe", "transcribe", "s3", "connectparticipant", "connectparticipant"),
}
"""The AWS calls one voice note adds: prepare (metadata, copy, exists, download, store WAV, start job) and flush."""


def transcribe_billed_seconds(seconds: float) -> int:
    return max(TRANSCRIBE_MINIMUM_SECONDS, math.ceil(seconds))


def voice_notes_cost(
    conversion_ms: float,
    *,
    notes: int = 1000,
    seconds: float = 15,
    memory_mb: int = 256,
    prices: Mapping[str, Price] = PRICES,
) -> dict[str, float]:
    """Dollars for `notes` voice notes of `seconds` each: Transcribe (per second, 15 s minimum) and the Lambda time
    and requests the recording adds (conversion at Lambda's CPU share plus each call's typical latency), S3 requests.
    Modelled from measured conversion time and assumed call latencies, not billed figures."""
    transcribe = notes * transcribe_billed_seconds(seconds) / 60 * prices["transcribe_batch_minute"].each
    calls = [service for phase in VOICE_NOTE_CALLS.values() for service in phase]
    ms = 2 * DURATION_BASE_MS + conversion_ms * LAMBDA_CPU_SCALE + sum(CALL_LATENCY_MS.get(c, 50.0) for c in calls)
    gb_seconds = notes * ms / 1000 * memory_mb / 1024
    lambda_usd = gb_seconds * prices["lambda_gb_second_arm64"].each + notes * prices["lambda_request"].each
    s3_usd = notes * (3 * prices["s3_put"].each + 4 * prices["s3_get"].each)  # copy, WAV, transcript; head/get x4
    return {
        "transcribe_usd": round(transcribe, 4),
        "lambda_gb_seconds": round(gb_seconds, 1),
        "lambda_usd": round(lambda_usd, 4),
        "s3_usd": round(s3_usd, 4),
        "total_usd": round(transcribe + lambda_usd + s3_usd, 4),
    }


def invoke_seconds(calls: Iterable[Any]) -> float:
    """Modelled billed duration of one invoke: the base plus each AWS call's typical latency, rounded up to 1 ms."""
    ms = DURATION_BASE_MS + sum(CALL_LATENCY_MS.get(c.service, 50.0) for c in calls)
    return math.ceil(ms) / 1000


@dataclass
class Meter:
    """Attached to a replay before it runs (`attach`): prices every invoke's calls as they happen."""

    memory_mb: dict[str, int] = field(default_factory=dict)
    stream_functions: set[str] = field(default_factory=set)
    queue_functions: set[str] = field(default_factory=set)
    sns_functions: set[str] = field(default_factory=set)
    encrypted_topics: set[str] = field(default_factory=set)
    shadow: Shadow = field(default_factory=Shadow)
    usage: Usage = field(default_factory=Usage)
    calls_seen: int = 0

    def attach(self, replay: Any) -> None:
        """Read the wiring and hook the pipeline (call from `Replay(on_ready=...)`)."""
        wiring, pipeline = replay.wiring, replay.pipeline
        self.memory_mb = {k: f.memory_mb for k, f in wiring.functions.items()}
        self.stream_functions = {m.function for m in wiring.stream_mappings}
        self.queue_functions = {m.function for m in wiring.queue_mappings}
        self.sns_functions = {s.function for s in wiring.subscriptions}
        self.encrypted_topics = set(wiring.topics.values())  # every topic of the stack uses the stack's KMS key
        self.shadow.keys = {t.name: (t.hash_key, t.range_key) for t in wiring.tables.values()}
        self.shadow.indexes = {
            t.name: tuple(SecondaryIndex.from_program(i) for i in t.indexes)
            for t in wiring.tables.values()
            if t.indexes
        }
        previous = pipeline.on_invocation
        sns = pipeline.sns
        original_publish = sns.publish

        def publish(topic_arn: str, message: str, attributes: dict[str, str] | None = None) -> None:
            self.sns_published(topic_arn, message)
            original_publish(topic_arn, message, attributes)

        sns.publish = publish  # the replay's publishes; Connect streaming goes through its own reference:
        pipeline.connect._publish = publish

        def on_invocation(key: str, invocation: Any) -> None:
            self.invoked(key, invocation.calls, invocation.output)
            if previous:
                previous(key, invocation)

        pipeline.on_invocation = on_invocation

    def sns_published(self, topic_arn: str, message: str) -> None:
        self.usage.sns_publishes += max(1, math.ceil(len(message.encode("utf-8")) / SNS_CHUNK))
        if topic_arn in self.encrypted_topics:
            self.usage.kms_requests += 1

    def invoked(self, function: str, calls: list[Any], output: list[str]) -> None:
        u = self.usage
        u.lambda_requests += 1
        u.lambda_gb_seconds += self.memory_mb.get(function, 128) / 1024 * invoke_seconds(calls)
        u.log_bytes += LAMBDA_PLATFORM_LOG_BYTES + sum(len(line.encode("utf-8")) + 1 for line in output)
        if function in self.stream_functions:
            u.dynamodb_stream_reads_lambda += 1  # at least one GetRecords per invoke; free either way
        if function in self.queue_functions:
            u.sqs_fifo_requests += 2  # the mapping's ReceiveMessage and DeleteMessageBatch for this batch
        if function in self.sns_functions:
            u.sns_lambda_deliveries += 1
        for call in calls:
            self.calls_seen += 1
            self.call(function, call)

    def call(self, function: str, call: Any) -> None:
        u, params = self.usage, call.params
        if call.service == "dynamodb":
            indexed = self.shadow.index_write_units
            rru, wru = dynamodb_units(call.operation, params, self.shadow, failed=call.error is not None)
            index_wru = self.shadow.index_write_units - indexed
            u.dynamodb_read_units += rru
            u.dynamodb_write_units += wru
            u.dynamodb_read_units_by_function[function] = u.dynamodb_read_units_by_function.get(function, 0) + rru
            u.dynamodb_write_units_by_function[function] = u.dynamodb_write_units_by_function.get(function, 0) + wru
            kind = u.dynamodb_by_kind.setdefault(function, {}).setdefault(
                call_kind(call.operation, params), {"calls": 0, "wru": 0.0, "rru": 0.0}
            )
            kind["calls"] += 1
            kind["wru"] += wru - index_wru
            kind["rru"] += rru
            if index_wru:
                index = u.dynamodb_by_kind[function].setdefault("index", {"calls": 0, "wru": 0.0, "rru": 0.0})
                index["calls"] += 1
                index["wru"] += index_wru
        elif call.service == "sqs":
            if call.operation == "SendMessageBatch":
                size = sum(len(str(e.get("MessageBody", "")).encode("utf-8")) for e in params.get("Entries") or [])
            else:
                size = len(str(params.get("MessageBody", "")).encode("utf-8"))
            u.sqs_fifo_requests += max(1, math.ceil(size / SQS_CHUNK))
        elif call.service == "sns" and call.operation == "Publish":
            self.sns_published(str(params.get("TopicArn", "")), str(params.get("Message", "")))
        elif call.service == "kms":
            u.kms_requests += 1
        elif call.service == "s3":
            if call.operation in ("GetObject", "HeadObject"):
                u.s3_gets += 1
            else:
                u.s3_puts += 1
        elif call.service == "social-messaging" and call.operation == "GetWhatsAppMessageMedia":
            u.s3_puts += 1  # End User Messaging writes the media into the stack's bucket (billed to its owner)

    def finish(self, transcript: Mapping[str, Any]) -> Usage:
        self.usage.whatsapp_messages = int(transcript["stats"]["whatsapp_in"])
        self.usage.connect_messages = len(transcript["connect"])
        return self.usage


def stage_units(usage: Usage, *, messages: int, bursts: int) -> dict[str, dict[str, Any]]:
    """DynamoDB request units of each function (stage) of one replay: totals, per WhatsApp message, per burst, and
    by what the calls did (`call_kind`)."""
    stages: dict[str, dict[str, Any]] = {}
    for function in sorted(set(usage.dynamodb_write_units_by_function) | set(usage.dynamodb_read_units_by_function)):
        wru = usage.dynamodb_write_units_by_function.get(function, 0.0)
        rru = usage.dynamodb_read_units_by_function.get(function, 0.0)
        if not wru and not rru:
            continue
        stages[function] = {
            "wru": round(wru, 1),
            "rru": round(rru, 1),
            "wru_per_message": round(wru / messages, 2),
            "rru_per_message": round(rru / messages, 2),
            "ru_per_message": round((wru + rru) / messages, 2),
            "ru_per_burst": round((wru + rru) / bursts, 1),
            "by_kind": {
                kind: {"calls": int(k["calls"]), "wru": round(k["wru"], 1), "rru": round(k["rru"], 1)}
                for kind, k in sorted(usage.dynamodb_by_kind.get(function, {}).items())
            },
        }
    return stages
