"""Media conversion: how long the inbound function takes to convert each file type WhatsApp sends and Connect refuses
(runtime/whatsapp_buffer/deliver/convert.py on sandbox/media_samples' real files), and the peak memory of a fresh
process that imports PyAV and converts a 15 s voice note (what decides the inbound function's memory size).

This machine is not a Lambda arm64 core: read the times as relative, and scale them (Lambda gives a 256 MB function
about a sixth of a vCPU; FFmpeg's decoders here are single-threaded per file).
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
import resource, sys, tempfile
from pathlib import Path
sys.path[:0] = [{root!r}, {runtime!r}]
from sandbox.media_samples import sample
from whatsapp_buffer.deliver import convert
scratch = Path(tempfile.mkdtemp())
(scratch / "in").write_bytes(sample("voice", "audio/ogg", {size_kb}))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
convert.plan("audio/ogg").run(scratch / "in", scratch / "out.wav")
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
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
    from whatsapp_buffer.deliver import convert

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


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of a fresh interpreter: with the runtime, PyAV and the generated sample loaded, and after
    converting a 15 s voice note."""
    code = _PEAK.format(
        root=str(ROOT), runtime=str(ROOT / "runtime"), size_kb=_size_kb("audio/ogg", VOICE_SECONDS)
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = (int(value) / 1024 for value in done.stdout.split())
    return {"before_conversion_mb": round(before, 1), "after_conversion_mb": round(after, 1)}


def run() -> dict[str, Any]:
    return {"conversions": conversion_times(), "peak_memory": peak_memory_mb()}


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
    )
    return out


if __name__ == "__main__":
    print("\n".join(lines(run())))
