"""Sweeper handler on moto: a conversation whose stream record was lost (the mapping gave up on its batch) is found in
the sparse pending-since index and touched, and the next window flushes it; healthy and flushed conversations are
left alone.

Virtual time as in test_aggregator: windows of 10 s, bufferSeconds 20, maxWaitSeconds 120 (conftest.POLICY).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures import eum
from tests.handlers.conftest import POLICY, T0, TABLE, drain_bursts, emitted
from tests.handlers.test_aggregator import arrive, run_windows
from whatsapp_buffer.aggregator.sweep import MARGIN_SECONDS, Sweeper
from whatsapp_buffer.entrypoints import sweeper as sweeper_module
from whatsapp_buffer.function_settings import SweeperSettings
from whatsapp_buffer.model import Conversation

CONV = Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER)
STRANDED_AFTER = POLICY.max_wait_seconds + MARGIN_SECONDS


@pytest.fixture
def sweeper(store, virtual_clock) -> Iterator[Sweeper]:
    settings = SweeperSettings(raw_table_name=TABLE, max_wait_seconds=POLICY.max_wait_seconds)
    yield sweeper_module.build(settings, store)
    sweeper_module.installed.reset()


def sweep(clock, at) -> int:
    clock.set(at)
    return sweeper_module.handler({}, None)["stranded"]


def test_a_conversation_whose_stream_record_was_dropped_is_swept_back_and_flushed(
    ingest, window, sweeper, virtual_clock, queue_url, capsys
):
    # GIVEN a message whose control record the stream mapping gave up on: no window ever sees it
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "is anyone there?"))
    window.stream.new_records()
    run_windows(window, T0 + STRANDED_AFTER)
    assert drain_bursts(queue_url) == []
    # WHEN the sweep runs once the message has waited maxWaitSeconds + the margin
    assert sweep(virtual_clock, T0 + 1 + STRANDED_AFTER + 1) == 1
    assert emitted(capsys)["StrandedConversations"] == [1]
    # THEN its touch reaches the next window and the message is flushed, once
    run_windows(window, T0 + STRANDED_AFTER + 20)
    assert [burst.message_ids for burst, _ in drain_bursts(queue_url)] == [("wamid.1",)]


def test_a_conversation_pending_within_max_wait_is_not_touched(ingest, window, sweeper, virtual_clock):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "typing..."))
    window.stream.new_records()

    assert sweep(virtual_clock, T0 + STRANDED_AFTER - 1) == 0
    assert window.stream.new_records() == []


def test_a_flushed_conversation_leaves_the_index_and_is_not_swept(ingest, window, sweeper, virtual_clock, queue_url):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "hi"))
    run_windows(window, T0 + 30)
    assert len(drain_bursts(queue_url)) == 1

    assert sweep(virtual_clock, T0 + 10 * STRANDED_AFTER) == 0


def test_sweeping_again_before_the_flush_sends_nothing_twice(ingest, window, sweeper, virtual_clock, queue_url):
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", "one"))
    arrive(virtual_clock, T0 + 2, eum.message("wamid.2", "two"))
    window.stream.new_records()
    # two sweeps (the index lags, a schedule fires twice): two touches, one window, one burst
    assert sweep(virtual_clock, T0 + STRANDED_AFTER + 5) == 1
    assert sweep(virtual_clock, T0 + STRANDED_AFTER + 6) == 1
    run_windows(window, T0 + STRANDED_AFTER + 30)
    assert [burst.message_ids for burst, _ in drain_bursts(queue_url)] == [("wamid.1", "wamid.2")]
    assert sweep(virtual_clock, T0 + 10 * STRANDED_AFTER) == 0
