"""The sweep against an in-memory pending-since index (the port `aggregator.ports.StrandedConversations`); the moto
test of the real index and the flush that follows is tests/handlers/test_sweeper.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from whatsapp_buffer.aggregator.sweep import MARGIN_SECONDS, Sweeper
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.observability import metrics

NOW = 1_000_000.0
MAX_WAIT = 120.0
OLD, FRESH, BROKEN = (Conversation("phone-number-id-1", f"+1555000000{n}") for n in (1, 2, 3))


@pytest.fixture(autouse=True)
def no_metric_left_behind() -> Iterator[None]:
    """The sweep counts into the functions' one Metrics object, which only a handler flushes: cleared here so no
    later test reads these counts as its own."""
    yield
    metrics.clear_metrics()


@dataclass
class InMemoryStranded:
    """Conversations by the arrival of their oldest pending message; `touch` refuses the ones in `refuse`."""

    first_pending: dict[Conversation, float]
    refuse: set[Conversation] = field(default_factory=set)
    touched: list[Conversation] = field(default_factory=list)

    def pending_since_before(self, cutoff: float) -> list[Conversation]:
        return sorted((c for c, at in self.first_pending.items() if at < cutoff), key=self.first_pending.__getitem__)

    def touch(self, conversation: Conversation) -> None:
        if conversation in self.refuse:
            raise RuntimeError("refused")
        self.touched.append(conversation)


def sweeper(store: InMemoryStranded) -> Sweeper:
    return Sweeper(store=store, max_wait_seconds=MAX_WAIT, now=lambda: NOW)


def test_only_a_conversation_pending_past_max_wait_and_the_margin_is_touched():
    store = InMemoryStranded(
        {OLD: NOW - MAX_WAIT - MARGIN_SECONDS - 1, FRESH: NOW - MAX_WAIT - MARGIN_SECONDS + 1},
    )

    assert sweeper(store).sweep() == 1
    assert store.touched == [OLD]


def test_a_failing_touch_does_not_stop_the_others_and_is_not_counted():
    store = InMemoryStranded({BROKEN: NOW - 1000, OLD: NOW - 900}, refuse={BROKEN})

    assert sweeper(store).sweep() == 1
    assert store.touched == [OLD]
