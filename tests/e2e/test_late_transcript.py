"""A voice note whose transcript takes longer than bufferSeconds + transcriptWaitSeconds (Transcribe's turnaround set
to 90 s of virtual time on a stack with bufferSeconds 20 and transcriptWaitSeconds 10): the burst reaches the agent
on time with the WAV and a line saying the transcript follows; the transcript is posted once, after a later burst,
when Transcribe's "Transcribe Job State Change" event reaches the inbound function through the program's EventBridge
rule (sandbox.delivery.eventbridge)."""

from __future__ import annotations

import pytest

from sandbox import trace
from sandbox.replay import Replay
from sandbox.verify import audit
from tests.e2e.conftest import TRACES
from whatsapp_buffer.inbound.late_transcripts import GIVE_UP_SECONDS, SWEEP_AFTER_SECONDS

WORDS = "the parcel came open and the charger is missing"
TURNAROUND_SECONDS = 90.0


def replay_late(duplicate_after=None):
    events = trace.read_trace(TRACES / "late_transcript.jsonl")

    def slow_transcribe(replay):
        replay.services.fake.transcribe.turnaround_seconds = TURNAROUND_SECONDS
        replay.pipeline.events.duplicate_after = duplicate_after

    replay = Replay(events, overrides={"transcribeLanguages": "en-US"}, on_ready=slow_transcribe)
    return events, replay.run(), replay


@pytest.fixture(scope="module")
def late():
    return replay_late()


def test_the_burst_goes_out_on_time_and_the_late_transcript_follows_once_after_the_later_burst(late):
    _, transcript, _ = late
    seen = [(m["kind"], m.get("name") or m["content"]) for m in transcript["connect"]]
    assert seen == [
        ("text", "hi, about my order"),
        ("attachment", "voice-2.wav"),
        ("text", "🔊 (the transcript of voice-2.wav is not ready yet; it follows in this chat)"),
        ("text", "can you check?"),
        ("text", "hello?"),
        ("text", f'🔊 voice-2.wav: "{WORDS}"'),
    ]
    first_burst_at = transcript["connect"][0]["at"]
    late_at = transcript["connect"][-1]["at"]
    assert first_burst_at < 2 + TURNAROUND_SECONDS < late_at
    assert len({m["contact_id"] for m in transcript["connect"]}) == 1


def test_the_voice_notes_id_is_in_its_wav_its_pending_line_and_its_late_transcript_only(late):
    """Replay contract v2: a media message's id is in one to three connect[] items. A voice note whose transcript came
    late: its attachment, the line standing at its transcript's place, and the transcript itself."""
    events, transcript, _ = late
    voice_ids = transcript["connect"][1]["message_ids"]
    items = [m for m in transcript["connect"] if m["message_ids"] == voice_ids]
    assert [m["kind"] for m in items] == ["attachment", "text", "text"]
    assert audit(events, transcript).clean


def test_the_transcript_came_from_one_job_and_one_event_and_the_roles_allowed_every_call(late):
    _, transcript, replay = late
    assert len(replay.services.fake.transcribe.jobs) == 1
    delivered = replay.pipeline.events.delivered
    assert [(function, event["detail"]["TranscriptionJobStatus"]) for _, function, event in delivered] == [
        ("inbound", "COMPLETED")
    ]
    assert replay.pipeline.events.refused == 0
    assert transcript["rejected"] == []


@pytest.mark.parametrize("duplicate_after", [0.0, 5.0, 200.0])
def test_a_completion_event_delivered_twice_still_shows_the_transcript_once(duplicate_after):
    events, transcript, replay = replay_late(duplicate_after=duplicate_after)
    assert [m["content"] for m in transcript["connect"]].count(f'🔊 voice-2.wav: "{WORDS}"') == 1
    assert len(replay.pipeline.events.delivered) == 2
    assert audit(events, transcript).clean and transcript["rejected"] == []


# EventBridge events reference, "Amazon Transcribe events": "Transcribe Job State Change ... Delivery type: Best
# effort". The replay loses every completion event; the inbound function's sweep (EventBridge Scheduler, every
# minute, the sessions table's sparse owed-since index) settles the debt through the event's own path.
SCHEDULE_PERIOD_SECONDS = 60.0
INVOKE_SLACK_SECONDS = 5.0


def replay_lost(turnaround=TURNAROUND_SECONDS):
    events = trace.read_trace(TRACES / "late_transcript.jsonl")

    def events_lost(replay):
        replay.services.fake.transcribe.turnaround_seconds = turnaround
        replay.pipeline.events.lose_events = 1.0

    replay = Replay(events, overrides={"transcribeLanguages": "en-US"}, on_ready=events_lost)
    return events, replay.run(), replay


def at_of(transcript, content):
    (item,) = [m for m in transcript["connect"] if m.get("content") == content]
    return item["at"]


def test_a_transcript_whose_completion_event_is_lost_is_posted_once_by_the_sweep_within_its_bound():
    events, transcript, replay = replay_lost()
    late_line = f'🔊 voice-2.wav: "{WORDS}"'
    assert [m["content"] for m in transcript["connect"]].count(late_line) == 1
    assert replay.pipeline.events.delivered == [] and len(replay.pipeline.events.lost) == 1
    # The debt is recorded right after the burst with its "follows" line; the sweep takes it once it is
    # SWEEP_AFTER_SECONDS old (the job finished before that), at the next run of the schedule.
    pending_at = at_of(transcript, "🔊 (the transcript of voice-2.wav is not ready yet; it follows in this chat)")
    late_at = at_of(transcript, late_line)
    assert late_at > 2 + TURNAROUND_SECONDS
    assert late_at - pending_at <= SWEEP_AFTER_SECONDS + SCHEDULE_PERIOD_SECONDS + INVOKE_SLACK_SECONDS
    assert audit(events, transcript).clean and transcript["rejected"] == []


def test_a_job_that_never_finishes_is_settled_with_the_no_transcript_line_fifteen_minutes_after_its_burst():
    events, transcript, replay = replay_lost(turnaround=6 * 3600.0)
    stuck = "🔊 voice-2.wav: (no transcript: the recording was not transcribed within 15 minutes)"
    assert [m["content"] for m in transcript["connect"]].count(stuck) == 1
    pending_at = at_of(transcript, "🔊 (the transcript of voice-2.wav is not ready yet; it follows in this chat)")
    waited = at_of(transcript, stuck) - pending_at
    assert GIVE_UP_SECONDS <= waited <= GIVE_UP_SECONDS + SCHEDULE_PERIOD_SECONDS + INVOKE_SLACK_SECONDS
    assert audit(events, transcript).clean and transcript["rejected"] == []
