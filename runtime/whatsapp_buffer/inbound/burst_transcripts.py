"""Transcripts of a burst's voice notes and audio files, placed in the burst at the recording's place.

Each recording attachable as WAV (`media`, converted PCM 16 kHz mono) gets one Amazon Transcribe batch job, started
as soon as its WAV is stored; the burst waits for all its jobs together, at most `transcriptWaitSeconds` from the
first start, then each recording's transcript line (`🔊 "my order never arrived"`) goes right after its attachment.
A job that failed, was refused or is not done in time is one line saying there is no transcript; the recording and
the rest of the burst are delivered regardless.

The job name (`storage_keys.job_name`) is the media bucket's name and the WhatsApp media id: a recording WhatsApp or the
queue redelivers is transcribed once (the second start is ConflictException, `Transcriber.start` returns False) and
its transcript read from the same key.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from whatsapp_buffer import clock, render
from whatsapp_buffer.errors import MediaUnavailable, TranscriptionUnavailable, TransientAwsError
from whatsapp_buffer.inbound.ports import COMPLETED, MediaStore, Transcriber
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.storage_keys import job_name, transcript_key

TRANSCRIBED_KINDS = frozenset({"voice", "audio"})
POLL_SECONDS = 1.0
"""GetTranscriptionJob allows 20 transactions per second per account (Amazon Transcribe "Guidelines and quotas")."""

NOT_READY = "not ready in time"
FAILED = "could not be transcribed"


def transcript_line(text: str) -> str:
    return render.clip(f'🔊 "{text}"')


ECHO_PREFIX = "🔊"
"""The AWS sample's reply to a transcribed voice note: `🔊_<transcript>_` (WhatsApp italics)."""


def echo_text(words: str) -> str:
    """What `echoTranscripts` sends back to the customer (for a transcript placed in its burst or posted late)."""
    return f"{ECHO_PREFIX}_{words}_"


def missing_line(reason: str) -> str:
    return f"🔊 (no transcript: the recording {reason})"


def line_token(token: str, text: str, words: str | None) -> str:
    """The ClientToken of a transcript's line: `token` for the transcript itself (one job per recording: its words
    never change), `token` and a digest of the text for a line saying there is none, whose reason a later delivery may
    know better (a throttled start, then the transcript). Connect does not document a token reused with other
    content, so a token always carries one text."""
    if words:
        return token
    return f"{token}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


@dataclass
class Pending:
    """One recording's job, and the line that stands for its transcript once known."""

    job: str
    line: str | None = None
    words: str | None = None
    """The transcript itself, once placed (what `echoTranscripts` sends back to the customer)."""
    late: bool = False
    """Not done within the wait: delivered without its transcript, which is owed to the chat (`late_transcripts`)."""


class Transcripts:
    """Starts a burst's jobs and waits for them, once, within the bounded wait."""

    def __init__(
        self,
        *,
        transcriber: Transcriber | None,
        media: MediaStore,
        languages: tuple[str, ...],
        wait_seconds: float,
        sleep: Callable[[float], None] = clock.sleep,
    ) -> None:
        self._transcriber = transcriber
        self._media = media
        self._languages = languages
        self._wait_seconds = wait_seconds
        self._sleep = sleep

    @property
    def enabled(self) -> bool:
        return self._transcriber is not None and bool(self._languages)

    def start(self, media_id: str, wav_key: str) -> Pending:
        """Start the recording's job (or find it started); a refusal is known at once."""
        assert self._transcriber is not None
        name = job_name(self._transcriber.bucket, media_id)
        try:
            started = self._transcriber.start(name, wav_key, "wav", self._languages, transcript_key(name))
        except (TranscriptionUnavailable, TransientAwsError) as exc:
            logger.warning("transcription not started", error=str(exc))
            count("TranscriptsMissing")
            return Pending(name, missing_line(FAILED))
        if not started:
            count("TranscriptionsReused")
        return Pending(name)

    def wait(self, pending: list[Pending]) -> None:
        """Fill every pending line: the transcript, or why there is none, within the bounded wait. The wait is counted
        in polls, not read from the clock, so it ends even where time stands still during an invocation."""
        polls = math.ceil(self._wait_seconds / POLL_SECONDS)
        for poll in range(polls + 1):
            for job in pending:
                if job.line is None:
                    job.line, job.words = self._settled(job.job)
            if all(job.line is not None for job in pending) or poll == polls:
                break
            self._sleep(POLL_SECONDS)
        for job in pending:
            if job.line is None:
                count("TranscriptsMissing")
                job.line = missing_line(NOT_READY)
                job.late = True

    def settled(self, name: str) -> tuple[str | None, str | None]:
        """The job's line and words once it is done (`(None, None)` while it runs)."""
        return self._settled(name)

    def _settled(self, name: str) -> tuple[str | None, str | None]:
        assert self._transcriber is not None
        try:
            state = self._transcriber.state(name)
            if not state.done:
                return None, None
            if state.status != COMPLETED:
                logger.warning("transcription failed", reason=state.failure)
                count("TranscriptsMissing")
                return missing_line(FAILED), None
            text = transcript_text(self._media.get_unlisted(transcript_key(name)))
        except (TranscriptionUnavailable, TransientAwsError, MediaUnavailable, ValueError) as exc:
            logger.warning("transcript unreadable", error=str(exc))
            count("TranscriptsMissing")
            return missing_line(FAILED), None
        if not text:
            return missing_line("holds no words Transcribe recognised"), None
        count("TranscriptsPlaced")
        return transcript_line(text), text


def transcript_text(document: bytes) -> str:
    """`results.transcripts[0].transcript` of a transcript file (Transcribe's output JSON: docs/sandbox.md#amazon-transcribe)."""
    transcripts = json.loads(document).get("results", {}).get("transcripts") or [{}]
    return str(transcripts[0].get("transcript") or "").strip()
