"""What one tumbling window carries from invoke to invoke: the conversations its records named, the newest control image
of each (its view), and the ticks they came from. Kept apart from `flush`, which decides and sends at the window's end,
because this is the aggregator's memory between invokes: its format outlives a deploy, and the order rules for merging
views are what keep a conversation from being forgotten. A control record's image replaces a view of the same or a lower
version; a tick's only fills an absent view or replaces one of a strictly lower version. The state's format, the tick
and its anchor: docs/architecture.md#how-the-aggregator-works.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from whatsapp_buffer.aggregator.debounce import image_view
from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.storage_keys import conversation_from_stream_keys, tick_from_stream

VERSION = 3
"""Where a view (`ControlView.as_view()`) holds the control item's version, which orders two views of one conversation."""
STATE_KEY = "c"
"""Window state: {"c": [conversation keys in first-seen order], "v": {key: [pending, last_arrival, first_pending,
version, cue, previous_arrival]}, "a": [anchors of the ticks this window carried]}."""
VIEWS_KEY = "v"
"""The newest control image each conversation's records carried this window (the stream's NEW_IMAGE, or a tick's
listed image; see the module docstring for how they merge): enough to decide WAIT or IDLE without reading the control
item again. Records of one item arrive in order, so a control record's image is the newest write the stream has
delivered; a newer one only makes the conversation less due by quiet, and its own record brings it to a later window.
A due-looking image is always checked against a consistent read before anything is sent. A 3-element view reads as
version 0, a 4-element one without cue (`listed_view`)."""
ANCHORS_KEY = "a"
"""The conversations whose partitions this window's tick records came from: the next tick keeps one of them as its
anchor while it still waits, so one tick item is overwritten window after window."""
NO_IMAGE = None
"""A tick's image of a conversation whose flush failed: no image, read the control item at the next window end."""


def window_state(
    keys: Iterable[str], views: dict[str, list[Any]] | None = None, anchors: Iterable[str] = ()
) -> dict[str, Any]:
    state: dict[str, Any] = {STATE_KEY: list(dict.fromkeys(keys))}
    if views:
        state[VIEWS_KEY] = {key: views[key] for key in state[STATE_KEY] if key in views}
    anchors = [a for a in dict.fromkeys(anchors) if a in state[STATE_KEY]]
    if anchors:
        state[ANCHORS_KEY] = anchors
    return state


def state_keys(state: dict[str, Any]) -> list[str]:
    """The conversation keys of a window state, in their order; an entry that is not a key is dropped."""
    keys = state.get(STATE_KEY) or []
    valid = []
    for key in keys if isinstance(keys, list) else []:
        try:
            valid.append(Conversation.from_key(str(key)).key)
        except MalformedEvent:
            logger.warning("dropped an unreadable window state entry")
    return valid


def state_views(state: dict[str, Any], seen: dict[str, None]) -> dict[str, list[Any]]:
    """The readable views of a window state, of the conversations in `seen`."""
    views = state.get(VIEWS_KEY) if isinstance(state, dict) else None
    if not isinstance(views, dict):
        return {}
    valid = {key: listed_view(view) for key, view in views.items() if key in seen}
    return {key: view for key, view in valid.items() if view is not None}


def state_anchors(state: dict[str, Any], seen: dict[str, None]) -> dict[str, None]:
    """The tick anchors of a window state that are conversations in `seen`."""
    anchors = state.get(ANCHORS_KEY) if isinstance(state, dict) else None
    return dict.fromkeys(a for a in anchors if isinstance(a, str) and a in seen) if isinstance(anchors, list) else {}


def control_view(image: dict[str, Any] | None) -> list[Any] | None:
    """[pending, last_arrival, first_pending, version, cue, previous_arrival] from a control record's (deserialized)
    NewImage (`debounce.image_view`); None if unusable: without `pending` or `last_arrival`, or with an attribute not
    of its type."""
    if not image or image.get("pending") is None or image.get("last_arrival") is None:
        return None
    try:
        return image_view(image)
    except (TypeError, ValueError):
        return None


def listed_view(image: Any) -> list[Any] | None:
    """A tick's or a window state's view as [pending, last_arrival, first_pending, version, cue, previous_arrival]; a
    3-element one reads as version 0, a 4-element one without cue. None when it is not a view."""
    if not isinstance(image, list) or len(image) not in (3, 4, 6):
        return None
    pending, last_arrival, first_pending, *rest = image
    version, cue, previous = (rest + [0, None, None][len(rest) :])[:3]
    return control_view(
        {
            "pending": pending,
            "last_arrival": last_arrival,
            "first_pending": first_pending,
            "version": version,
            "cue": cue,
            "previous_arrival": previous,
        }
    )


def merge_view(views: dict[str, list[Any]], key: str, view: list[Any] | None, *, from_tick: bool) -> None:
    """Merge one record's image of conversation `key` into the window's views. A control record's image replaces
    one of the same or a lower version (None: unusable, read it at the end); a tick's only fills an absent view or
    replaces a strictly older one (None, a failed flush's entry, changes nothing: a view the window has is newer than the failure)."""
    if not from_tick:
        current = views.get(key)
        if view is None:
            views.pop(key, None)
        elif current is None or current[VERSION] <= view[VERSION]:
            # Versions only grow, so a lower one is an older write: a record processed again, which Lambda may then
            # deliver out of order ("If records are processed more than once, they might be processed out of
            # order": Lambda Developer Guide, tumbling windows). Keeping the newer image keeps a conversation with
            # messages pending from looking idle.
            views[key] = view
        return
    if view is None:
        return
    current = views.get(key)
    if current is None or current[VERSION] < view[VERSION]:
        views[key] = view


def choose_anchor(waiting: Iterable[str], previous: Iterable[str]) -> str:
    """The conversation whose partition the next tick is written under: the smallest previous anchor still waiting
    (the same item overwritten window after window), else the smallest waiting key."""
    waiting = set(waiting)
    kept = sorted(a for a in previous if a in waiting)
    return kept[0] if kept else min(waiting)


def conversation_of(record: DynamoDBRecord) -> Conversation | None:
    """The conversation a control record belongs to; None for records of other items (the filter should drop them)."""
    stream = record.dynamodb
    if stream is None:
        raise MalformedEvent("stream record has no dynamodb section")
    return conversation_from_stream_keys(stream.keys or {})


def tick_of(record: DynamoDBRecord) -> tuple[str, dict[str, list[Any] | None]] | None:
    """(anchor, {conversation key: view or None}) of a tick record; None for records of other items. An entry that
    is not a conversation key or not a view is dropped with a warning (the sweeper finds its conversation)."""
    stream = record.dynamodb
    if stream is None:
        raise MalformedEvent("stream record has no dynamodb section")
    tick = tick_from_stream(stream.keys or {}, stream.new_image)
    if tick is None:
        return None
    anchor, listed = tick
    views: dict[str, list[Any] | None] = {}
    for key, image in listed.items():
        view = None if image is None else listed_view(list(image) if isinstance(image, (list, tuple)) else image)
        try:
            key = Conversation.from_key(str(key)).key
        except MalformedEvent:
            view, image = None, "unreadable"
        if image is not None and view is None:
            logger.warning("dropped an unreadable tick entry")
            # Records are collected on the handler's thread, before the window end's flush threads start: no lock.
            count("TickEntriesDropped")
            continue
        views[key] = view
    return anchor, views
