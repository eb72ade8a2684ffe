"""Conversions on real generated files (sandbox.media_samples) of every type WhatsApp sends and Connect refuses: the
output is really WAV 16 kHz mono / PNG / MP4 (H.264 + AAC) and decodes."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image

from sandbox.media_samples import sample
from whatsapp_buffer.inbound import attachments, convert

AUDIO = ["audio/ogg; codecs=opus", "audio/mpeg", "audio/aac", "audio/amr", "audio/mp4"]


def converted(tmp_path: Path, kind: str, mime: str, data: bytes | None = None, **run) -> Path:
    conversion = convert.plan(mime)
    assert conversion is not None
    source, target = tmp_path / "original", tmp_path / f"converted{conversion.extension}"
    source.write_bytes(sample(kind, mime) if data is None else data)
    size = conversion.run(source, target, **run)
    assert size == target.stat().st_size > 0
    return target


@pytest.mark.parametrize("mime", AUDIO)
def test_every_audio_type_becomes_a_decodable_16_khz_mono_pcm_wav_of_the_same_length(tmp_path, mime):
    target = converted(tmp_path, "voice" if "ogg" in mime else "audio", mime)

    with av.open(str(target)) as wav:
        assert wav.format.name == "wav"
        (stream,) = wav.streams.audio
        assert (stream.codec_context.name, stream.codec_context.sample_rate, stream.codec_context.channels) == (
            "pcm_s16le",
            16_000,
            1,
        )
        samples = sum(frame.samples for frame in wav.decode(stream))
    assert 3.9 <= samples / 16_000 <= 4.2  # the generated recordings last 4 s
    assert target.read_bytes()[:4] == b"RIFF"


def test_a_webp_sticker_becomes_a_png_of_the_same_size_and_pixels(tmp_path):
    target = converted(tmp_path, "sticker", "image/webp")

    with Image.open(target) as png, Image.open(tmp_path / "original") as webp:
        assert png.format == "PNG" and png.size == webp.size == (512, 512)
        assert png.convert("RGBA").getpixel((256, 100)) == webp.convert("RGBA").getpixel((256, 100))


def test_a_3gpp_video_becomes_an_mp4_with_h264_video_and_aac_audio_that_decodes(tmp_path):
    target = converted(tmp_path, "video", "video/3gpp")

    with av.open(str(target)) as mp4:
        assert "mp4" in mp4.format.name
        video, audio = mp4.streams.video[0], mp4.streams.audio[0]
        assert (video.codec_context.name, video.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (video.codec_context.width, video.codec_context.height) == (176, 144)
        assert audio.codec_context.name == "aac"
        assert sum(1 for _ in mp4.decode(video)) == 30  # 2 s at 15 frames a second
    # +faststart: the index (moov) comes before the media data, so a browser starts playing before the download ends
    head = target.read_bytes()[:4096]
    assert head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head


@pytest.mark.parametrize(
    ("kind", "mime"),
    [("voice", "audio/ogg"), ("audio", "audio/amr"), ("sticker", "image/webp"), ("video", "video/3gpp")],
)
def test_a_corrupt_file_fails_with_conversion_failed_not_a_library_error(tmp_path, kind, mime):
    data = sample(kind, mime)
    corrupt = data[:16] + bytes(len(data) - 16)
    with pytest.raises(convert.ConversionFailed):
        converted(tmp_path, kind, mime, data=corrupt)


def test_a_wav_over_the_limit_stops_as_soon_as_it_would_pass_it(tmp_path):
    # 4 s of audio is 128,044 bytes of WAV
    with pytest.raises(convert.ConvertedTooLarge) as raised:
        converted(tmp_path, "voice", "audio/ogg", max_bytes=100_000)
    assert 100_000 < raised.value.size_bytes <= 100_000 + 48_000


def test_the_limit_defaults_to_connects_attachment_limit_read_when_called(tmp_path, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 50_000)
    with pytest.raises(convert.ConvertedTooLarge):
        converted(tmp_path, "audio", "audio/mpeg")


@pytest.mark.parametrize(
    ("mime", "expected"),
    [
        ("audio/ogg; codecs=opus", "audio/wav"),
        ("audio/mpeg", "audio/wav"),
        ("audio/aac", "audio/wav"),
        ("audio/amr", "audio/wav"),
        ("audio/mp4", "audio/wav"),
        ("image/webp", "image/png"),
        ("video/3gpp", "video/mp4"),
        ("image/jpeg", None),
        ("image/png", None),
        ("video/mp4", None),
        ("application/pdf", None),
        ("audio/wav", None),
        ("application/zip", None),
        ("", None),
    ],
)
def test_the_plan_follows_the_type_alone(mime, expected):
    conversion = convert.plan(mime)
    assert (conversion.content_type if conversion else None) == expected
    if conversion is not None:
        assert attachments.refusal(conversion.content_type, 1) is None


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("voice-1.ogg", ".wav", "voice-1.wav"),
        ("song.MP3", ".wav", "song.wav"),
        ("sticker-2.webp", ".png", "sticker-2.png"),
        ("clip", ".mp4", "clip.mp4"),
        ("notes.v1.final version", ".wav", "notes.v1.final version.wav"),
        (".ogg", ".wav", ".ogg.wav"),
        ("x" * 300 + ".ogg", ".wav", "x" * 252 + ".wav"),
    ],
)
def test_a_converted_file_keeps_its_name_with_the_new_extension(name, extension, expected):
    assert convert.converted_name(name, extension) == expected


@pytest.mark.parametrize(
    ("kind", "mime"),
    [("voice", "audio/ogg; codecs=opus"), ("audio", "audio/aac"), ("sticker", "image/webp"), ("video", "video/3gpp")],
)
def test_generated_samples_are_deterministic_and_about_the_size_asked(kind, mime):
    from sandbox import media_samples

    first = sample(kind, mime, 40)
    media_samples._sample.cache_clear()
    assert sample(kind, mime, 40) == first
    assert 30_000 <= len(first) <= 50_000


def test_an_animated_webp_sticker_becomes_an_animated_png_with_every_frame(tmp_path):
    frames = [Image.new("RGBA", (64, 64), (40 * i, 200, 255 - 40 * i, 255)) for i in range(4)]
    source = tmp_path / "animated.webp"
    frames[0].save(source, format="WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    target = tmp_path / "animated.png"

    convert.TO_PNG.run(source, target)

    with Image.open(target) as png:
        assert png.format == "PNG" and png.n_frames == 4 and png.is_animated


# ---------------------------------------------------------------------- the other direction: agents' files for WhatsApp


def test_a_transparent_webp_or_gif_becomes_a_white_backed_jpeg_of_the_same_size(tmp_path):
    for mime in ("image/webp", "image/gif"):
        source, target = tmp_path / "original", tmp_path / "converted.jpg"
        if mime == "image/gif":
            Image.new("P", (64, 48), 3).save(source, format="GIF")
        else:
            source.write_bytes(sample("sticker", mime))
        convert.TO_JPEG.run(source, target)
        with Image.open(target) as jpeg, Image.open(source) as original:
            assert (jpeg.format, jpeg.mode) == ("JPEG", "RGB")
            assert jpeg.size == original.size
            if mime == "image/webp":  # the sticker's transparent corner is white, not black
                assert min(jpeg.getpixel((0, 0))) > 240


def test_an_iphones_heic_photo_becomes_a_jpeg_of_the_same_size(tmp_path):
    """HEIC is what an iPhone shares by default; WhatsApp takes only JPEG and PNG pictures (End User Messaging
    Social User Guide, "Supported media file types"). Pillow 13 alone cannot open it (`Image.open` raises
    UnidentifiedImageError), pi-heif's libheif reader can (the sandbox writes the sample with pillow-heif's
    encoder, a test-only package)."""
    source, target = tmp_path / "IMG_0042.HEIC", tmp_path / "converted.jpg"
    source.write_bytes(sample("image", "image/heic"))
    assert source.read_bytes()[4:12] == b"ftypheic"
    convert.TO_JPEG.run(source, target)
    with Image.open(target) as jpeg:
        assert (jpeg.format, jpeg.mode, jpeg.size) == ("JPEG", "RGB", (512, 512))
        assert jpeg.getpixel((256, 120))[0] > 200  # the picture, not a blank: the yellow face's red channel


def test_a_wav_becomes_mono_aac_in_an_m4a_of_the_same_length(tmp_path):
    source, target = tmp_path / "original.wav", tmp_path / "converted.m4a"
    source.write_bytes(sample("audio", "audio/wav"))
    convert.TO_M4A.run(source, target)
    with av.open(str(source)) as wav, av.open(str(target)) as m4a:
        (stream,) = m4a.streams.audio
        assert (stream.codec_context.name, stream.codec_context.channels) == ("aac", 1)
        assert float(m4a.duration / av.time_base) == pytest.approx(float(wav.duration / av.time_base), abs=0.1)


def test_a_quicktime_video_becomes_an_h264_mp4(tmp_path):
    source, target = tmp_path / "original.mov", tmp_path / "converted.mp4"
    source.write_bytes(sample("video", "video/quicktime"))
    convert.TO_MP4.run(source, target)
    with av.open(str(target)) as mp4:
        assert {s.codec_context.name for s in mp4.streams} == {"h264", "aac"}
