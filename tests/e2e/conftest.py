"""End-to-end replays: the sandbox starts moto and the fake Connect on loopback, so sockets are allowed to this machine only."""

from __future__ import annotations

from pathlib import Path

import pytest

LOOPBACK = ["127.0.0.1", "localhost", "::1"]
HERE = Path(__file__).parent
TRACES = HERE / "traces"
"""Copies of the example traces shared with the project (burst, two customers + media, redelivery + bad input)."""
MEDIA_KINDS_ATTACHMENTS = [
    ("image-1.jpg", "image/jpeg"),
    ("invoice.pdf", "application/pdf"),
    ("video-3.mp4", "video/mp4"),
    ("voice-4.wav", "audio/wav"),
    ("sticker-5.png", "image/png"),
    ("audio-6.wav", "audio/wav"),
    ("video-7.mp4", "video/mp4"),
]
"""What reaches the agent of traces/media_kinds.jsonl: (name, content type) of each attachment, in order."""
EXAMPLES = HERE.parent.parent / "examples"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.allow_hosts(LOOPBACK))
            item.add_marker(pytest.mark.e2e)


def replay(path: Path, **overrides: str):
    """(events, transcript, replay) for one trace file."""
    from sandbox import trace
    from sandbox.replay import Replay

    events = trace.read_trace(path)
    rep = Replay(events, overrides={k: str(v) for k, v in overrides.items()})
    return events, rep.run(), rep


def replay_lines(tmp_path_factory: pytest.TempPathFactory, name: str, lines: list[dict[str, object]], **overrides: str):
    """`replay` of a trace written from `lines` (one JSON object each) as `name`.jsonl."""
    import json

    path = tmp_path_factory.mktemp("traces") / f"{name}.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return replay(path, **overrides)


def assert_the_notice_comes_first_in_one_chat(transcript: dict, notice_words: str, old: str, new: str) -> None:
    """The customer's first message, then the change notice before the new identity's message, all in one chat; the
    agent's replies go to the old identity before the change and to the new one after it."""
    (contact,) = transcript["contacts"]
    contents = [m["content"] for m in transcript["connect"]]
    assert contents[0] == "Hi, about order 1234"
    assert "".join(contents[1:]).index(notice_words) < "".join(contents[1:]).index("is my order")
    assert {m["contact_id"] for m in transcript["connect"]} == {contact["contact_id"]}
    assert [(m["to"], m["text"]) for m in transcript["whatsapp_out"]] == [
        (old, "Hello Maria, let me check"),
        (new, "Yes, it ships Monday"),
    ]
    assert transcript["rejected"] == [] and transcript["skipped"] == []
