"""What a replay prints last, its counts in words a person reads: `1 chat`, `2 bursts`, `0 replies`."""

from __future__ import annotations

import pytest

from sandbox.report import counted, summary
from sandbox.timeline import render

STATS = {
    "whatsapp_in": 1,
    "virtual_seconds": 30.0,
    "wall_seconds": 1.25,
    "bursts": 1,
    "connect_messages": 2,
    "contacts": 1,
    "whatsapp_out": 0,
    "duplicates_dropped": 1,
    "rejected": 0,
}


@pytest.mark.parametrize(
    ("number", "noun", "plural", "said"),
    [(1, "chat", None, "1 chat"), (2, "chat", None, "2 chats"), (0, "reply", "replies", "0 replies")],
)
def test_a_count_takes_its_noun_in_the_right_number(number, noun, plural, said):
    assert counted(number, noun, plural) == said


def test_the_replays_last_line_and_the_timelines_totals_say_one_of_a_thing_in_the_singular():
    transcript = {"stats": STATS}

    assert summary(transcript) == (
        "replayed 1 WhatsApp message in 30 s of virtual time (1.2 s wall): 1 burst -> 2 Connect messages in 1 chat, "
        "0 replies out, 1 duplicate dropped, 0 rejected"
    )
    assert render([], transcript).splitlines()[-1] == (
        "1 WhatsApp message in → 2 Connect messages (1 burst, 1 chat); 1 duplicate dropped, 0 rejected; 0 replies out."
    )
