"""How a window merges the control images its records carry (window.merge_view), where its tick goes
(window.choose_anchor), and which views a window state or a tick may hold (window.listed_view)."""

import pytest

from whatsapp_buffer.aggregator.debounce import ControlView
from whatsapp_buffer.aggregator.window import VERSION, choose_anchor, listed_view, merge_view

OLD = [2, 101.0, 100.0, 4]
NEW = [3, 105.0, 100.0, 5]


@pytest.mark.parametrize(
    ("before", "view", "from_tick", "after"),
    [
        # a control record's image replaces one of the same or a lower version; a lower one is a record processed
        # again, out of order ("If records are processed more than once, they might be processed out of order")
        ({"k": NEW}, OLD, False, {"k": NEW}),
        ({"k": [2, 101.0, 100.0, 4]}, [0, 101.0, None, 4], False, {"k": [0, 101.0, None, 4]}),
        ({"k": OLD}, NEW, False, {"k": NEW}),
        ({}, OLD, False, {"k": OLD}),
        # ... and an unusable one means "read it at the window end"
        ({"k": OLD}, None, False, {}),
        # a tick's image fills an absent view, or replaces a strictly older one
        ({}, OLD, True, {"k": OLD}),
        ({"k": OLD}, NEW, True, {"k": NEW}),
        # ... never a newer or an equal one: the control record beats the tick
        ({"k": NEW}, OLD, True, {"k": NEW}),
        ({"k": [9, 109.0, 100.0, 5]}, NEW, True, {"k": [9, 109.0, 100.0, 5]}),
        # a tick's "no image" (a failed flush) changes nothing: absent stays absent (read), a view stays
        ({}, None, True, {}),
        ({"k": OLD}, None, True, {"k": OLD}),
    ],
)
def test_a_control_image_beats_a_tick_image_and_a_tick_fills_what_is_missing(before, view, from_tick, after):
    views = {k: list(v) for k, v in before.items()}
    merge_view(views, "k", view, from_tick=from_tick)
    assert views == after


@pytest.mark.parametrize(
    ("waiting", "previous", "anchor"),
    [
        (["b", "a", "c"], [], "a"),  # the smallest key
        (["b", "a", "c"], ["c"], "c"),  # the previous anchor while it still waits: the same item overwritten
        (["b", "a"], ["c"], "a"),  # it flushed: the smallest of those still waiting
        (["b", "a", "c"], ["c", "b"], "b"),  # two previous ticks (another shard's after a split): one of them
    ],
)
def test_the_tick_keeps_its_anchor_while_it_waits(waiting, previous, anchor):
    assert choose_anchor(waiting, previous) == anchor


@pytest.mark.parametrize(
    ("value", "view"),
    [
        ([2, 101, 100, 4, "done", 99], [2, 101.0, 100.0, 4, "done", 99.0]),
        ([2, 101, 100, 4, None, None], [2, 101.0, 100.0, 4, None, None]),
        # written by the code before cues were kept: no cue, no previous arrival (a plain quiet period)
        ([2, 101, 100, 4], [2, 101.0, 100.0, 4, None, None]),
        ([2, 101.0, None, 4], [2, 101.0, None, 4, None, None]),
        # written by the code before versions were kept (a deploy mid-window): version 0, so any tick replaces it
        ([2, 101.0, 100.0], [2, 101.0, 100.0, 0, None, None]),
        # a cue that is not a label reads as none
        ([2, 101, 100, 4, 7, None], [2, 101.0, 100.0, 4, None, None]),
        ([2, 101.0], None),
        ([2, 101.0, 100.0, 4, "done"], None),
        ("2,101", None),
        ({"pending": 2}, None),
        ([None, 101.0, 100.0, 4], None),
    ],
)
def test_a_view_is_six_values_or_a_shorter_one_from_before(value, view):
    assert listed_view(value) == view


def test_merging_reads_the_version_where_a_control_view_keeps_it():
    assert ControlView(2, 101.0, 100.0, version=7, cue="done", previous_arrival=99.0).as_view()[VERSION] == 7
