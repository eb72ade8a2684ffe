"""The AWS sample's fixed window and our debounce, modelled: the behaviours the benchmark compares."""

from __future__ import annotations

from bench import debounce_model, sample_model
from bench.traces import Message
from whatsapp_buffer.buffer_policy import BufferPolicy

POLICY = BufferPolicy(buffer_seconds=20, max_wait_seconds=60, max_messages=50, window_seconds=5, end_of_turn="fixed")


def _burst(*ats: float, customer: str = "15550001111", burst: str = "c0-b0") -> list[Message]:
    return [Message(at, customer, burst, "x", f"{customer}-{at}") for at in ats]


def test_the_aws_sample_splits_a_burst_that_straddles_a_window_edge():
    # GIVEN messages at 17 s and 22 s WHEN the AWS sample's 20 s clock-aligned windows group them
    deliveries = sample_model.sample_deliveries(_burst(17, 22), 20)
    # THEN two Connect messages, each at its window's end
    assert [(d.at, len(d.message_ids)) for d in deliveries] == [(20, 1), (40, 1)]


def test_the_aws_sample_groups_one_senders_messages_of_one_window_and_keeps_senders_apart():
    messages = _burst(1, 3, 9) + _burst(2, customer="15550002222", burst="c1-b0")
    deliveries = sample_model.sample_deliveries(messages, 20)
    assert sorted(len(d.message_ids) for d in deliveries) == [1, 3]
    assert {d.at for d in deliveries} == {20}


def test_the_aws_sample_lone_message_waits_for_its_window_to_close():
    (delivery,) = sample_model.sample_deliveries(_burst(0.5), 20)
    assert delivery.at == 20


def test_debounce_flushes_at_the_first_window_end_a_quiet_period_after_the_last_message():
    # GIVEN a burst ending at 22 s WHEN quiet for 20 s THEN it leaves at the first 5 s window end >= 42 s
    (delivery,) = debounce_model.debounce_deliveries(_burst(17, 22), POLICY)
    assert delivery.at == 45
    assert len(delivery.message_ids) == 2


def test_debounce_keeps_a_long_mid_thought_pause_in_the_burst_and_splits_on_think_time():
    messages = _burst(0, 2, 16, 18) + _burst(60, burst="c0-b1")
    deliveries = debounce_model.debounce_deliveries(messages, POLICY)
    assert [len(d.message_ids) for d in deliveries] == [4, 1]


def test_debounce_max_wait_flushes_a_customer_who_never_goes_quiet():
    # GIVEN a message every 10 s for 100 s WHEN maxWaitSeconds is 60 THEN the first burst leaves at 60 s
    messages = _burst(*range(0, 100, 10))
    deliveries = debounce_model.debounce_deliveries(messages, POLICY)
    assert deliveries[0].at == 60
    assert sum(len(d.message_ids) for d in deliveries) == len(messages)


def test_window_end_of_a_record_on_an_edge_is_the_next_one():
    assert debounce_model.next_window_end(10.0, 5) == 15
    assert debounce_model.next_window_end(9.99, 5) == 10
