"""Conversion of WhatsApp media Connect chat refuses into a type it attaches, file to file (`/tmp`, never whole files in
memory where the libraries allow it): voice notes and audio -> WAV (PCM 16-bit, 16 kHz, mono, as the AWS sample does;
stopped as soon as the WAV would pass `max_bytes`), WebP -> PNG (an animated sticker: an animated PNG), 3GPP video ->
MP4 (H.264 + AAC, `+faststart`). The choice is made from the MIME type End User Messaging reports (`plan`), before
anything is downloaded. PyAV, Pillow and pi-heif live in the media layer; they are imported only when a conversion runs.
Formats and why: docs/architecture.md#inbound.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from whatsapp_buffer import attachments

WAV_RATE = 16_000
MAX_SOURCE_BYTES = 32_000_000
"""The largest original the bridge downloads to convert: WhatsApp sends audio and video up to 16 MB (Meta Cloud API
media limits); twice that leaves room without letting one file fill the function's /tmp or its time."""


class ConversionFailed(Exception):
    """A file could not be converted (corrupt, truncated, or a codec the libraries cannot decode)."""

    source_bytes: int = 0
    """The original's size, for the line that names it."""


class ConvertedTooLarge(ConversionFailed):
    """The converted file would be larger than Connect's attachment limit; `size_bytes` is as far as it got."""

    def __init__(self, size_bytes: int) -> None:
        super().__init__(f"converted file over {attachments.MAX_ATTACHMENT_BYTES} bytes")
        self.size_bytes = size_bytes


@dataclass(frozen=True)
class Conversion:
    """What a file of one type becomes: Connect's MIME type for it, its extension and how it is made."""

    content_type: str
    extension: str
    method: str

    def run(self, source: Path, target: Path, max_bytes: int | None = None) -> int:
        """Convert `source` into `target`; the target's size in bytes. ConversionFailed (ConvertedTooLarge when the
        result would pass `max_bytes`, by default Connect's attachment limit)."""
        if max_bytes is None:
            max_bytes = attachments.MAX_ATTACHMENT_BYTES
        try:
            _METHODS[self.method](source, target, max_bytes)
        except ConversionFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - FFmpeg's and Pillow's errors of a bad file are many and unrelated
            raise ConversionFailed(f"{self.method}: {type(exc).__name__}") from exc
        size = target.stat().st_size
        if size > max_bytes:
            raise ConvertedTooLarge(size)
        return size


TO_WAV = Conversion("audio/wav", ".wav", "wav")
TO_PNG = Conversion("image/png", ".png", "png")
TO_MP4 = Conversion("video/mp4", ".mp4", "mp4")

CONVERSIONS = {
    "audio/ogg": TO_WAV,
    "audio/opus": TO_WAV,
    "audio/mpeg": TO_WAV,
    "audio/mp3": TO_WAV,
    "audio/aac": TO_WAV,
    "audio/x-aac": TO_WAV,
    "audio/amr": TO_WAV,
    "audio/mp4": TO_WAV,
    "audio/m4a": TO_WAV,
    "audio/x-m4a": TO_WAV,
    "image/webp": TO_PNG,
    "video/3gpp": TO_MP4,
    "video/3gpp2": TO_MP4,
}
"""Each type WhatsApp sends that Connect refuses, and what it becomes (Meta Cloud API's supported media types)."""


def plan(content_type: str) -> Conversion | None:
    """The conversion a file of `content_type` needs; None when it passes as it is or cannot be converted."""
    return CONVERSIONS.get(attachments.canonical_type(content_type))


def converted_name(name: str, extension: str) -> str:
    """`voice-1.ogg` -> `voice-1.wav`; a name without a short extension gets `extension` appended."""
    stem, dot, old = name.rpartition(".")
    base = stem if dot and stem and 0 < len(old) <= 5 and old.isalnum() else name
    return f"{base[: 256 - len(extension)]}{extension}"


def _to_wav(source: Path, target: Path, max_bytes: int) -> None:
    import av

    budget = max(0, max_bytes - 44) // 2  # samples after the 44-byte RIFF header
    written = 0
    with av.open(str(source)) as inp, av.open(str(target), "w", format="wav") as out:
        if not inp.streams.audio:
            raise ConversionFailed("no audio stream")
        stream = out.add_stream("pcm_s16le", rate=WAV_RATE, layout="mono")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=WAV_RATE)
        # The decoded frames, then None: what the resampler still holds.
        for frame in itertools.chain(inp.decode(inp.streams.audio[0]), [None]):
            for mono in resampler.resample(frame):
                written += mono.samples
                if written > budget:
                    raise ConvertedTooLarge(44 + written * 2)
                out.mux(stream.encode(mono))
        out.mux(stream.encode(None))
        if written == 0:
            raise ConversionFailed("no audio decoded")


def _to_png(source: Path, target: Path, max_bytes: int) -> None:
    from PIL import Image

    with Image.open(source) as image:
        image.load()
        animated = getattr(image, "n_frames", 1) > 1
        image.save(target, format="PNG", save_all=animated, optimize=False)


def _to_mp4(source: Path, target: Path, max_bytes: int) -> None:
    import av

    with (
        av.open(str(source)) as inp,
        av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        if not inp.streams.video:
            raise ConversionFailed("no video stream")
        video_in = inp.streams.video[0]
        rate = video_in.average_rate or video_in.guessed_rate or Fraction(15)
        video = out.add_stream("libx264", rate=rate)
        # yuv420p wants even dimensions; 3GPP's 176x144 and 352x288 already are.
        video.width = video_in.codec_context.width // 2 * 2
        video.height = video_in.codec_context.height // 2 * 2
        video.pix_fmt = "yuv420p"
        # superfast: a 60 s CIF clip in 1.6 s on one benchmark core against veryfast's 1.9 s, for 7 % more bytes; the
        # inbound function's CPU (a fraction of a vCPU at its memory size) makes time the scarcer of the two.
        video.options = {"preset": "superfast", "crf": "26"}
        streams: list[av.stream.Stream] = [video_in]
        audio = resampler = None
        frames = samples = 0
        if inp.streams.audio:
            audio_in = inp.streams.audio[0]
            audio = out.add_stream("aac", rate=audio_in.codec_context.sample_rate or 8000, layout="mono")
            resampler = av.AudioResampler(format="fltp", layout="mono", rate=audio.rate)
            streams.append(audio_in)
        for packet in inp.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    picture = frame.reformat(video.width, video.height, "yuv420p")
                    picture.pts, picture.time_base = frames, 1 / Fraction(rate)
                    frames += 1
                    out.mux(video.encode(picture))
                elif isinstance(frame, av.AudioFrame) and audio is not None and resampler is not None:
                    for chunk in resampler.resample(frame):
                        chunk.pts, chunk.time_base = samples, Fraction(1, audio.rate)
                        samples += chunk.samples
                        out.mux(audio.encode(chunk))
            if target.exists() and target.stat().st_size > max_bytes:
                raise ConvertedTooLarge(target.stat().st_size)
        out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))


def _to_jpeg(source: Path, target: Path, max_bytes: int) -> None:
    from pi_heif import register_heif_opener
    from PIL import Image, ImageOps

    register_heif_opener()  # HEIC/HEIF: libheif inside pi-heif's wheel; Pillow alone cannot open them
    with Image.open(source) as image:
        image.seek(0)  # an animated GIF or WebP: its first frame
        picture = ImageOps.exif_transpose(image)
        if picture.mode in ("RGBA", "LA", "P", "PA"):
            # JPEG has no transparency: flatten onto white, as a viewer shows it.
            rgba = picture.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            picture = flat
        picture.convert("RGB").save(target, format="JPEG", quality=85, optimize=True)


def _to_m4a(source: Path, target: Path, max_bytes: int) -> None:
    """AAC in an MP4 container (`audio/mp4`), mono at the source's rate (at most 48 kHz)."""
    import av

    with av.open(str(source)) as inp, av.open(str(target), "w", format="ipod") as out:
        if not inp.streams.audio:
            raise ConversionFailed("no audio stream")
        rate = min(inp.streams.audio[0].codec_context.sample_rate or 16_000, 48_000)
        stream = out.add_stream("aac", rate=rate, layout="mono")
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
        samples = 0
        for frame in inp.decode(inp.streams.audio[0]):
            for chunk in resampler.resample(frame):
                chunk.pts, chunk.time_base = samples, Fraction(1, rate)
                samples += chunk.samples
                out.mux(stream.encode(chunk))
            if target.exists() and target.stat().st_size > max_bytes:
                raise ConvertedTooLarge(target.stat().st_size)
        for chunk in resampler.resample(None):
            chunk.pts, chunk.time_base = samples, Fraction(1, rate)
            samples += chunk.samples
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
        if samples == 0:
            raise ConversionFailed("no audio decoded")


TO_JPEG = Conversion("image/jpeg", ".jpg", "jpeg")
TO_M4A = Conversion("audio/mp4", ".m4a", "m4a")
"""For the other direction (an agent's file WhatsApp refuses: `outbound.file_plan`)."""

_METHODS = {"wav": _to_wav, "png": _to_png, "mp4": _to_mp4, "jpeg": _to_jpeg, "m4a": _to_m4a}
