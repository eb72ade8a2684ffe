"""A conversation with a voice note, a sticker, an AAC file, a 3GPP clip and a 30 MB PDF on a stack that transcribes
(en-US): what the agent sees, in order, and that each recording was transcribed once, early, from its stored WAV."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TRACES, replay

VOICE_WORDS = "my order never arrived and the tracking page says delivered"


@pytest.fixture(scope="module")
def voice():
    return replay(TRACES / "voice_transcripts.jsonl", transcribeLanguages="en-US", ignoreStickers="false")


def test_the_agent_hears_each_recording_as_wav_and_reads_its_transcript_in_its_place(voice):
    events, transcript, _ = voice
    seen = [(m["kind"], m.get("name") or m["content"][:40]) for m in transcript["connect"]]
    assert seen == [
        ("text", "hi, about my order"),
        ("attachment", "voice-2.wav"),
        ("text", f'🔊 "{VOICE_WORDS}"'[:40]),
        ("text", "can you check?"),
        ("attachment", "sticker-4.png"),
        ("attachment", "audio-5.wav"),
        ("text", '🔊 "order number four five six"'),
        ("attachment", "video-6.mp4"),
        ("text", "[The customer sent a document (contract-"),
    ]
    assert "(contract-scan.pdf, 30.0 MB)" in transcript["connect"][-1]["content"]


def test_a_recordings_id_appears_in_its_attachment_and_its_transcript_item_only(voice):
    """Replay contract v2: a voice or audio message's id is in its attachment item and its transcript item."""
    _, transcript, _ = voice
    voice_id = transcript["connect"][1]["message_ids"]
    items = [m for m in transcript["connect"] if m["message_ids"] == voice_id]
    assert [m["kind"] for m in items] == ["attachment", "text"]
    assert {m.get("content_type") for m in items} == {"audio/wav", "text/plain"}


def test_each_recording_was_transcribed_once_early_and_the_burst_did_not_wait(voice):
    _, transcript, rep = voice
    jobs = rep.services.fake.transcribe.jobs
    assert len(jobs) == 2 and all(
        job.media_uri.endswith(".wav") and "/prepared/" in job.media_uri for job in jobs.values()
    )
    # started when ingest stored the recordings (t=2 s, 8 s), done long before the flush (about t=35 s)
    started = sorted(job.created_at - rep.clock.start for job in jobs.values())
    assert started[0] < 5 and started[1] < 11
    flushed = transcript["connect"][0]["at"]
    assert all(m["at"] == flushed for m in transcript["connect"])


def test_with_transcription_off_the_same_conversation_has_no_transcript_lines_and_no_transcribe_calls():
    _, transcript, rep = replay(TRACES / "voice_transcripts.jsonl", ignoreStickers="false")
    assert not [m for m in transcript["connect"] if m["content"].startswith("🔊")]
    assert rep.services.fake.transcribe.jobs == {}
