"""What becomes of a file the agent shares in the chat, on its way to WhatsApp (pure: the plan; `send_file` runs it).

WhatsApp takes only its own media types, each up to a size (AWS End User Messaging Social User Guide, "Supported
media file types": audio `audio/aac`, `audio/amr`, `audio/mpeg`, `audio/mp4`, `audio/ogg` (Opus only) up to 16 MB;
documents `text/plain`, `application/pdf`, Word, Excel, PowerPoint up to 100 MB; images `image/jpeg`, `image/png` up
to 5 MB; video `video/mp4`, `video/3gpp` up to 16 MB; `image/webp` only as a sticker). Connect lets agents share
more (its attachment types include .heic, .mov, .wav, .csv, .rtf, up to 20 MB), so:

* converted with the media layer's libraries (`inbound.convert`): GIF, BMP, TIFF, WebP and AVIF pictures -> JPEG
  (Pillow); HEIC/HEIF photos, what an iPhone shares by default -> JPEG (Pillow with pi-heif's libheif reader:
  Pillow itself registers AVIF and WebP but no HEIC); QuickTime video -> MP4 (PyAV, H.264/AAC); WAV -> M4A
  (`audio/mp4`, AAC);
* refused before anything is uploaded, with the reason told to the agent: types WhatsApp does not take (CSV, RTF,
  ...), and files over WhatsApp's limit for their type (checked again after conversion).
"""

from __future__ import annotations

from dataclasses import dataclass

from whatsapp_buffer.inbound import convert
from whatsapp_buffer.inbound.attachments import canonical_type

_MB = 1024 * 1024
WHATSAPP_MEDIA_LIMITS: dict[str, int] = {
    "audio/aac": 16 * _MB,
    "audio/amr": 16 * _MB,
    "audio/mpeg": 16 * _MB,
    "audio/mp4": 16 * _MB,
    "audio/ogg": 16 * _MB,
    "text/plain": 100 * _MB,
    "application/pdf": 100 * _MB,
    "application/vnd.ms-powerpoint": 100 * _MB,
    "application/msword": 100 * _MB,
    "application/vnd.ms-excel": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * _MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * _MB,
    "image/jpeg": 5 * _MB,
    "image/png": 5 * _MB,
    "video/mp4": 16 * _MB,
    "video/3gpp": 16 * _MB,
}
"""What an agent's file may be sent to WhatsApp as, and its largest size (the user guide's table; stickers left out:
an agent's WebP is a picture, not a sticker)."""

CONVERSIONS: dict[str, convert.Conversion] = {
    "image/gif": convert.TO_JPEG,
    "image/bmp": convert.TO_JPEG,
    "image/tiff": convert.TO_JPEG,
    "image/webp": convert.TO_JPEG,
    "image/avif": convert.TO_JPEG,
    "image/heic": convert.TO_JPEG,
    "image/heif": convert.TO_JPEG,
    "video/quicktime": convert.TO_MP4,
    "audio/wav": convert.TO_M4A,
}


@dataclass(frozen=True)
class FilePlan:
    """Send as it is (`conversion` None, `refusal` None), convert first, or refuse with the reason for the agent."""

    conversion: convert.Conversion | None = None
    refusal: str | None = None

    def limit(self, content_type: str) -> int:
        """The largest file WhatsApp takes of what will be sent."""
        sent = self.conversion.content_type if self.conversion else canonical_type(content_type)
        return WHATSAPP_MEDIA_LIMITS[sent]


def plan(content_type: str, size_bytes: int) -> FilePlan:
    bare = canonical_type(content_type)
    if bare in CONVERSIONS:
        if size_bytes > convert.MAX_SOURCE_BYTES:
            return FilePlan(refusal=f"it is {_mb(size_bytes)}, too large to convert for WhatsApp")
        return FilePlan(conversion=CONVERSIONS[bare])
    limit = WHATSAPP_MEDIA_LIMITS.get(bare)
    if limit is None:
        return FilePlan(refusal=f"WhatsApp does not accept {bare or 'this type of'} files")
    if size_bytes > limit:
        return FilePlan(refusal=too_large(bare, size_bytes))
    return FilePlan()


def too_large(content_type: str, size_bytes: int) -> str:
    limit = WHATSAPP_MEDIA_LIMITS[canonical_type(content_type)]
    return f"it is {_mb(size_bytes)}; WhatsApp takes {content_type} files up to {limit // _MB} MB"


def _mb(size_bytes: int) -> str:
    return f"{size_bytes / _MB:.1f} MB"
