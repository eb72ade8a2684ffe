"""The replay audit must see every broken promise: a lost, duplicated or reordered message, a lost or repeated reply."""

from __future__ import annotations

import pytest

from sandbox import faults, trace, verify

LINES = [
    {"at": 0.0, "type": "whatsapp", "from": "15550001111", "id": "m1", "text": "a"},
    {"at": 1.0, "type": "whatsapp", "from": "15550001111", "id": "m2", "text": "b"},
    {"at": 2.0, "type": "whatsapp", "from": "15550001111", "id": "m3", "kind": "image", "caption": "c"},
    {"at": 3.0, "type": "whatsapp", "from": "15550001111", "id": "m4", "kind": "reaction", "emoji": "👍"},
    {"at": 40.0, "type": "agent", "to": "15550001111", "text": "hello"},
]
EVENTS = [trace._validate(n, line) for n, line in enumerate(LINES, start=1)]


def connect(*items):
    return [
        {"at": float(i), "kind": kind, "message_ids": ids, "content": "", "customer": "15550001111", "contact_id": "c"}
        for i, (kind, ids) in enumerate(items)
    ]


def transcript(items, replies=("hello",), rejected=()):
    return {
        "connect": connect(*items),
        "whatsapp_out": [{"to": "15550001111", "kind": "text", "text": t} for t in replies],
        "rejected": list(rejected),
    }


GOOD = [("text", ["m1", "m2"]), ("attachment", ["m3"]), ("text", ["m3"])]


def test_a_clean_replay_passes_and_ignores_the_ignored_reaction():
    result = verify.audit(EVENTS, transcript(GOOD))
    assert result.clean and result.messages == 3 and result.replies == 1


@pytest.mark.parametrize(
    ("items", "replies", "field", "value"),
    [
        ([("text", ["m1"]), ("attachment", ["m3"]), ("text", ["m3"])], ("hello",), "lost", 1),
        (GOOD + [("text", ["m2"])], ("hello",), "duplicated", 1),
        ([("text", ["m2"]), ("text", ["m1"]), ("attachment", ["m3"]), ("text", ["m3"])], ("hello",), "reordered", 1),
        (GOOD, (), "replies_lost", 1),
        (GOOD, ("hello", "hello"), "replies_duplicated", 1),
    ],
)
def test_each_broken_promise_is_counted(items, replies, field, value):
    result = verify.audit(EVENTS, transcript(items, replies))
    assert getattr(result, field) == value
    assert not result.clean


def test_a_media_notice_and_its_caption_count_as_one_delivery():
    notice = [("text", ["m1", "m2"]), ("text", ["m3"]), ("text", ["m3"])]
    assert verify.audit(EVENTS, transcript(notice)).duplicated == 0


def test_fault_mixes_parse_and_unknown_names_are_refused():
    plan = faults.parse("ddb,sns-dup", rate=0.1, seed=3)
    assert plan.label == "ddb+sns-dup" and plan.sns_duplicate_rate == 0.1
    assert {f.service for f in plan.worker["ingest"]} == {"dynamodb"}
    assert set(faults.parse("all").mixes) == set(faults.MIXES)
    assert faults.parse(None).mixes == ()
    with pytest.raises(ValueError, match="unknown fault mix nope"):
        faults.parse("nope")
    with pytest.raises(ValueError, match="not between 0 and 1"):
        faults.parse("ddb", rate=2)


def test_a_message_stored_after_its_successors_were_shown_is_late_not_reordered():
    items = [("text", ["m2"]), ("text", ["m1"]), ("attachment", ["m3"]), ("text", ["m3"])]
    late = transcript(items)
    late["stored_at"] = {"m1": -1.0, "m2": -0.5, "m3": 2.0}
    assert verify.audit(EVENTS, late).reordered == 1  # m1 was there before m2 was shown: a real reorder
    late["stored_at"]["m1"] = 60.0  # m1's ingest was retried a minute later, after m2 reached the agent at t=0
    result = verify.audit(EVENTS, late)
    assert (result.reordered, result.late) == (0, 1)


def test_a_message_stored_after_its_successor_was_queued_is_late_however_long_the_queue_held_that_burst():
    """The timeouts mix on the 1,000-message trace: m1's ingest timed out and AWS retried it 90 s later, after m2 had
    been flushed on its own; m2's burst then waited out the bursts queue's visibility timeout behind a failed delivery
    (Lambda, "Creating and configuring an Amazon SQS event source mapping": "if Lambda encounters an error at any
    point while processing a batch, all messages in that batch return to the queue. After the visibility timeout,
    the messages become visible to Lambda again"), and m1's burst, queued after it, followed it into the chat."""
    late = transcript([("text", ["m2"]), ("text", ["m1"]), ("attachment", ["m3"]), ("text", ["m3"])])
    for item in late["connect"]:
        item["at"] += 900.0  # both shown after the visibility timeout
    late["stored_at"] = {"m1": 90.0, "m2": 1.0, "m3": 2.0}
    late["queued_at"] = {"m2": 21.0, "m1": 110.0, "m3": 110.0}
    result = verify.audit(EVENTS, late)
    assert (result.reordered, result.late) == (0, 1)
    # m1 stored before m2 left the buffer: the buffer could have put it first, so it is a reorder
    late["queued_at"]["m2"] = 95.0
    result = verify.audit(EVENTS, late)
    assert (result.reordered, result.late) == (1, 0)


VOICE = [trace._validate(1, {"at": 0.0, "type": "whatsapp", "from": "15550001111", "id": "v1", "kind": "voice"})]


def voice_transcript(*texts):
    items = [{"at": 0.0, "kind": "attachment", "message_ids": ["v1"], "content": "voice-1.wav"}]
    items += [{"at": 1.0 + i, "kind": "text", "message_ids": ["v1"], "content": t} for i, t in enumerate(texts)]
    for item in items:
        item.update(customer="15550001111", contact_id="c")
    return {"connect": items, "whatsapp_out": [], "rejected": []}


def test_a_voice_note_with_its_pending_line_and_its_late_transcript_is_delivered_once():
    """Replay contract v2: a voice message's id in up to three items (attachment, transcript's place, late transcript)."""
    result = verify.audit(
        VOICE, voice_transcript("🔊 (the transcript of voice-1.wav is not ready yet…)", '🔊 voice-1.wav: "hi"')
    )
    assert result.clean


@pytest.mark.parametrize(
    "texts",
    [
        ('🔊 voice-1.wav: "hi"', '🔊 voice-1.wav: "hi"'),
        ("🔊 (pending)", '🔊 voice-1.wav: "hi"', '🔊 voice-1.wav: "hi"'),
    ],
)
def test_a_late_transcript_shown_twice_is_a_duplicate(texts):
    assert verify.audit(VOICE, voice_transcript(*texts)).duplicated >= 1


def test_order_is_what_the_customer_typed_never_the_message_ids():
    # GIVEN two photos typed at the same instant (one album, one WhatsApp second) whose ids sort against the trace
    lines = [
        {"at": 5.0, "type": "whatsapp", "from": "15550001111", "id": "wamid.Z", "kind": "image"},
        {"at": 5.0, "type": "whatsapp", "from": "15550001111", "id": "wamid.A", "kind": "image"},
    ]
    events = [trace._validate(n, line) for n, line in enumerate(lines, start=1)]
    as_typed = [("attachment", ["wamid.Z"]), ("attachment", ["wamid.A"])]
    # THEN shown in the trace's order they are in order, shown in id order they are reordered
    assert verify.audit(events, transcript(as_typed, replies=())).clean
    assert verify.audit(events, transcript(list(reversed(as_typed)), replies=())).reordered == 1
