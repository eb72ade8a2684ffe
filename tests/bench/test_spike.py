"""The spike bench's shard model: the aggregator works on several conversations at once, never more than its bound,
and a spike's bursts all leave, each once and whole."""

from __future__ import annotations

from bench import spike
from whatsapp_buffer.aggregator import flush
from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.model import Conversation


def test_one_final_invoke_works_on_at_most_the_bounded_number_of_conversations_at_once():
    shard = spike.ModelledShard(latency={name: 0.002 for name in spike.LATENCY_S})
    messages = spike.spike_messages(customers=60, spread_s=1, seed=3)
    for message in messages:
        shard.store(message)
    now = max(m.received_at for m in messages) + 30
    aggregator = flush.Aggregator(
        store=shard, queue=shard, policy=BufferPolicy(20, 60, 50, 1, "fixed"), now=lambda: now
    )

    keys, views, anchors = spike.window_input(shard.take_records())
    aggregator.end_window([Conversation.from_key(k) for k in keys], views, anchors)

    assert 1 < shard.max_in_flight <= flush.FLUSH_CONCURRENCY
    assert sorted(b.conversation.key for _, b in shard.sent) == sorted({m.conversation.key for m in messages})
    assert sum(len(b.message_ids) for _, b in shard.sent) == len(messages)


def test_a_small_spike_leaves_every_burst_whole_within_the_target():
    result = spike.run_spike(customers=40, spread_s=5)

    assert result["bursts"] == 40
    assert result["latency_p95_s"] <= result["target_p95_s"]


def test_a_window_end_leaving_conversations_waiting_writes_one_tick_instead_of_a_call_each():
    shard = spike.ModelledShard(latency={name: 0.001 for name in spike.LATENCY_S})
    messages = spike.spike_messages(customers=30, spread_s=1, seed=5)
    for message in messages:
        shard.store(message)
    now = max(m.received_at for m in messages) + 1  # nobody quiet for 20 s yet
    aggregator = flush.Aggregator(
        store=shard, queue=shard, policy=BufferPolicy(20, 60, 50, 1, "fixed"), now=lambda: now
    )
    keys, views, anchors = spike.window_input(shard.take_records())
    calls = shard.calls

    aggregator.end_window([Conversation.from_key(k) for k in keys], views, anchors)

    assert (shard.calls - calls, shard.ticks) == (1, 1)
    (tick,) = shard.take_records()
    assert tick[0] == "tick" and sorted(tick[2]) == sorted(keys)
    assert spike.window_input([tick])[1] == views


def test_the_modelled_queue_takes_the_typing_signals_the_aggregator_sends_while_a_customer_waits():
    """`BurstsQueue.send_typing` (aggregator/ports.py): every wait is shown at its first window end and refreshed every
    TYPING_REFRESH_SECONDS, each an SQS SendMessage the spike must model and time like a burst's."""
    result = spike.run_spike(customers=40, spread_s=5)

    refreshes_at_most = 1 + int(max(60, result["buffer_seconds"]) // flush.TYPING_REFRESH_SECONDS)
    assert result["bursts"] <= result["typing_signals"] <= result["bursts"] * refreshes_at_most
