"""The whole pipeline against the fakes' documented rules: what Connect attaches, what it does not, and WhatsApp's
24-hour window (rules and sources in tests/contract)."""

from __future__ import annotations

import av
import pytest
from PIL import Image

from tests.e2e.conftest import MEDIA_KINDS_ATTACHMENTS, TRACES, replay


@pytest.fixture(scope="module")
def media():
    return replay(TRACES / "media_kinds.jsonl", chatDurationMinutes=10080, ignoreStickers="false")


def test_a_jpeg_a_pdf_and_an_mp4_pass_and_a_voice_note_sticker_aac_and_3gpp_arrive_converted(media):
    _, transcript, _ = media
    attachments = [(m["name"], m["content_type"]) for m in transcript["connect"] if m["kind"] == "attachment"]
    assert attachments == MEDIA_KINDS_ATTACHMENTS


def attachment_bytes(replay, name: str) -> bytes:
    """What the fake Connect stored for the one attachment of that name (the agent's download)."""
    (attachment,) = [a for a in replay.services.fake.chats.attachments.values() if a.name == name]
    return attachment.data


def test_the_converted_files_the_agent_gets_are_a_playable_wav_a_png_and_an_h264_mp4(media, tmp_path):
    _, _, replay = media
    for name, expected in [
        ("voice-4.wav", {"pcm_s16le"}),
        ("audio-6.wav", {"pcm_s16le"}),
        ("video-7.mp4", {"h264", "aac"}),
    ]:
        path = tmp_path / name
        path.write_bytes(attachment_bytes(replay, name))
        with av.open(str(path)) as probe:
            assert {s.codec_context.name for s in probe.streams} == expected, name
            if expected == {"pcm_s16le"}:
                audio = probe.streams.audio[0].codec_context
                assert (audio.sample_rate, audio.channels) == (16000, 1)
    path = tmp_path / "sticker-5.png"
    path.write_bytes(attachment_bytes(replay, "sticker-5.png"))
    with Image.open(path) as png:
        assert png.format == "PNG" and png.size == (512, 512)


def test_a_video_over_20_mb_and_a_30_mb_pdf_reach_the_agent_as_lines_naming_each_file(media):
    events, transcript, _ = media
    lines = [
        m["content"]
        for m in transcript["connect"]
        if m["kind"] == "text" and m["sender"] == "customer" and m["content"].startswith("[")
    ]
    assert lines == [
        "[The customer sent a video (video-8.mp4, 21.0 MB) that cannot be shown here: "
        "it is larger than the 20 MB Connect chat accepts.]",
        "[The customer sent a document (contract-scan.pdf, 30.0 MB) that cannot be shown here: "
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
