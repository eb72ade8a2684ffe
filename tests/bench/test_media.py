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
