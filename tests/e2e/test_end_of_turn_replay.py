"""endOfTurn end to end (sandbox replay at bufferSeconds 11, windowSeconds 1): a question reaches the agent after a
short wait under cues, and a message ending in a comma is waited for long enough to keep its follow-up 13 s later in
the same Connect message; under fixed the question waits the full 11 s and the follow-up arrives as a second
message."""

import pytest

from tests.e2e.conftest import TRACES, replay


@pytest.fixture(scope="module", params=["fixed", "cues"])
def run(request):
    _, transcript, _ = replay(TRACES / "end_of_turn.jsonl", bufferSeconds=11, windowSeconds=1, endOfTurn=request.param)
    return request.param, transcript


def by_customer(transcript, customer):
    return [(c["at"], c["content"], c["message_ids"]) for c in transcript["connect"] if c["customer"] == customer]


def test_every_message_reaches_the_agent_once_either_way(run):
    _, transcript = run
    ids = [i for c in transcript["connect"] for i in c["message_ids"]]
    assert sorted(ids) == ["wamid.EOT1", "wamid.EOT2", "wamid.EOT3"]
    assert transcript["rejected"] == []


def test_a_question_is_delivered_after_0_3_of_the_quiet_period_under_cues(run):
    mode, transcript = run
    ((at, content, _),) = by_customer(transcript, "15550003333")
    assert content == "hi, is the store open on sunday?"
    # cues: 0.3 x 11 = 3.3 s, then the first 1 s window end (4 s) and the delivery hops; fixed: 11 s, then 12 s
    assert (3.3 <= at < 5) if mode == "cues" else (11 <= at < 13)


def test_a_trailing_comma_keeps_a_follow_up_13_s_later_in_the_burst_under_cues(run):
    mode, transcript = run
    delivered = [content for _, content, _ in by_customer(transcript, "15550004444")]
    if mode == "cues":
        assert delivered == ["my lamp arrived broken,\nthe shade is cracked"]
    else:
        assert delivered == ["my lamp arrived broken,", "the shade is cracked"]
