"""Scoring what reached the agent against the true bursts, and the AWS sample's cost table."""

from __future__ import annotations

import math

import pytest

from bench import metrics, sample_model
from bench.metrics import Delivery
from bench.traces import Message


def _messages() -> list[Message]:
    return [
        Message(0, "a", "a-b0", "x", "m1"),
        Message(2, "a", "a-b0", "x", "m2"),
        Message(50, "a", "a-b1", "x", "m3"),
        Message(1, "b", "b-b0", "x", "m4"),
    ]


def test_one_connect_message_per_true_burst_is_full_integrity_with_latency_from_the_last_message():
    deliveries = [Delivery(25, "a", ("m1", "m2")), Delivery(75, "a", ("m3",)), Delivery(21, "b", ("m4",))]
    score = metrics.score(_messages(), deliveries)
    assert score["integrity_pct"] == 100.0
    assert score["latency_max_s"] == 25 and score["latency_mean_s"] == pytest.approx((23 + 25 + 20) / 3, abs=0.001)


def test_a_split_burst_and_a_merged_pair_are_not_intact():
    deliveries = [Delivery(20, "a", ("m1",)), Delivery(40, "a", ("m2", "m3")), Delivery(21, "b", ("m4",))]
    score = metrics.score(_messages(), deliveries)
    assert score["intact_bursts"] == 1  # only b's
    assert score["split_bursts"] == 1 and score["merged_bursts"] == 2


def test_a_message_that_never_reached_connect_makes_its_burst_lost_and_not_intact():
    score = metrics.score(
        _messages(), [Delivery(25, "a", ("m1",)), Delivery(75, "a", ("m3",)), Delivery(21, "b", ("m4",))]
    )
    assert score["lost_bursts"] == 1 and score["intact_bursts"] == 2


def test_unbuffered_costs_four_dollars_per_thousand_and_four_to_one_one_dollar():
    # GIVEN 1,000 messages in bursts of 4 WHEN forwarded one by one, or one Connect message per burst
    messages = [Message(i, "a", f"a-b{i // 4}", "x", f"m{i}") for i in range(1000)]
    unbuffered = metrics.score(messages, sample_model.unbuffered_deliveries(messages))
    four_to_one = metrics.score(
        messages, [Delivery(i + 30, "a", tuple(f"m{j}" for j in range(i, i + 4))) for i in range(0, 1000, 4)]
    )
    # THEN the AWS sample's table: $4.00 -> $1.00
    assert unbuffered["connect_cost_per_1000_usd"] == 4.0
    assert four_to_one["connect_cost_per_1000_usd"] == 1.0 and four_to_one["connect_per_1000"] == 250


def test_nearest_rank_percentile():
    values = list(range(1, 101))
    assert metrics.percentile(values, 95) == 95
    assert metrics.percentile([3.0], 95) == 3.0
    assert math.isnan(metrics.percentile([], 50))


def test_deliveries_are_read_from_a_transcripts_connect_items():
    transcript = {"connect": [{"at": 21.5, "customer": "a", "kind": "text", "message_ids": ["m1", "m2"]}]}
    assert metrics.deliveries_from_transcript(transcript) == [Delivery(21.5, "a", ("m1", "m2"))]
