"""The synthetic conversation generator: seeded, readable by the sandbox, and with the ground truth it promises."""

from __future__ import annotations

import json

from bench import traces
from sandbox import trace


def _gaps(messages):
    return [b.at - a.at for a, b in zip(messages, messages[1:], strict=False)]


def test_same_seed_gives_the_same_trace_and_another_seed_another():
    # GIVEN two generations with one seed and one with another WHEN compared THEN only another seed changes it
    assert traces.conversations(customers=5, seed=3) == traces.conversations(customers=5, seed=3)
    assert traces.conversations(customers=5, seed=3) != traces.conversations(customers=5, seed=4)


def test_gaps_inside_a_true_burst_stay_under_fifteen_seconds_and_between_bursts_over_thirty():
    # GIVEN a trace WHEN grouped by customer THEN burst ids change exactly where a gap is a think time
    messages = traces.conversations(customers=40, seed=1)
    by_customer: dict[str, list[traces.Message]] = {}
    for message in messages:
        by_customer.setdefault(message.customer, []).append(message)
    inside, between = [], []
    for stream in by_customer.values():
        for a, b in zip(stream, stream[1:], strict=False):
            (inside if a.burst == b.burst else between).append(b.at - a.at)
    assert max(inside) <= traces.LONG_PAUSE[1] + 0.001
    assert min(between) >= traces.THINK_TIME[0] - 0.001


def test_some_bursts_hold_a_long_mid_thought_pause():
    # GIVEN the default long-pause rate WHEN generating THEN some true bursts contain a gap of 8-15 s
    bursts = traces.true_bursts(traces.conversations(customers=40, seed=2))
    paused = [b for b in bursts.values() if any(g >= traces.LONG_PAUSE[0] for g in _gaps(b))]
    assert paused


def test_burst_sizes_stay_between_one_and_eight_and_a_fixed_size_is_honoured():
    sizes = {len(b) for b in traces.true_bursts(traces.conversations(customers=40, seed=5)).values()}
    assert sizes <= set(range(1, 9)) and len(sizes) > 4
    fixed = traces.true_bursts(traces.conversations(customers=5, seed=5, sizes={4: 1}))
    assert {len(b) for b in fixed.values()} == {4}


def test_written_trace_is_read_by_the_sandbox_with_ids_and_the_burst_field_kept(tmp_path):
    # GIVEN a generated trace written to disk WHEN the sandbox reads it THEN every line is a whatsapp text event
    # carrying our message id, and the extra `burst` field is there for the scorer
    messages = traces.conversations(customers=3, seed=7)
    path = traces.write(messages, tmp_path / "t.jsonl")
    events = trace.read_trace(path)
    assert [e.data["id"] for e in events] == [m.id for m in messages]
    assert all(e.type == "whatsapp" and e.data["burst"] for e in events)
    assert len({m.id for m in messages}) == len(messages)
    assert json.loads(path.read_text().splitlines()[0])["burst"] == messages[0].burst


def test_rush_puts_every_customer_inside_one_minute_with_one_to_three_messages():
    messages = traces.rush(customers=200, window=60.0, seed=3)
    bursts = traces.true_bursts(messages)
    assert len(bursts) == 200
    assert {len(b) for b in bursts.values()} <= {1, 2, 3}
    assert max(m.at for m in messages) < 60.0
