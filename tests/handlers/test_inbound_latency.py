"""The inbound function reports the latency buffering adds: from a burst's first message reaching the raw table to the
burst reaching Connect (`AddedLatency`, seconds; the dashboard's p50/p95). test_inbound's world (moto, the project's
one fake)."""

from __future__ import annotations

import dataclasses

import pytest
from moto import mock_aws

from tests.handlers.conftest import emitted
from tests.handlers.test_inbound import T0, World, text_burst
from whatsapp_buffer.entrypoints import inbound


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    inbound.installed.reset()


def test_a_delivered_burst_reports_the_seconds_since_its_first_message_arrived(world, capsys):
    # GIVEN a burst whose first message was stored 31.5 s and whose last 4 s before it is delivered
    burst = dataclasses.replace(text_burst("Hello", "are you there?"), first_received_at=T0, last_received_at=T0 + 27.5)
    world.now = T0 + 31.5
    capsys.readouterr()
    # WHEN the inbound function delivers it
    _, failed = world.deliver(burst)
    # THEN one AddedLatency datapoint of 31.5 s, beside the delivery's count
    assert failed == set()
    metrics = emitted(capsys)
    assert metrics["AddedLatency"] == [31.5]
    assert metrics["BurstsDelivered"] == [1.0]


def test_a_redelivered_burst_reports_its_latency_once(world, capsys):
    # GIVEN a burst delivered once
    burst = dataclasses.replace(text_burst("Hello"), first_received_at=T0, last_received_at=T0)
    world.now = T0 + 25
    world.deliver(burst)
    capsys.readouterr()
    # WHEN SQS hands it over again a minute later
    world.now = T0 + 85
    world.deliver(burst)
    # THEN idempotency answers it: no second latency (it would count the redelivery's wait, not the customer's)
    assert "AddedLatency" not in emitted(capsys)


def test_a_burst_that_fails_to_reach_connect_reports_no_latency(world, capsys):
    # GIVEN Connect refuses to start the chat
    burst = dataclasses.replace(text_burst("Hello"), first_received_at=T0, last_received_at=T0)
    world.fake.services.inject("StartChatContact", "InternalServiceException", times=1)
    world.now = T0 + 25
    capsys.readouterr()
    # WHEN the inbound function tries it
    _, failed = world.deliver(burst)
    # THEN the burst fails for a retry, and nothing says it arrived
    assert failed
    assert "AddedLatency" not in emitted(capsys)
