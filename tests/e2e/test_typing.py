"""While the buffer holds a customer's messages for an open chat, the agent sees "the customer is typing".

botocore SendEvent (connectparticipant): ContentType "application/vnd.amazonaws.connect.event.typing", authorised by
the ConnectionToken. How long Connect shows one typing event is not in the API reference; Connect's own chat
interface (amazon-connect-chat-interface, ChatSession.js) removes it after `12 * 1000` ms or at the participant's
next message. So the aggregator signals at the first window end of a wait, then every 10 s (aggregator.flush), and the
inbound function sends the event into the open chat; the burst's own message ends it.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TRACES, replay

OPEN, NEW = "15550005555", "15550006666"


@pytest.fixture(scope="module")
def typing_run():
    return replay(TRACES / "typing.jsonl", bufferSeconds=20, windowSeconds=5)


def test_the_agent_sees_typing_while_the_burst_is_buffered_and_none_after_it_lands(typing_run):
    _, transcript, _ = typing_run
    (burst,) = [m for m in transcript["connect"] if m["content"].startswith("I ordered a desk")]
    typing = [e for e in transcript["connect_events"] if e["customer"] == OPEN]
    assert typing and all(e["type"] == "typing" and e["contact_id"] == burst["contact_id"] for e in typing)
    times = [e["at"] for e in typing]
    # from the first window end after the first buffered message, until before the burst lands
    assert 61 < times[0] <= 61 + 5 + 2
    assert times[-1] < burst["at"]
    # rate-limited: at least 10 s apart (one per refresh), and no gap over Connect's 12 s display while it waits
    assert all(b - a >= 9.5 for a, b in zip(times, times[1:], strict=False))
    assert burst["at"] - times[-1] <= 12 + 5


def test_no_typing_for_a_customer_whose_chat_is_not_open_yet_or_before_the_first_burst(typing_run):
    _, transcript, _ = typing_run
    assert all(e["customer"] == OPEN for e in transcript["connect_events"])
    (first,) = [m for m in transcript["connect"] if m["content"] == "Hi"]
    assert all(e["at"] > first["at"] for e in transcript["connect_events"])
    assert [m["content"] for m in transcript["connect"] if m["customer"] == NEW] == ["a customer with no chat yet"]
