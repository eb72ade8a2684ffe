"""What becomes of a file the agent shares in the chat, on its way to WhatsApp: the plan, no I/O (`send_file` runs it).

WhatsApp takes only its own media types, each up to a size (`WHATSAPP_MEDIA_LIMITS`); Connect lets agents share more. So
pictures WhatsApp does not take and HEIC/HEIF photos become JPEG, QuickTime video MP4, WAV M4A
(`whatsapp_buffer.convert`'s libraries); types WhatsApp does not take, and files over its limit for their type (checked
again after conversion), are refused before anything is uploaded, with the reason told to the agent. It names
`convert`'s conversions, so the layers count it with the use cases, not the pure rules. The types, limits and their
sources: docs/architecture.md#outbound.
"""

from __future__ import annotations

from dataclasses import dataclass

from whatsapp_buffer import convert
from whatsapp_buffer.attachments import canonical_type

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
