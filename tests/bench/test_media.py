"""The media benchmark converts every type it lists and prints one line per type."""

from __future__ import annotations

from bench import media


def test_every_listed_type_is_converted_and_printed_with_its_time():
    times = media.conversion_times(repeats=1)
    result = {"conversions": times, "peak_memory": {"before_conversion_mb": 1.0, "after_conversion_mb": 2.0}}

    assert list(times) == [label for label, *_ in media.CASES]
    assert all(row["median_ms"] > 0 and row["converted_bytes"] > 0 for row in times.values())
    assert {row["to"] for row in times.values()} == {"audio/wav", "image/png", "video/mp4"}
    printed = media.lines(result)
    assert len(printed) == 2 + len(media.CASES)
    assert printed[1].startswith("  voice note OGG/Opus 15 s -> audio/wav: ")


def test_a_fresh_process_peak_memory_leaves_out_the_benchmark_process_own_peak():
    # getrusage(2): "Resource usage metrics are preserved across an execve(2)", so a child's ru_maxrss starts at the
    # parent's peak. The bench runs in a process that has held replays and moto: its child must report its own peak.
    held = bytearray(700 * 1024 * 1024)
    held[::4096] = b"\1" * len(held[::4096])

    peak = media.peak_memory_mb()

    assert peak is not None
    assert 10 < peak["before_conversion_mb"] <= peak["after_conversion_mb"] < 400
    del held
