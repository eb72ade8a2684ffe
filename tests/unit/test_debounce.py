"""The flush decision: quiet period with caps on total wait and on message count."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_buffer.aggregator.debounce import (
    MAX_MESSAGES,
    MAX_WAIT,
    NOT_DUE,
    NOTHING_PENDING,
    QUIET,
    ControlView,
    Outcome,
    due_at,
    flush_due,
)
from whatsapp_buffer.buffer_policy import BufferPolicy

POLICY = BufferPolicy(buffer_seconds=20, max_wait_seconds=120, max_messages=10, window_seconds=5, end_of_turn="fixed")
T0 = 1_700_000_000.0


@pytest.mark.parametrize(
    ("pending", "first", "last", "now", "outcome", "reason"),
    [
        (0, None, None, T0, Outcome.IDLE, NOTHING_PENDING),
        (0, T0, T0, T0 + 1000, Outcome.IDLE, NOTHING_PENDING),
        (1, T0, T0, T0 + 5, Outcome.WAIT, NOT_DUE),
        (1, T0, T0, T0 + 19.999, Outcome.WAIT, NOT_DUE),
        (1, T0, T0, T0 + 20, Outcome.FLUSH, QUIET),
        (3, T0, T0 + 10, T0 + 29, Outcome.WAIT, NOT_DUE),
        (3, T0, T0 + 10, T0 + 30, Outcome.FLUSH, QUIET),
        (5, T0, T0 + 110, T0 + 119, Outcome.WAIT, NOT_DUE),
        (5, T0, T0 + 110, T0 + 120, Outcome.FLUSH, MAX_WAIT),
        (9, T0, T0 + 1, T0 + 2, Outcome.WAIT, NOT_DUE),
        (10, T0, T0 + 1, T0 + 2, Outcome.FLUSH, MAX_MESSAGES),
        (25, T0, T0 + 1, T0 + 2, Outcome.FLUSH, MAX_MESSAGES),
        (2, None, T0, T0 + 1, Outcome.WAIT, NOT_DUE),
        (2, None, None, T0, Outcome.FLUSH, MAX_WAIT),
    ],
)
def test_pending_messages_flush_when_quiet_at_max_wait_or_at_max_messages_and_nothing_pending_is_idle(
    pending, first, last, now, outcome, reason
):
    decision = flush_due(ControlView(pending=pending, last_arrival=last, first_pending=first), now, POLICY)
    assert (decision.outcome, decision.reason) == (outcome, reason)
    assert decision.flush is (outcome is Outcome.FLUSH)


def test_clock_going_backwards_does_not_flush_early():
    control = ControlView(pending=1, last_arrival=T0, first_pending=T0)
    assert flush_due(control, T0 - 30, POLICY).outcome is Outcome.WAIT


controls = st.builds(
    ControlView,
    pending=st.integers(min_value=0, max_value=30),
    last_arrival=st.floats(min_value=T0, max_value=T0 + 500),
    first_pending=st.floats(min_value=T0 - 500, max_value=T0),
)
policies = st.builds(
    BufferPolicy,
    buffer_seconds=st.floats(min_value=0, max_value=300),
    max_wait_seconds=st.floats(min_value=0, max_value=900),
    max_messages=st.integers(min_value=1, max_value=50),
    window_seconds=st.floats(min_value=1, max_value=900),
    end_of_turn=st.just("fixed"),
)


@given(controls, policies, st.floats(min_value=T0 - 1000, max_value=T0 + 2000))
def test_due_at_is_exactly_when_the_decision_turns_to_flush(control, policy, now):
    due = due_at(control, policy)
    decision = flush_due(control, now, policy)
    if due is None:
        assert decision.outcome is Outcome.IDLE
    else:
        assert decision.flush == (now >= due)


def simulate(arrivals, policy):
    """The aggregator's window-end loop for one conversation, on virtual time: [(flush time, flushed arrivals)].

    Windows are aligned to multiples of window_seconds. A conversation is looked at at the end of every window that
    got one of its records: an arrival, or the tick written at the previous window end while something is pending.
    """
    w = policy.window_seconds
    remaining = sorted(arrivals)
    pending: list[float] = []
    flushes = []
    k = math.floor(remaining[0] / w) + 1
    while remaining or pending:
        end = k * w
        pending += [t for t in remaining if t < end]
        remaining = [t for t in remaining if t >= end]
        if pending:
            control = ControlView(pending=len(pending), last_arrival=max(pending), first_pending=min(pending))
            if flush_due(control, end, policy).flush:
                flushes.append((end, pending))
                pending = []
        k += 1
    return flushes


@given(
    st.lists(st.floats(min_value=0, max_value=120), min_size=1, max_size=12),
    st.floats(min_value=1, max_value=60),
    st.floats(min_value=1, max_value=60),
)
def test_flush_latency_after_a_bursts_last_message_is_between_buffer_and_buffer_plus_window(arrivals, buffer, window):
    # GIVEN arrivals with no cap in play (huge max_wait and max_messages)
    policy = BufferPolicy(
        buffer_seconds=buffer, max_wait_seconds=10_000, max_messages=1_000, window_seconds=window, end_of_turn="fixed"
    )
    # WHEN the window-end loop runs
    flushes = simulate([T0 + a for a in arrivals], policy)
    # THEN every message is flushed once, and each burst leaves bufferSeconds <= latency < bufferSeconds +
    # windowSeconds after its last message (stream and invocation delays come on top in AWS)
    assert sorted(t for _, burst in flushes for t in burst) == sorted(T0 + a for a in arrivals)
    for flushed_at, burst in flushes:
        latency = flushed_at - max(burst)
        assert buffer - 1e-6 <= latency < buffer + window + 1e-6


@given(
    st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=40),
    st.floats(min_value=1, max_value=60),
    st.floats(min_value=1, max_value=60),
    st.integers(min_value=1, max_value=10),
)
def test_no_message_waits_longer_than_max_wait_plus_one_window(arrivals, max_wait, window, max_messages):
    policy = BufferPolicy(
        buffer_seconds=30,
        max_wait_seconds=max_wait,
        max_messages=max_messages,
        window_seconds=window,
        end_of_turn="fixed",
    )
    for flushed_at, burst in simulate([T0 + a for a in arrivals], policy):
        assert flushed_at - min(burst) < max_wait + window + 1e-6
