"""Pure: which files Amazon Connect chat accepts as attachments, so the bridge never fetches what it cannot attach.

Source: Amazon Connect Administrator Guide, "Amazon Connect feature specifications" (feature-limits.html): "File
types supported for attachments to cases, chats, or tasks | .csv, .doc, .docx, .heic, .jfif, .jpeg, .jpg, .mov, .mp4,
.pdf, .png, .ppt, .pptx, .rtf, .txt, .wav, .xls, .xlsx" and "Maximum file size for an attachment to a case, chat, or
task | 20 MB (configurable up to 100 MB)". Administrators may add extensions and raise the size on their instance
(UpdateAttachedFilesConfiguration); the bridge assumes the defaults, so what it attaches works on every instance.
The API takes a MIME type and a file name: the bridge sends a listed type and a name with the matching extension.
"""

from __future__ import annotations

MAX_ATTACHMENT_BYTES = 20_000_000
""""20 MB", read as the smaller 20,000,000 bytes."""

EXTENSION_FOR_TYPE = {
    "text/csv": ".csv",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "image/heic": ".heic",
    "image/jpeg": ".jpg",
    "video/quicktime": ".mov",
    "video/mp4": ".mp4",
    "application/pdf": ".pdf",
    "image/png": ".png",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/rtf": ".rtf",
    "text/plain": ".txt",
    "audio/wav": ".wav",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
"""Each attachable MIME type and the extension Connect lists for it."""
_ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "text/rtf": "application/rtf",
}
_EXTENSIONS = frozenset(EXTENSION_FOR_TYPE.values()) | {".jpeg", ".jfif"}

TYPE_NOT_ACCEPTED = "type"
TOO_LARGE = "size"


def canonical_type(content_type: str) -> str:
    """`audio/x-wav` and other spellings as the one type this module lists."""
    bare = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def refusal(content_type: str, size_bytes: int) -> str | None:
    """Why Connect would refuse this file (`TYPE_NOT_ACCEPTED` or `TOO_LARGE`), or None when it is attachable."""
    if canonical_type(content_type) not in EXTENSION_FOR_TYPE:
        return TYPE_NOT_ACCEPTED
    if size_bytes > MAX_ATTACHMENT_BYTES:
        return TOO_LARGE
    return None


def attachment_name(name: str, content_type: str) -> str:
    """`name` with the extension Connect lists for `content_type` (kept when it already carries a listed one)."""
    _, dot, extension = name.rpartition(".")
    if dot and f".{extension.lower()}" in _EXTENSIONS:
        return name
    wanted = EXTENSION_FOR_TYPE.get(canonical_type(content_type), "")
    return f"{name}{wanted}"[:256]
