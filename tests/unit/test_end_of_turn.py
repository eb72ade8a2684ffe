"""endOfTurn: the cue ingest files for each message, and the quiet period the aggregator waits after it.

Where the cues come from (measured on the Gitter dialogs in bench/data/gitter, both sides, every sender's messages in
order; the share of messages the same person follows within 30 s with nobody in between): ending in thanks 2%, a
question 16%, over 200 characters 16%, all messages 30%; a trailing comma or conjunction 33% (half of those follow
within 8 s), a greeting 37%, under 10 characters 36% (so a short text is `plain`, not `open`). Media kinds have no
such data (the dialogs are text only): a voice note or location reads as finished and a photo without words as not,
as priors.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_buffer.aggregator import debounce
from whatsapp_buffer.aggregator.debounce import ControlView, Outcome, flush_due
from whatsapp_buffer.aggregator.end_of_turn import CADENCE, CADENCE_CAP, FACTORS, Cue, cue_of, quiet_seconds
from whatsapp_buffer.function_settings import BufferPolicy

CUES = BufferPolicy(buffer_seconds=12, max_wait_seconds=60, max_messages=50, window_seconds=1, end_of_turn="cues")
FIXED = BufferPolicy(buffer_seconds=12, max_wait_seconds=60, max_messages=50, window_seconds=1, end_of_turn="fixed")
T0 = 1_700_000_000.0


@pytest.mark.parametrize(
    ("kind", "text", "cue"),
    [
        ("text", "thanks!", Cue.DONE),
        ("text", "ok thank you :)", Cue.DONE),
        ("text", "obrigado", Cue.DONE),
        ("text", "does it ship to Canada?", Cue.DONE),
        ("text", "x" * 201, Cue.DONE),
        ("text", "x" * 200, Cue.PLAIN),
        ("text", "my order never arrived", Cue.PLAIN),
        ("text", "ok", Cue.PLAIN),
        ("text", "", Cue.PLAIN),
        ("text", None, Cue.PLAIN),
        ("text", "I ordered a lamp,", Cue.OPEN),
        ("text", "the box was open and", Cue.OPEN),
        ("text", "so...", Cue.OPEN),
        ("text", "here is the thing:", Cue.OPEN),
        ("text", "Hello", Cue.OPEN),
        ("text", "hi there!", Cue.OPEN),
        ("text", "good morning", Cue.OPEN),
        ("text", "hi, is the store open on sunday?", Cue.DONE),
        ("voice", None, Cue.DONE),
        ("audio", None, Cue.DONE),
        ("location", None, Cue.DONE),
        ("contacts", None, Cue.DONE),
        ("interactive", None, Cue.DONE),
        ("image", None, Cue.OPEN),
        ("image", "", Cue.OPEN),
        ("image", "it came like this,", Cue.OPEN),
        ("image", "it came like this", Cue.PLAIN),
        ("document", "invoice 4471", Cue.PLAIN),
        ("video", None, Cue.OPEN),
    ],
)
def test_cue_of_a_message_says_whether_it_looks_finished(kind, text, cue):
    assert cue_of(kind, text) is cue


@pytest.mark.parametrize(
    ("cue", "gap", "quiet"),
    [
        ("done", None, 12 * FACTORS[Cue.DONE]),
        ("plain", None, 12.0),
        ("open", None, 12 * FACTORS[Cue.OPEN]),
        # an unknown or missing cue (an item written before cues were kept) is plain
        (None, None, 12.0),
        ("shouting", None, 12.0),
        # the customer's own pause inside the burst is waited for again ...
        ("done", 8.0, 8.0 * CADENCE),
        ("plain", 14.0, 14.0 * CADENCE),
        # ... up to the cap
        ("plain", 100.0, 12 * CADENCE_CAP),
        # a pause shorter than the cue's wait changes nothing
        ("open", 2.0, 12 * FACTORS[Cue.OPEN]),
        ("plain", 0.0, 12.0),
    ],
)
def test_cues_quiet_period_follows_the_cue_and_the_customers_pause(cue, gap, quiet):
    assert quiet_seconds(cue, gap, CUES) == pytest.approx(quiet)


@pytest.mark.parametrize("cue", ["done", "plain", "open", None])
def test_fixed_quiet_period_ignores_every_cue(cue):
    assert quiet_seconds(cue, 30.0, FIXED) == 12


def test_a_question_flushes_sooner_than_a_trailing_comma_under_cues():
    question = ControlView(pending=2, last_arrival=T0 + 3, first_pending=T0, cue="done", previous_arrival=T0 + 2)
    comma = ControlView(pending=2, last_arrival=T0 + 3, first_pending=T0, cue="open", previous_arrival=T0 + 2)
    now = T0 + 3 + 12 * FACTORS[Cue.DONE]
    assert flush_due(question, now, CUES).outcome is Outcome.FLUSH
    assert flush_due(comma, now, CUES).outcome is Outcome.WAIT
    assert flush_due(question, now, FIXED).outcome is Outcome.WAIT


def test_the_pause_before_the_first_pending_message_is_not_the_customers_cadence():
    # GIVEN the previous message was sent in an earlier burst (before first_pending)
    control = ControlView(pending=1, last_arrival=T0 + 40, first_pending=T0 + 40, cue="plain", previous_arrival=T0)
    # THEN it is no pause inside this burst: plain waits bufferSeconds, not the 40 s since
    assert control.previous_gap is None
    assert debounce.due_at(control, CUES) == T0 + 40 + 12


@given(
    cue=st.sampled_from(["done", "plain", "open", None, "other"]),
    gap=st.one_of(st.none(), st.floats(min_value=0, max_value=10_000)),
    pending=st.integers(min_value=1, max_value=49),
    waited=st.floats(min_value=0, max_value=59),
)
def test_cues_never_wait_past_max_wait_nor_under_the_shortest_factor(cue, gap, pending, waited):
    first = T0
    last = T0 + waited
    control = ControlView(pending, last, first, cue=cue, previous_arrival=None if gap is None else last - gap)
    due = debounce.due_at(control, CUES)
    assert due <= first + CUES.max_wait_seconds
    assert due >= min(last + CUES.buffer_seconds * min(FACTORS.values()), first + CUES.max_wait_seconds)
    assert flush_due(control, due, CUES).flush
