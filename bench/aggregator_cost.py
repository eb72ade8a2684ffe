"""Aggregator cost: the pure decision + merge code, the handler's window-end work on the sandbox's DynamoDB (moto on
loopback), and the size of the window state."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import random
import time
from typing import Any

from whatsapp_buffer.aggregator import debounce, merge
from whatsapp_buffer.aggregator.debounce import ControlView
from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.end_of_turn import Cue
from whatsapp_buffer.model import Conversation, InboundMessage

POLICY = BufferPolicy(buffer_seconds=20, max_wait_seconds=60, max_messages=50, window_seconds=5, end_of_turn="fixed")
PHONE_NUMBER_ID = "106540352242922"
LAMBDA_STATE_LIMIT = 1024 * 1024
"""Bytes of window state per shard before Lambda ends the window early."""
T0 = 1_767_225_600.0


def _conversation(index: int) -> Conversation:
    # Real wa_ids are country code + number: 11-13 digits; 13 is the worst case for the state size.
    return Conversation(PHONE_NUMBER_ID, f"5511{index:09d}")


def _pending(conversations: int, seed: int = 8) -> list[list[InboundMessage]]:
    rng = random.Random(seed)
    bursts = []
    for c in range(conversations):
        conversation = _conversation(c)
        at = T0 + rng.uniform(0, 60)
        burst = []
        for m in range(rng.randint(1, 8)):
            at += rng.uniform(0.5, 6)
            burst.append(
                InboundMessage(
                    message_id=f"wamid.C{c:06d}M{m}",
                    conversation=conversation,
                    kind="text",
                    sent_at=float(int(at)),
                    content={"text": "order 4471 has not arrived yet, can you check?"},
                    origination_phone_number_id="phone-number-id-0123",
                    received_at=at,
                )
            )
        bursts.append(burst)
    return bursts


def pure_throughput(conversations: int = 20_000) -> dict[str, Any]:
    """Window-end work without I/O: `flush_due` for each conversation, then `build_burst` (merge) of its messages."""
    bursts = _pending(conversations)
    records = sum(len(b) for b in bursts)
    now = T0 + 200
    started = time.perf_counter()
    flushed = 0
    for burst in bursts:
        control = debounce.ControlView(len(burst), burst[-1].received_at, burst[0].received_at, len(burst))
        if debounce.flush_due(control, now, POLICY).flush:
            merge.build_burst(burst, now)
            flushed += 1
    elapsed = time.perf_counter() - started
    decide_started = time.perf_counter()
    for burst in bursts:
        debounce.flush_due(debounce.ControlView(len(burst), burst[-1].received_at, burst[0].received_at), now, POLICY)
    decide_elapsed = time.perf_counter() - decide_started
    return {
        "conversations": conversations,
        "records": records,
        "bursts": flushed,
        "seconds": round(elapsed, 3),
        "records_per_s": round(records / elapsed),
        "conversations_per_s": round(conversations / elapsed),
        "decisions_per_s": round(conversations / decide_elapsed),
    }


def handler_throughput(conversations: int = 100) -> dict[str, Any]:
    """The aggregator's window end (`Aggregator.end_window`) for `conversations` due conversations on moto DynamoDB
    and SQS FIFO served on loopback, as the sandbox serves them: read control, query, claim, send, mark sent, settle."""
    from sandbox.moto_server import LoopbackMotoServer
    from sandbox.pipeline import local_client
    from whatsapp_buffer.adapters.bursts_queue import BurstsFifoQueue
    from whatsapp_buffer.adapters.raw_table import RawTable
    from whatsapp_buffer.aggregator import flush as aggregator
    from whatsapp_buffer.observability import logger

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = LoopbackMotoServer()
    url = server.start()
    try:
        ddb = local_client("dynamodb", url, "us-east-1")
        sqs = local_client("sqs", url, "us-east-1")
        ddb.create_table(
            TableName="bench-raw",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        queue_url = sqs.create_queue(
            QueueName="bench-bursts.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}
        )["QueueUrl"]
        store = RawTable("bench-raw", ddb)
        bursts = _pending(conversations)
        stored_started = time.perf_counter()
        for burst in bursts:
            for message in burst:
                store.store_message(message, message.received_at, 24)
        store_elapsed = time.perf_counter() - stored_started
        records = sum(len(b) for b in bursts)
        now = T0 + 200
        service = aggregator.Aggregator(
            store=store, queue=BurstsFifoQueue(queue_url, sqs), policy=POLICY, now=lambda: now
        )
        logger.setLevel("WARNING")
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools flushes EMF every 100 metrics
            sent = service.end_window([b[0].conversation for b in bursts])
        elapsed = time.perf_counter() - started
        waiting_started = time.perf_counter()
        for burst in bursts[:50]:
            store.store_message(
                InboundMessage(
                    f"wamid.late.{burst[0].conversation.customer}",
                    burst[0].conversation,
                    "text",
                    now,
                    {"text": "one more"},
                    received_at=now,
                ),
                now,
                24,
            )
        store_elapsed_late = time.perf_counter() - waiting_started
        touch_started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            service.end_window([b[0].conversation for b in bursts[:50]])
        touch_elapsed = time.perf_counter() - touch_started
    finally:
        server.stop()
    return {
        "conversations": conversations,
        "records": records,
        "bursts_sent": len(sent),
        "seconds": round(elapsed, 3),
        "records_per_s": round(records / elapsed, 1),
        "bursts_per_s": round(len(sent) / elapsed, 1),
        "ms_per_flushed_conversation": round(1000 * elapsed / len(sent), 2),
        "ms_per_waiting_conversation": round(1000 * touch_elapsed / 50, 2),
        "ingest_ms_per_message": round(1000 * (store_elapsed + store_elapsed_late) / (records + 50), 2),
    }


def state_views(keys: list[str]) -> dict[str, list[Any]]:
    """Each conversation's control image as its records carry it (`ControlView.as_view`): pending, three arrival times
    to the microsecond, the control item's version (a conversation's thousandth write) and the latest message's cue."""
    view = ControlView(8, T0 + 100.123456, T0 + 61.654321, 1000, Cue.PLAIN, T0 + 97.654321).as_view()
    return {key: list(view) for key in keys}


def state_size(conversations: int) -> dict[str, Any]:
    """Bytes of the aggregator's window state (keys and their control images) as the handler returns it and Lambda
    serialises it."""
    from whatsapp_buffer.aggregator.window import window_state

    keys = [_conversation(i).key for i in range(conversations)]
    state = window_state(keys, state_views(keys))
    size = len(json.dumps(state).encode("utf-8"))
    return {
        "conversations": conversations,
        "bytes": size,
        "bytes_per_conversation": round(size / conversations, 1),
        "pct_of_1mb_limit": round(100 * size / LAMBDA_STATE_LIMIT, 2),
    }


def tick_write_units(conversations: int) -> dict[str, Any]:
    """Write units of the tick a window end writes when it leaves `conversations` waiting: the items exactly as
    `RawTable.write_tick` builds them (each conversation with its image), priced as `bench/cost.py` prices a PutItem."""
    from bench.dynamodb_units import item_size, write_units
    from whatsapp_buffer.adapters.raw_table import RawTable

    items: list[dict[str, Any]] = []

    class _Kept:
        """A DynamoDB client that keeps what it is asked to put."""

        def put_item(self, **request: Any) -> dict[str, Any]:
            items.append(request["Item"])
            return {}

    keys = [_conversation(i).key for i in range(conversations)]
    RawTable("bench-raw", _Kept()).write_tick(_conversation(0), state_views(keys), T0 + 100)
    units = sum(write_units(item_size(item)) for item in items)
    return {
        "conversations": conversations,
        "items": len(items),
        "wru": units,
        "conversations_per_wru": round(conversations / units, 1),
    }


def run() -> dict[str, Any]:
    sizes = [state_size(n) for n in (1_000, 10_000)]
    per = sizes[-1]["bytes_per_conversation"]
    return {
        "pure": pure_throughput(),
        "handler_moto": handler_throughput(),
        "state": sizes,
        "max_conversations_per_shard_window": int(LAMBDA_STATE_LIMIT // per),
        "tick": tick_write_units(1_000),
    }
