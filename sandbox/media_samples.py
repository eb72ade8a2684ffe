"""Real, decodable media for replay traces: what the fake End User Messaging serves for a `whatsapp` line's `kind`,
`mime_type` and `size_kb` (docs/sandbox.md#tracejsonl), so the inbound function's conversions
run on real files.

Audio is a speech-like tone encoded by PyAV whose length follows `size_kb`; stickers, images, video clips and a
minimal PDF are generated too, and a larger `size_kb` is reached with padding every decoder skips. Deterministic: the
same kind, type and size give the same bytes, cached per process. Formats and padding:
docs/sandbox.md#media-samples.
"""

from __future__ import annotations

import functools
import io
import math
import struct
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from av.audio.stream import AudioStream
    from av.container import OutputContainer
    from av.stream import Stream

_StreamT = TypeVar("_StreamT", bound="Stream")

MAX_SECONDS = 120
"""The longest recording generated; a larger `size_kb` pads instead of encoding minutes of audio per replay."""
DEFAULT_SECONDS = 4
_AUDIO = {
    # mime type: (container, codec, sample rate, bitrate in bits/s)
    "audio/ogg": ("ogg", "libopus", 48_000, 24_000),
    "audio/opus": ("ogg", "libopus", 48_000, 24_000),
    "audio/mpeg": ("mp3", "libmp3lame", 44_100, 64_000),
    "audio/aac": ("adts", "aac", 44_100, 64_000),
    "audio/amr": ("amr", "libopencore_amrnb", 8_000, 12_200),
    "audio/mp4": ("ipod", "aac", 44_100, 64_000),
    "audio/wav": ("wav", "pcm_s16le", 16_000, 256_000),
}
_DOCUMENT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def sample(kind: str, mime_type: str, size_kb: float = 0) -> bytes:
    """The bytes of a `kind` file of `mime_type`, about `size_kb` KB (1,000 bytes) when one is asked for."""
    return _sample(kind, mime_type.split(";", 1)[0].strip().lower(), int(float(size_kb or 0) * 1000))


@functools.lru_cache(maxsize=64)
def _sample(kind: str, bare: str, size: int) -> bytes:
    if bare in _AUDIO:
        container, codec, rate, bitrate = _AUDIO[bare]
        seconds = min(MAX_SECONDS, max(1, round(size * 8 / bitrate))) if size else DEFAULT_SECONDS
        data = _encode_audio(container, codec, rate, bitrate, seconds)
    elif bare == "image/webp":
        data = _image("WEBP", quality=80)
    elif bare in ("image/heic", "image/heif"):
        data = _image("HEIF", quality=60)
    elif bare.startswith("image/"):
        data = _image("JPEG", quality=85)
    elif bare in ("video/3gpp", "video/3gpp2"):
        data = _encode_video("3gp", "h263", (176, 144), "libopencore_amrnb", 8_000)
    elif bare == "video/quicktime":
        data = _encode_video("mov", "mpeg4", (320, 240), "aac", 44_100)
    elif bare.startswith("video/"):
        data = _encode_video("mp4", "mpeg4", (320, 240), "aac", 44_100)
    else:
        data = _DOCUMENT
    boxed = bare.startswith("video/") or bare in ("audio/mp4", "image/heic", "image/heif")  # ISO base media files
    return _pad(data, size, boxed=boxed)


def _pad(data: bytes, size: int, *, boxed: bool) -> bytes:
    missing = size - len(data)
    if missing <= 0:
        return data
    if boxed:
        missing = max(missing, 8)
        return data + struct.pack(">I", missing) + b"free" + bytes(missing - 8)
    return data + bytes(missing)


def _tone(rate: int, start: int, count: int) -> list[float]:
    out = []
    for n in range(start, start + count):
        t = n / rate
        envelope = 0.55 + 0.45 * math.sin(2 * math.pi * 4 * t)
        voice = (
            math.sin(2 * math.pi * 220 * t)
            + 0.5 * math.sin(2 * math.pi * 440 * t)
            + 0.25 * math.sin(2 * math.pi * 660 * t)
        )
        out.append(0.35 * envelope * voice)
    return out


def _encode_audio(container: str, codec: str, rate: int, bitrate: int, seconds: int) -> bytes:
    import av
    from av.audio.stream import AudioStream
    from av.codec.context import Flags

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"sample.{container}"
        with av.open(str(path), "w", format=container, options={"fflags": "+bitexact"}) as out:
            stream = _add_stream(out, codec, AudioStream, rate=rate, layout="mono")
            stream.bit_rate = bitrate
            stream.codec_context.flags |= Flags.bitexact
            stream.codec_context.thread_count = 1
            _mux_tone(out, stream, rate, seconds)
        return path.read_bytes()


def _add_stream(out: OutputContainer, codec: str, kind: type[_StreamT], **options: Any) -> _StreamT:
    """`out.add_stream(codec)` as the kind of stream `codec` encodes (PyAV types a codec named at run time as any)."""
    stream = out.add_stream(codec, **options)
    if not isinstance(stream, kind):
        raise ValueError(f"{codec} does not encode a {kind.__name__}")
    return stream


def _mux_tone(out: OutputContainer, stream: AudioStream, rate: int, seconds: int) -> None:
    """`seconds` of the speech-like tone into an audio stream, in tenth-of-a-second frames, then the encoder flushed."""
    import av
    import numpy as np

    chunk = rate // 10
    for start in range(0, rate * seconds, chunk):
        samples = np.array([_tone(rate, start, chunk)], dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def video_3gpp(seconds: int, size: tuple[int, int] = (176, 144)) -> bytes:
    """A longer 3GPP clip than the sandbox's (for the benchmark: how conversion time grows with length)."""
    return _encode_video("3gp", "h263", size, "libopencore_amrnb", 8_000, seconds)


def _encode_video(
    container: str, codec: str, size: tuple[int, int], audio_codec: str, audio_rate: int, seconds: int = 2
) -> bytes:
    import av
    import numpy as np
    from av.audio.stream import AudioStream
    from av.codec.context import Flags
    from av.video.stream import VideoStream

    width, height = size
    fps = 15
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"sample.{container}"
        with av.open(str(path), "w", format=container, options={"fflags": "+bitexact"}) as out:
            video = _add_stream(out, codec, VideoStream, rate=fps)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.codec_context.flags |= Flags.bitexact
            video.codec_context.thread_count = 1
            audio = _add_stream(out, audio_codec, AudioStream, rate=audio_rate, layout="mono")
            audio.codec_context.flags |= Flags.bitexact
            ys, xs = np.mgrid[0:height, 0:width]
            for index in range(seconds * fps):
                rgb = np.stack([(xs + index * 4) % 256, (ys + index * 2) % 256, (xs + ys) % 256], axis=-1)
                frame = av.VideoFrame.from_ndarray(rgb.astype(np.uint8), format="rgb24").reformat(format="yuv420p")
                frame.pts, frame.time_base = index, Fraction(1, fps)
                out.mux(video.encode(frame))
            out.mux(video.encode(None))
            _mux_tone(out, audio, audio_rate, seconds)
        return path.read_bytes()


def _image(fmt: str, quality: int) -> bytes:
    from PIL import Image, ImageDraw
    from pillow_heif import register_heif_opener

    register_heif_opener()

    image = Image.new("RGBA" if fmt == "WEBP" else "RGB", (512, 512), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((56, 56, 456, 456), fill=(255, 204, 51, 255), outline=(120, 80, 0, 255), width=12)
    draw.ellipse((170, 180, 220, 250), fill=(60, 40, 0, 255))
    draw.ellipse((292, 180, 342, 250), fill=(60, 40, 0, 255))
    draw.arc((150, 220, 362, 380), 20, 160, fill=(60, 40, 0, 255), width=14)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=quality, **({"method": 4} if fmt == "WEBP" else {}))
    return buffer.getvalue()
