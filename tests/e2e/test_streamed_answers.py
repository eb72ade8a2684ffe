"""An AI agent in the contact flow answers in streaming mode: Connect streams its answer in chunks and then the
completed message (trace line `bot`, docs/sandbox.md#tracejsonl); the customer receives it once, whole, also when SNS
delivers every event twice (the `sns-dup` fault mix at rate 1: the completed message arrives a second time).

amazon-connect-chatjs `src/core/PartialMessageUtil.js`: a SYSTEM MESSAGE whose `MessageMetadata.MessageCompleted`
is present is a chunk (false, `ChunkNumber` from 1) or the completed message (true) that replaces its chunks, all
sharing `Id` (tests/handlers/test_outbound_streamed_answers.py quotes it).
"""

from __future__ import annotations

import json

import pytest

from sandbox import faults, trace
from sandbox.replay import Replay
from tests.e2e.conftest import TRACES, replay

WHOLE = "Your order 4471 ships on Monday from Lisbon."


def sent_texts(transcript):
    return [(m["to"], m["text"]) for m in transcript["whatsapp_out"]]


@pytest.fixture(scope="module")
def run():
    return replay(TRACES / "streamed_answer.jsonl")


def test_the_streamed_answer_reaches_whatsapp_as_one_text(run):
    _, transcript, _ = run
    assert sent_texts(transcript) == [("15550006666", WHOLE), ("15550006666", "Anything else I can do?")]


def test_connect_streamed_the_chunks_then_the_completed_message(run):
    _, _, rep = run
    published = [json.loads(p.message) for p in rep.services.fake.chats.published]
    streamed = [b for b in published if b.get("MessageMetadata", {}).get("MessageCompleted") is not None]
    assert [(b["Content"], b["MessageMetadata"]["MessageCompleted"]) for b in streamed] == [
        ("Your order 4471 ", False),
        ("ships on Monday ", False),
        ("from Lisbon.", False),
        (WHOLE, True),
    ]
    assert len({b["Id"] for b in streamed}) == 1 and {b["ParticipantRole"] for b in streamed} == {"SYSTEM"}


def test_a_redelivered_completed_message_is_sent_once():
    events = trace.read_trace(TRACES / "streamed_answer.jsonl")
    rep = Replay(events, faults=faults.parse("sns-dup", rate=1.0))
    transcript = rep.run()
    assert rep.pipeline.sns_duplicates > 0
    assert sent_texts(transcript) == [("15550006666", WHOLE), ("15550006666", "Anything else I can do?")]


def test_a_bot_line_without_chunks_is_a_trace_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"at": 0, "type": "bot", "to": "15550006666", "chunks": []}\n')
    with pytest.raises(trace.TraceError, match="chunks"):
        trace.read_trace(path)
