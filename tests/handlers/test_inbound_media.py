"""The inbound function's customer media against the same world as test_inbound (moto S3, the project's one fake
for Connect and End User Messaging): what is attached as it is, what is converted first (voice notes and audio to
WAV, WebP to PNG, 3GPP to MP4, on real generated files), and what becomes a line naming the file."""

from __future__ import annotations

import av
import pytest
from moto import mock_aws
from PIL import Image

from sandbox.media_samples import sample
from tests.handlers.test_inbound import ORIGIN, World, make_burst
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.inbound import attachments
from whatsapp_buffer.model import OutgoingItem


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    inbound.reset()


@pytest.mark.parametrize(
    ("kind", "mime", "filename", "expected_name", "expected_type"),
    [
        ("image", "image/jpeg", None, "image-1.jpg", "image/jpeg"),
        ("video", "video/mp4", None, "video-1.mp4", "video/mp4"),
        ("document", "application/pdf", "invoice.pdf", "invoice.pdf", "application/pdf"),
        ("document", "application/pdf", "invoice", "invoice.pdf", "application/pdf"),
        (
            "document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "offer.docx",
            "offer.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_each_media_kind_connect_accepts_is_fetched_and_attached_with_its_caption_after(
    world, kind, mime, filename, expected_name, expected_type
):
    content = {"media_id": "5550001", "mime_type": mime, "caption": "look at this"}
    if filename:
        content["filename"] = filename
    world.fake.services.register_media("5550001", b"\x89bytes", mime)
    burst = make_burst([OutgoingItem(kind=kind, message_ids=("wamid.m",), content=content)])
    world.deliver(burst)
    (attachment, caption) = world.fake.items(world.session().contact_id)
    assert (attachment.attachment_name, attachment.content_type) == (expected_name, expected_type)
    assert world.fake.services.attachment_data(attachment.attachment_id) == b"\x89bytes"
    assert attachment.upload_client_token == burst.client_token(0)
    assert (caption.client_token, caption.content) == (burst.client_token(0, "caption"), "look at this")
    # End User Messaging was asked what the file is first, then copied it to an exact, pre-signed key
    info, fetch = world.calls("GetWhatsAppMessageMedia")
    assert info["metadataOnly"] is True and "destinationS3PresignedUrl" not in info
    assert fetch["originationPhoneNumberId"] == ORIGIN
    assert "media-bucket" in fetch["destinationS3PresignedUrl"]["url"]


def test_a_burst_with_a_jpeg_a_pdf_and_an_mp4_reaches_connect_as_three_attachments(world):
    files = [
        ("image", "5550011", "image/jpeg"),
        ("document", "5550012", "application/pdf"),
        ("video", "5550013", "video/mp4"),
    ]
    for _, media_id, mime in files:
        world.fake.services.register_media(media_id, mime.encode() * 10, mime)
    burst = make_burst(
        [
            OutgoingItem(
                kind=kind, message_ids=(f"wamid.{media_id}",), content={"media_id": media_id, "mime_type": mime}
            )
            for kind, media_id, mime in files
        ]
    )
    _, failed = world.deliver(burst)
    assert not failed
    items = world.fake.items(world.session().contact_id)
    assert [(i.kind, i.content_type) for i in items] == [("attachment", mime) for _, _, mime in files]
    assert [world.fake.services.attachment_data(i.attachment_id) for i in items] == [m.encode() * 10 for *_, m in files]


@pytest.mark.parametrize(
    ("kind", "mime", "name", "expected_type"),
    [
        ("voice", "audio/ogg; codecs=opus", "voice-1.wav", "audio/wav"),
        ("audio", "audio/mpeg", "audio-1.wav", "audio/wav"),
        ("audio", "audio/aac", "audio-1.wav", "audio/wav"),
        ("audio", "audio/amr", "audio-1.wav", "audio/wav"),
        ("audio", "audio/mp4", "audio-1.wav", "audio/wav"),
        ("sticker", "image/webp", "sticker-1.png", "image/png"),
        ("video", "video/3gpp", "video-1.mp4", "video/mp4"),
    ],
)
def test_a_voice_note_audio_sticker_or_3gpp_video_arrives_converted_to_a_type_connect_attaches(
    world, kind, mime, name, expected_type, tmp_path
):
    # GIVEN a real file of a type Connect refuses but the bridge converts
    world.fake.services.register_media("5550002", sample(kind, mime), mime)
    burst = make_burst(
        [OutgoingItem(kind=kind, message_ids=("wamid.s",), content={"media_id": "5550002", "mime_type": mime})]
    )
    # WHEN the burst is delivered
    _, failed = world.deliver(burst)
    # THEN the agent gets one attachment of the converted type, named after the item with the new extension
    assert not failed
    (attachment,) = world.fake.items(world.session().contact_id)
    assert (attachment.kind, attachment.attachment_name, attachment.content_type) == ("attachment", name, expected_type)
    assert attachment.upload_client_token == burst.client_token(0)
    # AND what was attached really is that type
    converted = tmp_path / name
    converted.write_bytes(world.fake.services.attachment_data(attachment.attachment_id))
    if expected_type == "image/png":
        with Image.open(converted) as png:
            assert png.format == "PNG"
    else:
        with av.open(str(converted)) as probe:
            codecs = {s.codec_context.name for s in probe.streams}
        assert codecs == ({"pcm_s16le"} if expected_type == "audio/wav" else {"h264", "aac"})
    # AND the original and the converted file wait side by side in the media bucket
    keys = [o["Key"] for o in world.s3.list_objects_v2(Bucket="media-bucket")["Contents"]]
    assert len(keys) == 2 and keys[1] == keys[0] + name[name.rindex(".") :]


@pytest.mark.parametrize(
    ("kind", "mime", "name"),
    [
        ("document", "application/zip", "document-1.zip"),
        ("video", "video/webm", "video-1.webm"),
        ("audio", "audio/flac", "audio-1.flac"),
    ],
)
def test_a_media_type_connect_does_not_accept_becomes_a_notice_naming_the_file_and_is_never_downloaded(
    world, kind, mime, name
):
    # GIVEN a file whose type is neither on Connect's attachment list nor one the bridge converts
    world.fake.services.register_media("5550002", b"x" * 12_000, mime)
    burst = make_burst(
        [OutgoingItem(kind=kind, message_ids=("wamid.s",), content={"media_id": "5550002", "mime_type": mime})]
    )
    # WHEN the burst is delivered
    _, failed = world.deliver(burst)
    # THEN the agent sees one line naming the file and its size, under the item's client token
    assert not failed
    (notice,) = world.fake.items(world.session().contact_id)
    assert notice.kind == "text" and notice.client_token == burst.client_token(0)
    assert f"({name}, 12 KB)" in notice.content and "does not accept this file type" in notice.content
    # AND only its metadata was asked for: nothing was copied that could not be attached
    (info,) = world.calls("GetWhatsAppMessageMedia")
    assert info["metadataOnly"] is True
    assert world.s3.list_objects_v2(Bucket="media-bucket").get("KeyCount", 0) == 0


def test_a_voice_note_that_cannot_be_converted_is_a_named_line_and_the_rest_of_the_burst_arrives(world):
    # GIVEN a corrupt voice note between two texts
    world.fake.services.register_media("5550004", b"OggS" + b"x" * 11_996, "audio/ogg; codecs=opus")
    voice = OutgoingItem(
        kind="voice", message_ids=("wamid.v",), content={"media_id": "5550004", "mime_type": "audio/ogg; codecs=opus"}
    )
    before, after = (OutgoingItem(kind="text", message_ids=(f"wamid.{t}",), text=t) for t in ("hello", "bye"))
    burst = make_burst([before, voice, after])
    # WHEN the burst is delivered
    _, failed = world.deliver(burst)
    # THEN the voice note is one line naming the file and its size, in its place, and the texts around it arrive
    assert not failed
    items = world.fake.items(world.session().contact_id)
    assert [i.content for i in items][::2] == ["hello", "bye"]
    assert items[1].client_token == burst.client_token(1)
    assert items[1].content == (
        "[The customer sent a voice note (voice-2.ogg, 12 KB) that cannot be shown here: "
        "it could not be converted to a file type Connect chat accepts.]"
    )


def test_a_recording_whose_wav_would_pass_20_mb_is_a_named_line(world, monkeypatch):
    # GIVEN a limit smaller than the 4 s recording's 128 KB WAV (so the test need not encode ten minutes of audio)
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 100_000)
    world.fake.services.register_media("5550005", sample("audio", "audio/mpeg"), "audio/mpeg")
    burst = make_burst(
        [
            OutgoingItem(
                kind="audio", message_ids=("wamid.a",), content={"media_id": "5550005", "mime_type": "audio/mpeg"}
            )
        ]
    )
    _, failed = world.deliver(burst)
    assert not failed
    (notice,) = world.fake.items(world.session().contact_id)
    assert notice.content.startswith("[The customer sent an audio file (audio-1.mp3, 1")
    assert "converted to a type Connect chat accepts, it is larger than the 20 MB" in notice.content


def test_an_original_too_large_to_convert_is_a_named_line_without_a_download(world):
    world.fake.services.register_media("5550006", b"x" * 33_000_000, "video/3gpp")
    burst = make_burst(
        [
            OutgoingItem(
                kind="video", message_ids=("wamid.g",), content={"media_id": "5550006", "mime_type": "video/3gpp"}
            )
        ]
    )
    _, failed = world.deliver(burst)
    assert not failed
    (notice,) = world.fake.items(world.session().contact_id)
    assert "(video-1.3gp, 33.0 MB)" in notice.content and "larger than the 20 MB" in notice.content
    assert len(world.calls("GetWhatsAppMessageMedia")) == 1


def test_a_file_over_connects_20_mb_becomes_a_notice_without_a_download(world):
    world.fake.services.register_media("5550003", b"x" * 20_500_000, "video/mp4")
    burst = make_burst(
        [
            OutgoingItem(
                kind="video", message_ids=("wamid.v",), content={"media_id": "5550003", "mime_type": "video/mp4"}
            )
        ]
    )
    _, failed = world.deliver(burst)
    assert not failed
    (notice,) = world.fake.items(world.session().contact_id)
    assert "(video-1.mp4, 20.5 MB)" in notice.content and "larger than the 20 MB" in notice.content
    assert len(world.calls("GetWhatsAppMessageMedia")) == 1


def test_a_media_fetch_failure_becomes_a_notice_and_the_caption_still_arrives(world):
    burst = make_burst(
        [
            OutgoingItem(
                kind="image",
                message_ids=("wamid.i",),
                content={"media_id": "404404", "mime_type": "image/jpeg", "caption": "my receipt"},
            )
        ]
    )
    _, failed = world.deliver(burst)
    assert not failed
    notice, caption = world.fake.items(world.session().contact_id)
    assert "an image" in notice.content and "could not be downloaded" in notice.content
    assert caption.content == "my receipt"


def test_a_media_fetch_failure_of_a_message_carrying_whatsapps_error_names_whatsapps_reason(world):
    """A real fixture of another WhatsApp library: `{"type": "image", "image": {"id": "I1"}, "errors": [{"code":
    131052, "title": "Media download error"}]}` (ingest keeps the error beside the media, meta_content)."""
    content = {"media_id": "404404", "mime_type": "image/jpeg", "error": "131052: Media download error"}
    burst = make_burst([OutgoingItem(kind="image", message_ids=("wamid.i",), content=content)])
    _, failed = world.deliver(burst)
    assert not failed
    (notice,) = world.fake.items(world.session().contact_id)
    assert notice.content == (
        "[The customer sent an image (image-1.jpg) that cannot be shown here: WhatsApp says: Media download error.]"
    )
