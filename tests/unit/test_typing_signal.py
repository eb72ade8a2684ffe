"""When the aggregator signals "the customer is typing" (pure: the wait's start, the window end, the window length),
and the signal's shape on the bursts queue."""

from __future__ import annotations

import pytest

from whatsapp_buffer.aggregator.flush import TYPING_REFRESH_SECONDS, typing_slot
from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.model import Burst, Conversation, OutgoingItem, TypingSignal


@pytest.mark.parametrize(
    ("window", "first_pending", "ends", "signalled"),
    [
        (5, 61, [65, 70, 75, 80, 85, 90, 95], [65, 75, 85, 95]),
        (1, 60.5, [61, 62, 69, 70, 71, 72], [61, 71]),
        (15, 0.2, [15, 30, 45], [15, 30, 45]),  # windows longer than the refresh: every window end
    ],
)
def test_typing_is_signalled_at_the_first_window_end_of_a_wait_then_once_per_refresh(
    window, first_pending, ends, signalled
):
    slots = {end: typing_slot(first_pending, end, window) for end in ends}
    assert [end for end, slot in slots.items() if slot] == signalled
    assert len({slot for slot in slots.values() if slot}) == len(signalled)


def test_a_retried_window_end_names_the_same_slot_so_sqs_drops_the_copy():
    assert typing_slot(61.0, 75.0, 5) == typing_slot(61.0, 75.0, 5) == f"61.0:{int(14 // TYPING_REFRESH_SECONDS)}"


def test_nothing_pending_means_no_typing():
    assert typing_slot(None, 100.0, 5) is None


def test_a_typing_signal_round_trips_and_is_told_apart_from_a_burst():
    signal = TypingSignal(Conversation("106540352242922", "US.13491208655302741918"), 65.0)
    assert TypingSignal.from_json(signal.to_json()) == signal
    burst = Burst("b", signal.conversation, (OutgoingItem(kind="text", message_ids=("m",), text="hi"),))
    assert TypingSignal.from_json(burst.to_json()) is None
    with pytest.raises(MalformedEvent):
        TypingSignal.from_json('{"typing": "no-hash-here", "at": 1}')
