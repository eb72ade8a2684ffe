"""The whole pipeline against the fakes' documented rules: what Connect attaches, what it does not, and WhatsApp's
24-hour window (rules and sources in tests/contract)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TRACES, replay


@pytest.fixture(scope="module")
def media():
    return replay(TRACES / "media_kinds.jsonl", chatDurationMinutes=10080, ignoreStickers="false")


def test_a_jpeg_a_pdf_and_an_mp4_reach_connect_as_three_attachments_with_their_types(media):
    _, transcript, _ = media
    attachments = [(m["name"], m["content_type"]) for m in transcript["connect"] if m["kind"] == "attachment"]
    assert attachments == [("image-1.jpg", "image/jpeg"), ("invoice.pdf", "application/pdf"), ("video-3.mp4", "video/mp4")]


def test_a_voice_note_a_sticker_and_a_video_over_20_mb_reach_the_agent_as_lines_naming_each_file(media):
    events, transcript, _ = media
    lines = [m["content"] for m in transcript["connect"] if m["kind"] == "text" and m["content"].startswith("[")]
    assert lines == [
        "[The customer sent a voice note (voice-4.ogg, 25 KB) that cannot be shown here: "
        "Connect chat does not accept this file type.]",
        "[The customer sent a sticker (sticker-5.webp, 1 KB) that cannot be shown here: "
        "Connect chat does not accept this file type.]",
        "[The customer sent a video (video-6.mp4, 21.0 MB) that cannot be shown here: "
        "it is larger than the 20 MB Connect chat accepts.]",
    ]
    # every accepted message id is in the transcript: nothing was dropped silently
    ids = {i for m in transcript["connect"] for i in m["message_ids"]}
    assert len(ids) == sum(1 for e in events if e.type == "whatsapp")


def test_a_reply_after_the_24_hour_window_is_refused_and_shown_as_refused(media):
    _, transcript, _ = media
    assert [m["text"] for m in transcript["whatsapp_out"]] == ["Got it, thanks"]
    (refused,) = transcript["whatsapp_refused"]
    assert refused["to"] == "15550001111" and refused["reason"].startswith("131047 Re-engagement message")
