"""Aggregator handler on moto: ingest writes the table, moto's stream feeds tumbling windows, bursts land on SQS FIFO.

Virtual time: windows of 10 s aligned to multiples of 10 (T0 is one), bufferSeconds 20, maxWait 120, maxMessages 10.
"""

import json

import pytest

from tests.fixtures import eum
from tests.handlers.conftest import POLICY, T0, TABLE, drain_bursts, emitted
from whatsapp_buffer.adapters.raw_common import partition_key
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.aggregator.flush import Aggregator
from whatsapp_buffer.aggregator.window import window_state
from whatsapp_buffer.entrypoints import aggregator as aggregator_module
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.errors import TransientAwsError
from whatsapp_buffer.model import CONNECT_TEXT_LIMIT, Conversation, burst_id_for

CONV = Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER)
ONE_MB = 1024 * 1024


def arrive(clock, at, *messages, phone_number_id=eum.PHONE_NUMBER_ID):
    clock.set(at)
    webhook = eum.webhook_entry(*messages, phone_number_id=phone_number_id)
    return ingest_module.handler(eum.sns_event(eum.sns_message(webhook)), None)


def run_windows(window, until):
    """Close every window from the current one up to `until` (virtual time), returning the final responses."""
    end = (int(window.clock.t) // 10 + 1) * 10
    finals = []
    while end <= until:
        finals.append(window.close(end))
        end += 10
    return finals


def texts(bursts):
    return [[item.text for item in burst.items] for burst, _ in bursts]


def tick_items(store):
    """The raw table's tick items, as stored."""
    items = store.client.scan(TableName=store.table_name, ConsistentRead=True)["Items"]
    return [i for i in items if i["sk"]["S"].startswith("TICK")]


def tick_listing(store):
    """{conversation key: [pending, last_arrival, first_pending, version, cue, previous_arrival] or None} of the newest
    tick (earlier ones under other anchors stay in the table, inert)."""
    from boto3.dynamodb.types import TypeDeserializer

    items = tick_items(store)
    newest = max(float(i["written_at"]["N"]) for i in items)
    listed = {}
    for item in items:
        if float(item["written_at"]["N"]) == newest:
            for key, image in TypeDeserializer().deserialize(item["listed"]).items():
                listed[key] = (
                    None if image is None else [v if v is None or isinstance(v, str) else float(v) for v in image]
                )
    return listed


def close_with(window, records, end):
    """Close the window ending at `end` on exactly `records` (already taken from the stream)."""
    start = end - window.length
    response = aggregator_module.handler(window.event(records, {}, False, start), None)
    window.clock.set(end)
    return aggregator_module.handler(window.event([], response["state"], True, start), None)


def control_item(store, conversation):
    key = {"pk": {"S": f"CONV#{conversation.key}"}, "sk": {"S": "CONTROL"}}
    return store.client.get_item(TableName=store.table_name, Key=key, ConsistentRead=True)["Item"]


def record_kinds(records):
    return [r["dynamodb"]["Keys"]["sk"]["S"] for r in records]


def test_quiet_conversation_becomes_one_burst_after_buffer_seconds(ingest, window, virtual_clock, queue_url):
    # GIVEN three texts within three seconds
    for i, body in enumerate(["Hello", "How", "are you?"]):
        arrive(virtual_clock, T0 + 1 + i, eum.message(f"wamid.{i}", body, sent_at=T0 + 1 + i))
    # WHEN windows close before and after 20 s of quiet
    run_windows(window, T0 + 20)
    assert drain_bursts(queue_url) == []
    run_windows(window, T0 + 30)
    # THEN exactly one burst, texts joined in order, grouped by conversation and deduplicated by its burst id
    ((burst, attributes),) = drain_bursts(queue_url)
    assert [item.text for item in burst.items] == ["Hello\nHow\nare you?"]
    assert burst.message_ids == ("wamid.0", "wamid.1", "wamid.2")
    assert attributes["MessageGroupId"] == CONV.key
    assert attributes["MessageDeduplicationId"] == burst.burst_id == burst_id_for(burst.message_ids)
    assert (burst.first_received_at, burst.last_received_at, burst.flushed_at) == (T0 + 1, T0 + 3, T0 + 30)
    assert burst.display_name == "Sheena Nelson"
    assert burst.origination_phone_number_id == eum.PHONE_ARNS[eum.PHONE_NUMBER_ID]


def test_after_a_flush_the_loop_ends_and_later_windows_see_nothing(ingest, window, virtual_clock, queue_url, store):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    run_windows(window, T0 + 30)
    assert len(drain_bursts(queue_url)) == 1
    control = store.read_control(CONV)
    assert (control.pending, control.first_pending) == (0, None)
    # the settle write is seen once more (IDLE), then the stream goes quiet
    run_windows(window, T0 + 60)
    assert window.stream.new_records() == []
    assert window.responses[-2]["state"] == {"c": []}


def test_every_invoke_returns_state_and_batch_item_failures(ingest, window, virtual_clock):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    run_windows(window, T0 + 30)
    for response in window.responses:
        assert set(response) == {"state", "batchItemFailures"}
    assert window.responses[0] == {
        "state": {"c": [CONV.key], "v": {CONV.key: [1, T0 + 1, T0 + 1, 1, "open", T0 + 1]}},
        "batchItemFailures": [],
    }


def test_out_of_order_timestamps_are_sent_in_whatsapp_order(ingest, window, virtual_clock, queue_url):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.c", "third", sent_at=T0 - 1))
    arrive(virtual_clock, T0 + 2, eum.message("wamid.a", "first", sent_at=T0 - 9))
    arrive(virtual_clock, T0 + 3, eum.message("wamid.b", "second", sent_at=T0 - 5))
    run_windows(window, T0 + 30)
    assert texts(drain_bursts(queue_url)) == [["first\nsecond\nthird"]]


def test_messages_of_one_second_reach_the_agent_in_the_order_they_came_not_by_their_ids(
    ingest, window, virtual_clock, queue_url
):
    # GIVEN "Hello" then "How are you?" in one WhatsApp second, delivered 0.6 s apart, then an album of two photos in
    # one webhook of that second; every id sorts against the order the customer sent them in (wamids are random)
    arrive(virtual_clock, T0 + 1.0, eum.message("wamid.HBgLQzRUIwQzY", "Hello", sent_at=T0))
    arrive(virtual_clock, T0 + 1.6, eum.message("wamid.HBgLQTRBNjU", "How are you?", sent_at=T0))
    photos = [eum.message(f"wamid.{tail}", sent_at=T0, kind="image") for tail in ("B", "A")]
    arrive(virtual_clock, T0 + 2.0, *photos)
    run_windows(window, T0 + 40)
    # THEN one burst: the texts as typed, then the photos in their webhook's order
    ((burst, _),) = drain_bursts(queue_url)
    assert [item.text or item.kind for item in burst.items] == ["Hello\nHow are you?", "image", "image"]
    assert burst.message_ids == ("wamid.HBgLQzRUIwQzY", "wamid.HBgLQTRBNjU", "wamid.B", "wamid.A")


def test_redelivered_message_is_not_sent_twice(ingest, window, virtual_clock, queue_url):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    arrive(virtual_clock, T0 + 2, eum.message("wamid.1", "hi"))
    run_windows(window, T0 + 30)
    # a redelivery after the flush is still a no-op (items are kept until their TTL)
    arrive(virtual_clock, T0 + 35, eum.message("wamid.1", "hi"))
    run_windows(window, T0 + 80)
    assert [burst.message_ids for burst, _ in drain_bursts(queue_url)] == [("wamid.1",)]


def test_two_numbers_and_one_customer_make_two_bursts_in_two_groups(ingest, window, virtual_clock, queue_url):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "sales?"))
    arrive(virtual_clock, T0 + 2, eum.message("wamid.2", "support?"), phone_number_id="107000000000001")
    run_windows(window, T0 + 30)
    groups = sorted((a["MessageGroupId"], b.items[0].text) for b, a in drain_bursts(queue_url))
    assert groups == [(f"106540352242922#{eum.CUSTOMER}", "sales?"), (f"107000000000001#{eum.CUSTOMER}", "support?")]


def test_a_burst_straddling_a_window_edge_is_not_split(ingest, window, virtual_clock, queue_url):
    arrive(virtual_clock, T0 + 8, eum.message("wamid.1", "before the edge", sent_at=T0 + 8))
    run_windows(window, T0 + 10)
    arrive(virtual_clock, T0 + 12, eum.message("wamid.2", "after the edge", sent_at=T0 + 12))
    run_windows(window, T0 + 40)
    assert texts(drain_bursts(queue_url)) == [["before the edge\nafter the edge"]]


def test_every_kind_keeps_its_place_in_the_burst(ingest, window, virtual_clock, queue_url):
    kinds = ["text", "image", "voice", "location", "text", "text", "contacts", "interactive_button_reply", "button"]
    messages = [
        eum.message(f"wamid.{i:02d}", f"t{i}", sent_at=T0 + i, kind=kind if kind != "text" else "text")
        for i, kind in enumerate(kinds)
    ]
    arrive(virtual_clock, T0 + 1, *messages)
    run_windows(window, T0 + 30)
    ((burst, _),) = drain_bursts(queue_url)
    assert [item.kind for item in burst.items] == [
        "text",
        "image",
        "voice",
        "location",
        "text",
        "contacts",
        "interactive",
        "button",
    ]
    assert burst.items[4].text == "t4\nt5"
    assert burst.items[1].content["media_id"] == "1003383421387256"


def test_oversized_text_is_split_into_parts_connect_accepts(ingest, window, virtual_clock, queue_url):
    long_text = ("word " * 800).strip()
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "intro", sent_at=T0), eum.message("wamid.2", long_text))
    run_windows(window, T0 + 30)
    ((burst, _),) = drain_bursts(queue_url)
    parts = [item.text for item in burst.items]
    assert len(parts) == 4
    assert all(len(p.encode("utf-16-le")) // 2 <= CONNECT_TEXT_LIMIT for p in parts)
    assert "".join(parts) == "intro\n" + long_text
    assert burst.items[0].message_ids == ("wamid.1", "wamid.2")
    assert burst.items[-1].message_ids == ("wamid.2",)


def test_max_messages_caps_a_burst_and_the_rest_follow_in_order(ingest, window, virtual_clock, queue_url):
    messages = [eum.message(f"wamid.{i:02d}", f"m{i}", sent_at=T0 + i) for i in range(25)]
    arrive(virtual_clock, T0 + 1, *messages)
    run_windows(window, T0 + 30)
    bursts = drain_bursts(queue_url)
    assert [len(b.message_ids) for b, _ in bursts] == [10, 10, 5]
    assert [m for b, _ in bursts for m in b.message_ids] == [f"wamid.{i:02d}" for i in range(25)]


def test_long_texts_are_split_across_bursts_that_each_fit_one_queue_message(ingest, window, virtual_clock, queue_url):
    # GIVEN ten 4,000-character texts of four-byte characters: over the burst size cap together
    messages = [eum.message(f"wamid.{i:02d}", "😀" * 4000, sent_at=T0 + i) for i in range(10)]
    arrive(virtual_clock, T0 + 1, *messages)
    # WHEN the conversation flushes
    run_windows(window, T0 + 30)
    bursts = drain_bursts(queue_url)
    # THEN every burst fits SQS's 256 KiB, and all ten messages arrive once, in order
    assert len(bursts) > 1
    assert all(len(burst.to_json().encode()) < 256 * 1024 for burst, _ in bursts)
    assert [m for b, _ in bursts for m in b.message_ids] == [f"wamid.{i:02d}" for i in range(10)]


def test_each_flush_counts_the_burst_its_size_and_the_latency_since_its_last_message(
    ingest, window, virtual_clock, queue_url, capsys
):
    # GIVEN three texts, the last stored at T0 + 3, then twelve at once at T0 + 41
    for i in range(3):
        arrive(virtual_clock, T0 + 1 + i, eum.message(f"wamid.{i}", "x", sent_at=T0 + 1 + i))
    run_windows(window, T0 + 30)
    first = emitted(capsys)
    arrive(virtual_clock, T0 + 41, *[eum.message(f"wamid.b{i:02d}", "y", sent_at=T0 + 41 + i) for i in range(12)])
    # WHEN the windows close after 20 s of quiet
    run_windows(window, T0 + 70)
    second = emitted(capsys)
    # THEN each burst is counted with its message count, and latency runs from its last arrival to its flush
    assert (first["BurstsFlushed"], first["MessagesPerBurst"], first["FlushLatency"]) == ([1.0], [3.0], [27.0])
    assert second["BurstsFlushed"] == [1.0, 1.0]
    assert second["MessagesPerBurst"] == [10.0, 2.0]
    # (the first ten hit maxMessages and leave at the next window end, the other two after the quiet period)
    assert second["FlushLatency"] == [9.0, 29.0]
    assert len(drain_bursts(queue_url)) == 3


def test_max_wait_flushes_a_customer_who_never_pauses(ingest, window, virtual_clock, queue_url):
    # GIVEN a message every 15 s (never 20 s of quiet)
    for i in range(12):
        arrive(virtual_clock, T0 + 1 + 15 * i, eum.message(f"wamid.{i:02d}", f"m{i}", sent_at=T0 + 1 + 15 * i))
        run_windows(window, T0 + 1 + 15 * i + 9)
    bursts = drain_bursts(queue_url)
    # THEN the first burst leaves within maxWait + one window of the first message
    assert bursts
    assert bursts[0][0].flushed_at - (T0 + 1) < POLICY.max_wait_seconds + POLICY.window_seconds


class ArrivalDuringFlush(RawTable):
    """A raw store that lets a new customer message arrive right after the flush claimed its messages."""

    def __init__(self, inner, arrive_once):
        super().__init__(inner.table_name, inner.client)
        self.arrive_once = arrive_once

    def claim(self, conversation, messages, burst_id, claimed_at=None):
        super().claim(conversation, messages, burst_id, claimed_at)
        if self.arrive_once:
            self.arrive_once.pop()()


def test_message_arriving_mid_flush_is_neither_lost_nor_sent_twice(ingest, window, virtual_clock, queue_url, store):
    # GIVEN a pending message, and a second one that arrives between the claim and the control update
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "first"))
    late = [lambda: arrive(virtual_clock, virtual_clock.t, eum.message("wamid.2", "second", sent_at=T0 + 29))]
    aggregator_module.installed.get().store = ArrivalDuringFlush(store, late)
    # WHEN the first flushes
    run_windows(window, T0 + 30)
    # THEN the burst has only the claimed message, and the late one stays pending on the control item
    assert texts(drain_bursts(queue_url)) == [["first"]]
    control = store.read_control(CONV)
    assert (control.pending, control.first_pending) == (1, T0 + 30)
    # AND it leaves in its own burst once quiet
    run_windows(window, T0 + 60)
    assert texts(drain_bursts(queue_url)) == [["second"]]
    assert store.read_control(CONV).pending == 0


class CrashAfterSend(RawTable):
    """A raw store whose first mark-sent fails, as if the Lambda died between SendMessage and the update."""

    def __init__(self, inner):
        super().__init__(inner.table_name, inner.client)
        self.crashes = 1

    def mark_sent(self, conversation, messages, burst_id):
        if self.crashes:
            self.crashes -= 1
            raise TransientAwsError("simulated crash after send")
        super().mark_sent(conversation, messages, burst_id)


class SpyQueue:
    def __init__(self, inner):
        self.inner = inner
        self.sent = []

    def send(self, burst):
        self.sent.append(burst)
        return self.inner.send(burst)


def test_crash_between_send_and_mark_sent_resends_the_same_burst_id_and_loses_nothing(
    ingest, window, virtual_clock, queue_url, store
):
    service = aggregator_module.installed.get()
    service.store = CrashAfterSend(store)
    service.queue = spy = SpyQueue(service.queue)
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "a", sent_at=T0), eum.message("wamid.2", "b", sent_at=T0 + 1))
    # WHEN the flush crashes after sending, a message arrives, and later windows retry
    run_windows(window, T0 + 30)
    arrive(virtual_clock, T0 + 31, eum.message("wamid.3", "c", sent_at=T0 + 31))
    run_windows(window, T0 + 70)
    # THEN the claimed burst was resent under the same id (SQS FIFO drops the copy), then the new message followed
    assert [b.burst_id for b in spy.sent[:2]] == [spy.sent[0].burst_id] * 2
    assert [b.message_ids for b, _ in drain_bursts(queue_url)] == [("wamid.1", "wamid.2"), ("wamid.3",)]
    assert store.unsent_messages(CONV) == []
    assert store.read_control(CONV).pending == 0


class CrashMidMark(RawTable):
    """A raw store whose first mark-sent dies after its first message's UpdateItem (marks are one write a message)."""

    def __init__(self, inner):
        super().__init__(inner.table_name, inner.client)
        self.crashes = 1

    def mark_sent(self, conversation, messages, burst_id):
        messages = list(messages)
        if self.crashes:
            self.crashes -= 1
            super().mark_sent(conversation, messages[:1], burst_id)
            raise TransientAwsError("simulated crash between two marks")
        super().mark_sent(conversation, messages, burst_id)


def test_a_flush_dying_half_way_through_marking_sent_never_sends_that_burst_again(
    ingest, window, virtual_clock, queue_url, store, capsys
):
    service = aggregator_module.installed.get()
    service.store = CrashMidMark(store)
    service.queue = spy = SpyQueue(service.queue)
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "a", sent_at=T0), eum.message("wamid.2", "b", sent_at=T0 + 1))
    # WHEN the flush dies after sending and marking one of its two messages, and later windows retry
    run_windows(window, T0 + 30)
    arrive(virtual_clock, T0 + 31, eum.message("wamid.3", "c", sent_at=T0 + 31))
    run_windows(window, T0 + 70)
    # THEN the burst went to the queue once (a copy with only its unmarked rest would differ from what its id
    # carried), its rest was marked sent, and the new message followed in its own burst
    assert [b.message_ids for b in spy.sent] == [("wamid.1", "wamid.2"), ("wamid.3",)]
    assert [b.message_ids for b, _ in drain_bursts(queue_url)] == [("wamid.1", "wamid.2"), ("wamid.3",)]
    assert store.unsent_messages(CONV) == []
    assert store.read_control(CONV).pending == 0
    assert emitted(capsys)["BurstsMarkedAfterPartialMark"] == [1.0]


def test_a_failing_conversation_is_listed_without_an_image_read_at_the_next_end_and_does_not_block_the_others(
    ingest, window, virtual_clock, queue_url, store, capsys
):
    broken = Conversation("107000000000001", eum.CUSTOMER)

    class FailsFor(RawTable):
        failures = 1
        reads: list[float] = []

        def read_control(self, conversation):
            if conversation == broken:
                self.reads.append(virtual_clock.t)
            return super().read_control(conversation)

        def unsent_messages(self, conversation, start=None):
            if conversation == broken and self.failures:
                self.failures -= 1
                raise TransientAwsError("throttled")
            return super().unsent_messages(conversation, start)

    failing = FailsFor(store.table_name, store.client)
    aggregator_module.installed.get().store = failing
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "fine"))
    arrive(virtual_clock, T0 + 1, eum.message("wamid.2", "unlucky"), phone_number_id=broken.phone_number_id)
    run_windows(window, T0 + 30)
    # THEN the other conversation flushed, and the failed one is in the tick with no image (no touch of its own)
    assert texts(drain_bursts(queue_url)) == [["fine"]]
    assert emitted(capsys)["FlushFailures"] == [1.0]
    assert tick_listing(store) == {broken.key: None}
    assert "tick" not in control_item(store, broken)
    # AND the next window end reads it (the tick's null image decides nothing) and flushes it
    run_windows(window, T0 + 40)
    assert failing.reads[-1] == T0 + 40
    assert texts(drain_bursts(queue_url)) == [["unlucky"]]
    assert "FlushFailures" not in emitted(capsys)


def test_final_invoke_fails_when_the_tick_cannot_be_written_and_its_retry_loses_nothing(
    ingest, window, virtual_clock, queue_url, store
):
    class TickDown(RawTable):
        down = True

        def write_tick(self, anchor, listed, now):
            if self.down:
                raise TransientAwsError("down")
            return super().write_tick(anchor, listed, now)

    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    broken = TickDown(store.table_name, store.client)
    aggregator_module.installed.get().store = broken
    # WHEN the window end leaves the conversation waiting and its tick cannot be written
    with pytest.raises(TransientAwsError, match="tick of 1 waiting"):
        run_windows(window, T0 + 10)
    # THEN Lambda retries the final invoke with the window's state; once the tick is written, the burst follows
    broken.down = False
    state = window.responses[-1]["state"]
    aggregator_module.handler(window.event([], state, True, T0), None)
    run_windows(window, T0 + 30)
    assert texts(drain_bursts(queue_url)) == [["hi"]]


def test_window_terminated_early_acts_like_a_final_invoke(ingest, window, virtual_clock, queue_url):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    state = aggregator_module.handler(window.event(window.stream.new_records(), {}, False, T0), None)["state"]
    virtual_clock.set(T0 + 25)
    response = aggregator_module.handler(window.event([], state, True, T0, terminated_early=True), None)
    assert response == {"state": {}, "batchItemFailures": []}
    assert texts(drain_bursts(queue_url)) == [["hi"]]


def test_records_of_the_final_invoke_itself_are_decided_too(ingest, window, virtual_clock, queue_url):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    virtual_clock.set(T0 + 25)
    aggregator_module.handler(window.event(window.stream.new_records(), {}, True, T0), None)
    assert texts(drain_bursts(queue_url)) == [["hi"]]


def test_unreadable_stream_record_is_reported_by_sequence_number_and_the_rest_kept(ingest, window, virtual_clock):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    records = window.stream.new_records()
    bad = json.loads(json.dumps(records[0]))
    bad["dynamodb"]["Keys"] = {"id": {"S": "not-ours"}}
    bad["dynamodb"]["SequenceNumber"] = "999"
    response = aggregator_module.handler(window.event([bad, *records], {}, False, T0), None)
    assert response == {
        "state": {"c": [CONV.key], "v": {CONV.key: [1, T0 + 1, T0 + 1, 1, "open", T0 + 1]}},
        "batchItemFailures": [{"itemIdentifier": "999"}],
    }


def test_a_batch_of_only_unreadable_records_still_returns_state(aggregator, window):
    bad = {"eventName": "MODIFY", "dynamodb": {"Keys": {"x": {"S": "y"}}, "SequenceNumber": "7"}}
    response = aggregator_module.handler(window.event([bad], {"c": ["1#2"]}, False, T0), None)
    assert response == {"state": {"c": ["1#2"]}, "batchItemFailures": [{"itemIdentifier": "7"}]}


def test_window_state_holds_well_over_five_thousand_conversations_under_one_megabyte():
    # GIVEN realistic keys: a 15-digit Meta phone number id and a 15-digit (maximum E.164) wa_id, each with the
    # control image its records carried (pending, last arrival and first pending with sub-second digits, version)
    keys = [f"{106540352242922 + i % 50}#{100000000000000 + i}" for i in range(8_000)]
    views = {key: [50, 1767225601.123456, 1767225541.654321, 1234] for key in keys}
    # WHEN they are kept in the window state, serialized with the default (spaced) JSON encoder
    size = len(json.dumps(window_state(keys, views)).encode())
    # THEN 8,000 conversations fit in one shard-window's 1 MB state (about 120 bytes each)
    assert size < ONE_MB
    assert size / len(keys) < 125


def test_window_state_keeps_each_conversation_once(aggregator, window, virtual_clock):
    record = {
        "eventName": "MODIFY",
        "dynamodb": {"Keys": {"pk": {"S": f"CONV#{CONV.key}"}, "sk": {"S": "CONTROL"}}, "SequenceNumber": "1"},
    }
    response = aggregator_module.handler(window.event([record, record], {"c": [CONV.key]}, False, T0), None)
    assert response["state"] == {"c": [CONV.key]}


def test_handler_builds_itself_from_the_environment_on_first_call(aws, dynamodb, queue_url, monkeypatch, virtual_clock):
    for name, value in {
        "RAW_TABLE_NAME": TABLE,
        "BURSTS_QUEUE_URL": queue_url,
        "BUFFER_SECONDS": "20",
        "MAX_WAIT_SECONDS": "120",
        "MAX_MESSAGES": "10",
        "WINDOW_SECONDS": "10",
        "END_OF_TURN": "fixed",
    }.items():
        monkeypatch.setenv(name, value)
    aggregator_module.installed.reset()
    try:
        response = aggregator_module.handler({"Records": [], "state": {}, "isFinalInvokeForWindow": True}, None)
        assert aggregator_module.installed.current.policy == POLICY
    finally:
        aggregator_module.installed.reset()
    assert response == {"state": {}, "batchItemFailures": []}


def test_a_waiting_conversation_is_not_read_again_while_its_records_say_it_waits(
    ingest, window, virtual_clock, queue_url, store, monkeypatch
):
    """The control image the stream delivers (then the tick carries) decides WAIT without a consistent read; only a
    conversation that looks due is read before anything is sent."""
    reads: list[float] = []
    read = store.read_control
    monkeypatch.setattr(store, "read_control", lambda c: reads.append(virtual_clock.t) or read(c))
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))

    run_windows(window, T0 + 20)  # quiet 9 s, then 19 s: waiting
    assert reads == []
    run_windows(window, T0 + 30)  # quiet 29 s: due, read, flushed
    assert reads and min(reads) == T0 + 30
    assert [burst.message_ids for burst, _ in drain_bursts(queue_url)] == [("wamid.1",)]


# Ticks: one item per window end lists every conversation left waiting (flush.py's module docstring).


def test_a_waiting_conversation_comes_back_through_the_tick_with_its_image_and_flushes_at_the_right_window_end(
    ingest, window, virtual_clock, queue_url, store, monkeypatch
):
    reads: list[float] = []
    read = store.read_control
    monkeypatch.setattr(store, "read_control", lambda c: reads.append(virtual_clock.t) or read(c))
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    # WHEN the first window end finds it waiting (quiet 9 s of 20)
    run_windows(window, T0 + 10)
    # THEN one tick item under its own partition lists it with the image it was decided on; its control item is
    # never touched
    (tick,) = tick_items(store)
    assert (tick["pk"]["S"], tick["sk"]["S"], tick["record_type"]["S"]) == (f"CONV#{CONV.key}", "TICK", "tick")
    assert tick_listing(store) == {CONV.key: [1, T0 + 1, T0 + 1, 1, "open", T0 + 1]}
    assert int(tick["expires_at"]["N"]) == int(T0 + 10 + 3600)
    assert "tick" not in control_item(store, CONV)
    # AND the next window sees it only through the tick's record, decides WAIT again on that image (no read) ...
    run_windows(window, T0 + 20)
    assert reads == []
    assert drain_bursts(queue_url) == []
    # ... and flushes it at the first window end 20 s after its last message
    run_windows(window, T0 + 30)
    ((burst, _),) = drain_bursts(queue_url)
    assert (burst.message_ids, burst.flushed_at) == (("wamid.1",), T0 + 30)
    assert reads == [T0 + 30]
    # AND the loop ends: the settle's record is seen once (idle), no tick is written for nothing
    window.stream.new_records()
    run_windows(window, T0 + 50)
    assert window.stream.new_records() == []


def test_one_tick_lists_every_waiting_conversation_of_the_window(ingest, window, virtual_clock, queue_url, store):
    other = Conversation("107000000000001", eum.CUSTOMER)
    third = Conversation(eum.PHONE_NUMBER_ID, "447700900123")
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "one"))
    arrive(virtual_clock, T0 + 2, eum.message("wamid.2", "two"), phone_number_id=other.phone_number_id)
    arrive(virtual_clock, T0 + 3, eum.message("wamid.3", "three", customer=third.customer))
    run_windows(window, T0 + 10)
    # THEN one item, under the smallest key among them, lists all three
    (tick,) = tick_items(store)
    assert tick["pk"]["S"] == f"CONV#{min(CONV.key, other.key, third.key)}"
    assert set(tick_listing(store)) == {CONV.key, other.key, third.key}
    # AND one stream record brings all three back, and they flush together once quiet
    records = window.stream.new_records()
    assert record_kinds(records) == ["TICK"]
    close_with(window, records, T0 + 20)
    run_windows(window, T0 + 30)
    assert sorted(texts(drain_bursts(queue_url))) == [["one"], ["three"], ["two"]]


def test_the_anchor_is_kept_while_it_waits_so_one_item_is_overwritten(ingest, window, virtual_clock, store):
    later = Conversation(eum.PHONE_NUMBER_ID, "10000000001")  # a smaller key than CONV's
    assert later.key < CONV.key
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "first"))
    run_windows(window, T0 + 10)
    # WHEN a conversation with a smaller key starts waiting too, while the anchor still waits
    arrive(virtual_clock, T0 + 12, eum.message("wamid.2", "second", customer=later.customer))
    run_windows(window, T0 + 20)
    # THEN the tick is still the anchor's one item, now listing both
    (tick,) = tick_items(store)
    assert tick["pk"]["S"] == f"CONV#{CONV.key}"
    assert set(tick_listing(store)) == {CONV.key, later.key}
    # AND once the anchor has flushed, the next tick moves to one that still waits (the old item is left inert:
    # nothing rewrites it, so no record comes of it, and TTL removes it)
    run_windows(window, T0 + 30)
    newest = max(tick_items(store), key=lambda i: float(i["written_at"]["N"]))
    assert (newest["pk"]["S"], float(newest["written_at"]["N"])) == (f"CONV#{later.key}", T0 + 30)
    assert list(newest["listed"]["M"]) == [later.key]


def test_a_control_record_in_the_same_window_beats_the_ticks_older_image(
    ingest, window, virtual_clock, queue_url, store
):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "first"))
    run_windows(window, T0 + 10)
    # WHEN a new message arrives in the window the tick lands in (the tick's image says last arrival T0 + 1)
    arrive(virtual_clock, T0 + 15, eum.message("wamid.2", "second", sent_at=T0 + 15))
    records = window.stream.new_records()
    assert sorted(record_kinds(records)) == ["CONTROL", "TICK"]
    # THEN whichever order the records come in, the window keeps the control record's newer image
    for batch in (records, list(reversed(records))):
        state = aggregator_module.handler(window.event(batch, {}, False, T0 + 10), None)["state"]
        assert state["v"] == {CONV.key: [2, T0 + 15, T0 + 1, 2, "plain", T0 + 1]}
    # AND the burst waits for 20 s of quiet after the second message
    close_with(window, records, T0 + 20)
    run_windows(window, T0 + 30)
    assert drain_bursts(queue_url) == []
    run_windows(window, T0 + 40)
    assert texts(drain_bursts(queue_url)) == [["first\nsecond"]]


def test_a_window_state_written_before_versions_were_kept_still_decides(ingest, window, virtual_clock, store):
    """A deploy mid-window: the final invoke gets a state whose views are [pending, last_arrival, first_pending]."""
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    window.stream.new_records()
    virtual_clock.set(T0 + 10)
    legacy = {"c": [CONV.key], "v": {CONV.key: [1, T0 + 1, T0 + 1]}}
    aggregator_module.handler(window.event([], legacy, True, T0), None)
    # THEN it waits on that image, listed with version 0 (any image the table has since then replaces it) and no cue
    assert tick_listing(store) == {CONV.key: [1, T0 + 1, T0 + 1, 0, None, None]}


class Interleaved(RawTable):
    """A raw store that runs a second aggregator's whole window end for the same conversation right after one of
    the first aggregator's writes: two shards' aggregators on one conversation after a shard split."""

    def __init__(self, inner, after, other):
        super().__init__(inner.table_name, inner.client)
        self.after, self.other = after, other

    def _maybe(self, step):
        if self.after == step:
            self.after = None
            self.other()

    def _transition(self, conversation, stored, action, expression, condition, values):
        super()._transition(conversation, stored, action, expression, condition, values)
        self._maybe(f"first write to {action}")

    def claim(self, conversation, messages, burst_id, claimed_at=None):
        super().claim(conversation, messages, burst_id, claimed_at)
        self._maybe("claim")

    def mark_sent(self, conversation, messages, burst_id):
        super().mark_sent(conversation, messages, burst_id)
        self._maybe("mark_sent")

    def settle_control(self, conversation, settlement):
        settled = super().settle_control(conversation, settlement)
        self._maybe("settle")
        return settled


class InterleavedQueue(SpyQueue):
    def __init__(self, inner, store):
        super().__init__(inner)
        self.store = store

    def send(self, burst):
        burst_id = super().send(burst)
        self.store._maybe("send")
        return burst_id


@pytest.mark.parametrize(
    "after",
    ["first write to claim messages", "claim", "send", "first write to mark messages sent", "mark_sent", "settle"],
)
def test_two_aggregators_flushing_one_conversation_at_once_send_each_message_once(
    ingest, window, virtual_clock, queue_url, store, after
):
    # GIVEN three messages of one conversation, due, and two aggregators that both have it in their window
    for i in range(3):
        arrive(virtual_clock, T0 + 1 + i, eum.message(f"wamid.{i}", f"m{i}", sent_at=T0 + 1 + i))
    first = aggregator_module.installed.get()
    second = Aggregator(store=store, queue=SpyQueue(first.queue), policy=first.policy, now=first.now)
    first.store = Interleaved(store, after, lambda: second.end_window([CONV]))
    first.queue = spy = InterleavedQueue(first.queue, first.store)
    virtual_clock.set(T0 + 30)
    # WHEN the second runs its whole window end in the middle of the first one's flush
    first.end_window([CONV])
    # THEN every message reached the queue once, in one burst (the same burst id whoever sent it: FIFO drops a copy)
    assert first.store.after is None, "the second aggregator ran"
    bursts = drain_bursts(queue_url)
    assert [b.message_ids for b, _ in bursts] == [("wamid.0", "wamid.1", "wamid.2")]
    assert {b.burst_id for b in spy.sent + second.queue.sent} == {bursts[0][0].burst_id}
    # AND nothing is left unsent or counted pending
    assert store.unsent_messages(CONV) == []
    assert store.read_control(CONV).pending == 0


def test_a_second_aggregator_that_reads_a_half_claimed_burst_sends_that_same_whole_burst(
    ingest, window, virtual_clock, queue_url, store
):
    """The race a shard split makes possible: B reads the buffer between A's first and last claim, A finishes
    claiming, and B's send reaches the queue first. SQS FIFO keeps B's copy of the burst id and drops A's, so B's
    copy must hold all of A's messages, not only the prefix it saw claimed (lifecycle: a partial claim is completed)."""
    import threading

    for i in range(3):
        arrive(virtual_clock, T0 + 1 + i, eum.message(f"wamid.{i}", f"m{i}", sent_at=T0 + 1 + i))
    a_claimed_first, b_read, a_claimed_all, b_sent = (threading.Event() for _ in range(4))

    class A(RawTable):
        def _transition(self, conversation, stored, action, expression, condition, values):
            super()._transition(conversation, stored, action, expression, condition, values)
            if action == "claim messages" and not a_claimed_first.is_set():
                a_claimed_first.set()
                assert b_read.wait(10)

        def claim(self, conversation, messages, burst_id, claimed_at=None):
            super().claim(conversation, messages, burst_id, claimed_at)
            a_claimed_all.set()
            assert b_sent.wait(10)

    class B(RawTable):
        def unsent_messages(self, conversation, start=None):
            assert a_claimed_first.wait(10)
            messages = super().unsent_messages(conversation, start)
            if not b_read.is_set():
                b_read.set()
                assert a_claimed_all.wait(10)
            return messages

    class BQueue(SpyQueue):
        def send(self, burst):
            burst_id = super().send(burst)
            b_sent.set()
            return burst_id

    first = aggregator_module.installed.get()
    a = Aggregator(store=A(TABLE, store.client), queue=SpyQueue(first.queue), policy=first.policy, now=first.now)
    b = Aggregator(store=B(TABLE, store.client), queue=BQueue(first.queue), policy=first.policy, now=first.now)
    virtual_clock.set(T0 + 30)
    other = threading.Thread(target=b.end_window, args=([CONV],))
    other.start()
    a.end_window([CONV])
    other.join(10)
    # THEN both sent the whole burst under its id, B's copy first; every message reaches the queue once
    assert [x.message_ids for x in b.queue.sent] == [("wamid.0", "wamid.1", "wamid.2")]
    assert [x.message_ids for x in a.queue.sent] == [("wamid.0", "wamid.1", "wamid.2")]
    assert [burst.message_ids for burst, _ in drain_bursts(queue_url)] == [("wamid.0", "wamid.1", "wamid.2")]
    assert store.unsent_messages(CONV) == []


def test_a_half_claimed_burst_that_can_no_longer_be_completed_is_left_to_its_claimer_while_its_claim_is_fresh(
    ingest, window, virtual_clock, queue_url, store
):
    """The reviewer's race: A claims the first message of [0, 1, 2]; a message with an earlier WhatsApp time than 1
    is stored; B reads the buffer -- the claimed prefix no longer completes into A's burst id. Were B to send the
    prefix alone under that id, SQS FIFO (and the bridge) would keep B's copy and drop A's whole burst: 1 and 2
    lost. Within the claim's lease B leaves the conversation for a later window instead."""
    import threading

    for i in range(3):
        arrive(virtual_clock, T0 + 1 + i * 2, eum.message(f"wamid.{i}", f"m{i}", sent_at=T0 + 1 + i * 2))
    virtual_clock.set(T0 + 30)
    a_claimed_first, b_done = threading.Event(), threading.Event()

    class A(RawTable):
        def _transition(self, conversation, stored, action, expression, condition, values):
            super()._transition(conversation, stored, action, expression, condition, values)
            if action == "claim messages" and not a_claimed_first.is_set():
                # sent between 0 and 1, stored only now (a redelivered webhook)
                arrive(virtual_clock, T0 + 30, eum.message("wamid.early", "late one", sent_at=T0 + 2))
                a_claimed_first.set()
                assert b_done.wait(10)

    first = aggregator_module.installed.get()
    a = Aggregator(store=A(TABLE, store.client), queue=SpyQueue(first.queue), policy=first.policy, now=first.now)
    # B's window end comes bufferSeconds after the late message: by quiet, the conversation is due for B
    b = Aggregator(
        store=store, queue=SpyQueue(first.queue), policy=first.policy, now=lambda: T0 + 30 + POLICY.buffer_seconds
    )

    def run_b():
        assert a_claimed_first.wait(10)
        try:
            b.end_window([CONV])
        finally:
            b_done.set()

    other = threading.Thread(target=run_b)
    other.start()
    a.end_window([CONV])
    other.join(10)
    # THEN B sent nothing; A's whole burst is on the queue, once
    assert b.queue.sent == []
    assert [burst.message_ids for burst, _ in drain_bursts(queue_url)] == [("wamid.0", "wamid.1", "wamid.2")]
    # AND the late message follows in a burst of its own at a later window end
    virtual_clock.set(T0 + 60)
    first.end_window([CONV])
    assert [burst.message_ids for burst, _ in drain_bursts(queue_url)] == [("wamid.early",)]
    assert store.unsent_messages(CONV) == []


def test_a_half_claimed_burst_whose_claim_outlived_the_lease_is_sent_as_claimed(ingest, virtual_clock, store):
    """Past CLAIM_LEASE_SECONDS its writer is over (Lambda ended it at its timeout): the prefix goes under its id."""
    from whatsapp_buffer.aggregator.lifecycle import CLAIM_LEASE_SECONDS, ClaimInFlight, ConversationBuffer

    for i in range(3):
        arrive(virtual_clock, T0 + 1 + i * 2, eum.message(f"wamid.{i}", f"m{i}", sent_at=T0 + 1 + i * 2))
    unsent = store.unsent_messages(CONV)
    burst_id = burst_id_for([m.message.message_id for m in unsent])
    store.claim(CONV, unsent, burst_id, claimed_at=T0 + 30)  # then: place 0 of 3 only, as a flush that died
    for other in unsent[1:]:
        store.client.update_item(
            TableName=TABLE,
            Key={"pk": {"S": partition_key(CONV)}, "sk": {"S": other.store_key}},
            UpdateExpression="SET #s = :p REMOVE burst_id, burst_index, burst_size, claimed_at",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":p": {"S": "pending"}},
        )
    arrive(virtual_clock, T0 + 31, eum.message("wamid.early", "late one", sent_at=T0 + 2))
    buffer = ConversationBuffer.of(store.read_control(CONV).version, store.unsent_messages(CONV))
    with pytest.raises(ClaimInFlight):
        buffer.next_claim(50, T0 + 30 + CLAIM_LEASE_SECONDS - 1)
    claim = buffer.next_claim(50, T0 + 30 + CLAIM_LEASE_SECONDS)
    assert (claim.burst_id, claim.resend, [m.message.message_id for m in claim.messages]) == (
        burst_id,
        True,
        ["wamid.0"],
    )
