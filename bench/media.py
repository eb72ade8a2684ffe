"""Media conversion: how long the inbound function takes to convert each file type WhatsApp sends and Connect refuses
(runtime/whatsapp_buffer/convert.py on sandbox/media_samples' real files), and the peak memory of a fresh
process that imports PyAV and converts a 15 s voice note (what decides the inbound function's memory size).

Transcript latency (`transcript_latency`): replays of customers who end a burst with a voice note against customers
who send only text, at the fake Transcribe's assumed turnaround of 10 s and at 30 s, plus two wall-time figures taken
outside the replay (virtual time stands still inside an invocation). This machine is not a Lambda arm64 core: read the
times as relative (docs/benchmarks.md#media-conversion, docs/benchmarks.md#voice-notes-and-transcripts).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VOICE_SECONDS = 15
CASES = (
    # label, kind, mime type, seconds of recording (None: the sample's fixed length)
    ("voice note OGG/Opus 15 s", "voice", "audio/ogg; codecs=opus", VOICE_SECONDS),
    ("audio MP3 15 s", "audio", "audio/mpeg", VOICE_SECONDS),
    ("audio AAC 15 s", "audio", "audio/aac", VOICE_SECONDS),
    ("audio AMR-NB 15 s", "audio", "audio/amr", VOICE_SECONDS),
    ("audio M4A 15 s", "audio", "audio/mp4", VOICE_SECONDS),
    ("sticker WebP 512x512", "sticker", "image/webp", None),
    ("video 3GPP 2 s 176x144", "video", "video/3gpp", None),
    ("video 3GPP 60 s 352x288", "video", "video/3gpp", 60),
)
_PEAK = """
import sys, tempfile
from pathlib import Path
sys.path[:0] = [{root!r}, {runtime!r}]
from sandbox.media_samples import sample
from whatsapp_buffer import convert

def high_water_kib():
    # VmHWM, the peak RSS of this process's own memory: getrusage's ru_maxrss would carry the parent's peak over the
    # exec ("resource usage metrics are preserved across an execve", getrusage(2)).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise LookupError("VmHWM")

scratch = Path(tempfile.mkdtemp())
(scratch / "in").write_bytes(sample("voice", "audio/ogg", {size_kb}))
before = high_water_kib()
convert.plan("audio/ogg").run(scratch / "in", scratch / "out.wav")
print(before, high_water_kib())
"""


def _size_kb(mime: str, seconds: int | None) -> float:
    from sandbox import media_samples

    if seconds is None or not mime.startswith("audio/"):
        return 0
    bitrate = media_samples._AUDIO[mime.split(";", 1)[0]][3]
    return bitrate * seconds / 8 / 1000


def conversion_times(repeats: int = 5) -> dict[str, dict[str, Any]]:
    """label -> median and max milliseconds of `repeats` conversions, the original's and the result's bytes."""
    sys.path.insert(0, str(ROOT / "runtime"))
    from sandbox.media_samples import sample, video_3gpp
    from whatsapp_buffer import convert

    found: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, kind, mime, seconds in CASES:
            conversion = convert.plan(mime)
            assert conversion is not None, mime
            source, target = Path(scratch) / "original", Path(scratch) / f"converted{conversion.extension}"
            if kind == "video" and seconds:
                source.write_bytes(video_3gpp(seconds, (352, 288)))
            else:
                source.write_bytes(sample(kind, mime, _size_kb(mime, seconds)))
            conversion.run(source, target)  # warm: the first call loads FFmpeg's codecs
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                size = conversion.run(source, target)
                times.append((time.perf_counter() - started) * 1000)
            found[label] = {
                "to": conversion.content_type,
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
                "source_bytes": source.stat().st_size,
                "converted_bytes": size,
            }
    return found


def peak_memory_mb() -> dict[str, float] | None:
    """Peak resident memory (VmHWM) of a fresh interpreter: with the runtime, PyAV and the generated sample loaded, and
    after converting a 15 s voice note. None where /proc/self/status does not exist (not Linux): no other figure
    leaves out the parent's peak."""
    if not Path("/proc/self/status").exists():
        return None
    code = _PEAK.format(root=str(ROOT), runtime=str(ROOT / "runtime"), size_kb=_size_kb("audio/ogg", VOICE_SECONDS))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = (int(value) / 1024 for value in done.stdout.split())
    return {"before_conversion_mb": round(before, 1), "after_conversion_mb": round(after, 1)}


LATENCY_BUFFER_SECONDS = 20
LATENCY_CUSTOMERS = 8
TURNAROUNDS = (10.0, 30.0)


def _latency_trace(customers: int, voice: bool) -> list[Any]:
    """`customers` bursts, staggered: "hello" then, 3 s later, a second text or a 15 s voice note."""
    from sandbox import trace

    lines = []
    for index in range(customers):
        base = index * 7.0
        customer = f"1555010{index:04d}"
        second: dict[str, Any] = {"text": "my order never arrived"}
        if voice:
            second = {
                "kind": "voice",
                "size_kb": _size_kb("audio/ogg", VOICE_SECONDS),
                "transcript": "my order never arrived",
            }
        lines += [
            {"at": base, "type": "whatsapp", "from": customer, "text": "hello"},
            {"at": base + 3, "type": "whatsapp", "from": customer, **second},
        ]
    return [trace._validate(number, line) for number, line in enumerate(lines, start=1)]


def _replay_latency(turnaround: float, customers: int, voice: bool) -> dict[str, Any]:
    """Median burst latency (last message -> the agent's first item, virtual s), the median wait a flush would have
    for a job still running, transcripts placed, and the median wall time of the inbound function per burst."""
    from sandbox.replay import Replay
    from whatsapp_buffer.environment import InboundSettings

    events = _latency_trace(customers, voice)
    flush_walls: list[float] = []

    def instrument(replay: Any) -> None:
        replay.services.fake.transcribe.turnaround_seconds = turnaround
        functions = replay.pipeline.functions
        invoke = functions.invoke

        def timed(key: str, event: dict[str, Any]) -> Any:
            started = time.perf_counter()
            result = invoke(key, event)
            records = event.get("Records") or []
            if key == "inbound" and records and records[0].get("eventSource") == "aws:sqs":
                flush_walls.append((time.perf_counter() - started) / len(records))
            return result

        functions.invoke = timed

    replay = Replay(
        events,
        overrides={"bufferSeconds": str(LATENCY_BUFFER_SECONDS), "endOfTurn": "fixed", "transcribeLanguages": "en-US"},
        on_ready=instrument,
    )
    transcript = replay.run()
    last_at: dict[str, float] = {}
    for event in events:
        last_at[event.customer] = max(last_at.get(event.customer, 0.0), event.at)
    first_at: dict[str, float] = {}
    for message in transcript["connect"]:
        first_at.setdefault(message["customer"], message["at"])
    assert replay.wiring is not None and replay.services is not None  # the replay ran
    wait_limit = float(InboundSettings.from_env(replay.wiring.functions["inbound"].env).transcript_wait_seconds)
    # Jobs start in the order the voice notes were stored, one per customer.
    jobs = sorted(replay.services.fake.transcribe.jobs.values(), key=lambda job: job.created_at)
    flushes = [replay.clock.start + first_at[c] for c in sorted(first_at, key=lambda c: last_at[c])]
    waits = [min(wait_limit, max(0.0, job.done_at - flush)) for job, flush in zip(jobs, flushes, strict=False)]
    latencies = [first_at[c] - last_at[c] for c in first_at]
    # The transcript itself: in place (`🔊 "…"`) or posted late (`🔊 voice-N.wav: "…"`); the line saying it follows
    # holds no quote.
    words_at: dict[str, float] = {}
    for message in transcript["connect"]:
        if message["kind"] == "text" and message["content"].startswith("🔊") and '"' in message["content"]:
            words_at.setdefault(message["customer"], message["at"])
    return {
        "bursts": len(latencies),
        "median_s": round(statistics.median(latencies), 2),
        "flush_wait_median_s": round(statistics.median(waits), 2) if waits else 0.0,
        "transcripts_in_place": sum(m["content"].startswith('🔊 "') for m in transcript["connect"]),
        "transcripts_late": sum(
            m["content"].startswith("🔊 voice-") and '"' in m["content"] for m in transcript["connect"]
        ),
        "transcript_median_s": round(statistics.median(words_at[c] - last_at[c] for c in words_at), 2)
        if words_at
        else None,
        "flush_wall_ms": round(1000 * statistics.median(flush_walls), 1) if flush_walls else None,
    }


def transcript_latency(customers: int = LATENCY_CUSTOMERS) -> list[dict[str, Any]]:
    """One row per assumed Transcribe turnaround: text-only and voice-note bursts side by side, and the added
    latency of a voice burst (its replayed latency and flush wait minus the text-only latency)."""
    text = _replay_latency(TURNAROUNDS[0], customers, voice=False)
    rows = []
    for turnaround in TURNAROUNDS:
        voice = _replay_latency(turnaround, customers, voice=True)
        walls = (voice["flush_wall_ms"] or 0) - (text["flush_wall_ms"] or 0)
        added = voice["median_s"] + voice["flush_wait_median_s"] - text["median_s"] + walls / 1000
        rows.append({"turnaround_s": turnaround, "text": text, "voice": voice, "added_median_s": round(added, 2)})
    return rows


def run() -> dict[str, Any]:
    from bench import cost

    conversions = conversion_times()
    voice_ms = conversions[CASES[0][0]]["median_ms"]
    return {
        "conversions": conversions,
        "peak_memory": peak_memory_mb(),
        "transcript_latency": transcript_latency(),
        "voice_note_cost": cost.voice_notes_cost(voice_ms, seconds=VOICE_SECONDS),
    }


def lines(result: dict[str, Any]) -> list[str]:
    """The benchmark table's media lines."""
    out = ["\nMedia conversion (median of 5, this machine):"]
    for label, row in result["conversions"].items():
        out.append(
            f"  {label} -> {row['to']}: {row['median_ms']} ms (max {row['max_ms']}), "
            f"{row['source_bytes']:,} -> {row['converted_bytes']:,} bytes"
        )
    peak = result["peak_memory"]
    out.append(
        f"  peak memory of a fresh process: {peak['before_conversion_mb']} MB loaded, "
        f"{peak['after_conversion_mb']} MB after a {VOICE_SECONDS} s voice note"
        if peak
        else "  peak memory of a fresh process: not measured (needs Linux's /proc/self/status)"
    )
    bill = result.get("voice_note_cost")
    if bill:
        out.append(
            f"  1,000 voice notes of {VOICE_SECONDS} s: Transcribe ${bill['transcribe_usd']:.2f} + Lambda "
            f"${bill['lambda_usd']:.4f} ({bill['lambda_gb_seconds']} GB-s arm64) + S3 ${bill['s3_usd']:.4f} = "
            f"${bill['total_usd']:.2f} (bench/cost.py prices; Lambda modelled from the conversion time x 6)"
        )
    rows = result.get("transcript_latency") or []
    if rows:
        out.append(
            f"\nTranscript latency at bufferSeconds {LATENCY_BUFFER_SECONDS}, transcription on, a {VOICE_SECONDS} s voice "
            "note ending the burst (sandbox replay, virtual time; Transcribe turnaround assumed):"
        )
    for row in rows:
        text, voice = row["text"], row["voice"]
        out.append(
            f"  turnaround {row['turnaround_s']:.0f} s: median latency text-only {text['median_s']} s, with a voice "
            f"note {voice['median_s']} s + {voice['flush_wait_median_s']} s flush wait -> added "
            f"{row['added_median_s']} s (target <= 2 s); transcripts in place {voice['transcripts_in_place']}/"
            f"{voice['bursts']}, posted late {voice['transcripts_late']}/{voice['bursts']}, the agent reads the "
            f"transcript {voice['transcript_median_s']} s after the last message (median); inbound wall time per "
            f"burst {voice['flush_wall_ms']} ms vs {text['flush_wall_ms']} ms"
        )
    return out


if __name__ == "__main__":
    print("\n".join(lines(run())))
