"""Which of a customer's files reach the agent as attachments, and the line that names a file that cannot.

End User Messaging is asked what a file is first (`metadataOnly`: type and size in KB); only a type on Connect's
attachment list within its size limit (`attachments`), or one the bridge converts into such a type (`convert`: voice
notes and audio -> WAV, WebP -> PNG, 3GPP -> MP4), is copied into the media bucket (`copy`) and attached. A converted file is made in a temporary directory, stored beside the original (`<key>.wav`)
and attached under the original's name with the new extension (`voice-1.wav`). Anything else — an unknown type, a
file too large before or after conversion, a fetch or conversion that fails — is one text line naming the file and
its size, never a silent drop, and never stops the rest of the burst.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from whatsapp_buffer import attachments, convert, render
from whatsapp_buffer.errors import AttachmentRejected, MediaUnavailable
from whatsapp_buffer.inbound.ports import ChatParticipant, MediaStore, WhatsApp
from whatsapp_buffer.model import Burst, InboundMessage, OutgoingItem
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.storage_keys import copy_prefix, inbound_key, prepared_key


@dataclass(frozen=True)
class Media:
    key: str
    name: str
    content_type: str
    kind: str


@dataclass(frozen=True)
class Part:
    """One participant call: a text, or an attachment whose bytes wait in the media bucket."""

    client_token: str
    text: str | None = None
    media: Media | None = None


class CustomerMedia:
    """Fetches a burst's media items into the media bucket and attaches them to the chat."""

    def __init__(
        self,
        *,
        whatsapp: WhatsApp,
        media: MediaStore,
        participant: ChatParticipant | None,
        reuse_prepared: bool = False,
    ) -> None:
        self._whatsapp = whatsapp
        self._media = media
        self._participant = participant
        self._reuse_prepared = reuse_prepared

    def prepare(self, message: InboundMessage) -> str | None:
        """A voice note or audio file copied and converted to WAV as soon as it is stored, at `prepared_key(media
        id).wav`, for its transcript to start before the burst is delivered; None when it cannot be (the delivery then
        handles it as any file). Asks `metadataOnly` first, like `fetch`."""
        media_id = str(message.content.get("media_id") or "")
        origin = message.origination_phone_number_id
        if not media_id:
            return None
        info = self._whatsapp.media_info(media_id, origin)
        content_type = render.bare_content_type(info.mime_type or message.content.get("mime_type"))
        conversion = convert.plan(content_type)
        if conversion is None or conversion.content_type != "audio/wav" or info.least_bytes > convert.MAX_SOURCE_BYTES:
            return None
        key = prepared_key(media_id)
        target_key = f"{key}{conversion.extension}"
        if self._media.exists(target_key):
            return target_key
        self._convert_stored(self.copy(media_id, origin, key, content_type), target_key, conversion)
        return target_key

    def _prepared(self, item: OutgoingItem, name: str) -> Media | None:
        """The WAV `prepare` made of this recording earlier, reused instead of fetching and converting again."""
        media_id = str(item.content.get("media_id") or "")
        if not (self._reuse_prepared and media_id and item.kind in ("voice", "audio")):
            return None
        key = f"{prepared_key(media_id)}.wav"
        if not self._media.exists(key):
            return None
        count("PreparedMediaReused")
        return Media(key=key, name=convert.converted_name(name, ".wav"), content_type="audio/wav", kind=item.kind)

    def fetch(self, burst: Burst, index: int, item: OutgoingItem) -> Part:
        """Ask End User Messaging what the file is first (`metadataOnly`); copy it to the media bucket only when
        Connect can attach it as it is or once converted (`convert.plan` of the reported type), otherwise one line
        names it for the agent."""
        token = burst.client_token(index)
        name = render.attachment_name(item.kind, item.content, index)
        media_id = str(item.content.get("media_id") or "")
        origin = burst.origination_phone_number_id
        unavailable = render.unavailable_reason(item.content)
        if not media_id:
            return self._notice(burst, index, item.kind, unavailable, name)
        prepared = self._prepared(item, name)
        if prepared is not None:
            return Part(token, media=prepared)
        try:
            info = self._whatsapp.media_info(media_id, origin)
        except MediaUnavailable:
            return self._notice(burst, index, item.kind, unavailable, name)
        content_type = render.bare_content_type(info.mime_type or item.content.get("mime_type"))
        conversion = convert.plan(content_type)
        if conversion is not None:
            if info.least_bytes > convert.MAX_SOURCE_BYTES:
                return self._notice(burst, index, item.kind, attachments.TOO_LARGE, name, info.approx_bytes)
        else:
            refusal = attachments.refusal(content_type, info.least_bytes)
            if refusal is not None:
                return self._notice(burst, index, item.kind, refusal, name, info.approx_bytes)
        key = inbound_key(burst.burst_id, index, media_id)
        try:
            stored = self.copy(media_id, origin, key, content_type)
        except MediaUnavailable:
            return self._notice(burst, index, item.kind, unavailable, name)
        if conversion is not None:
            return self._converted(burst, index, item.kind, stored, key, name, conversion, info.approx_bytes)
        attach_as = attachments.attachment_name(name, content_type)
        return Part(token, media=Media(key=stored, name=attach_as, content_type=content_type, kind=item.kind))

    def copy(self, media_id: str, origin: str, key: str, content_type: str) -> str:
        """The file copied from WhatsApp into the media bucket; the key it is stored at.

        Normally to a pre-signed PUT URL for exactly `key`. That URL carries the function's session token, whose
        length STS does not fix; when it is longer than GetWhatsAppMessageMedia takes (`upload_url_limit`), the
        file is copied under the key prefix `copy_prefix(key)` (`destinationS3File`) instead, and its key is that of
        the one object there (End User Messaging names it; MediaCopyNotFound when there is none or several)."""
        url = self._media.upload_url(key)
        if len(url) <= self._whatsapp.upload_url_limit:
            self._whatsapp.fetch_media(media_id, origin, url, content_type)
            return key
        prefix = copy_prefix(key)
        logger.info("media copied under a key prefix", prefix=prefix, url_length=len(url))
        self._whatsapp.fetch_media_under(media_id, origin, self._media.bucket, prefix)
        try:
            return self._media.only_key(prefix)
        except MediaUnavailable as exc:
            logger.error("media copy not found", prefix=prefix, error=str(exc))
            raise

    def _converted(
        self,
        burst: Burst,
        index: int,
        kind: str,
        source_key: str,
        key: str,
        name: str,
        conversion: convert.Conversion,
        size: int,
    ) -> Part:
        """The original (at `source_key`), downloaded from the media bucket, converted and stored again at
        `<key><extension>` (`key`: where `copy` was asked to put it)."""
        target_key = f"{key}{conversion.extension}"
        started = time.perf_counter()
        try:
            converted_bytes = self._convert_stored(source_key, target_key, conversion)
        except MediaUnavailable:
            return self._notice(burst, index, kind, render.UNAVAILABLE, name, size)
        except convert.ConvertedTooLarge as exc:
            return self._notice(burst, index, kind, render.CONVERTED_TOO_LARGE, name, exc.size_bytes)
        except convert.ConversionFailed as exc:
            logger.warning("media conversion failed", burst_id=burst.burst_id, item=index, error=str(exc))
            return self._notice(burst, index, kind, render.UNCONVERTIBLE, name, exc.source_bytes)
        logger.info(
            "media converted",
            burst_id=burst.burst_id,
            item=index,
            to=conversion.content_type,
            bytes=converted_bytes,
            seconds=round(time.perf_counter() - started, 3),
        )
        count("MediaConverted")
        media = Media(
            key=target_key,
            name=convert.converted_name(name, conversion.extension),
            content_type=conversion.content_type,
            kind=kind,
        )
        return Part(burst.client_token(index), media=media)

    def _convert_stored(self, key: str, target_key: str, conversion: convert.Conversion) -> int:
        """The object at `key` downloaded, converted in a temporary directory and stored at `target_key`; its size.
        Raises MediaUnavailable, convert.ConvertedTooLarge or convert.ConversionFailed (with the original's size)."""
        with tempfile.TemporaryDirectory(prefix="media-") as scratch:
            source, target = Path(scratch) / "original", Path(scratch) / f"converted{conversion.extension}"
            self._media.download(key, str(source))
            try:
                converted_bytes = conversion.run(source, target)
            except convert.ConversionFailed as exc:
                exc.source_bytes = source.stat().st_size
                raise
            # At most Connect's 20 MB, which `attach` holds in memory for the upload to Connect anyway.
            self._media.put(target_key, target.read_bytes(), conversion.content_type)
        return converted_bytes

    @staticmethod
    def _notice(burst: Burst, index: int, kind: str, reason: str, name: str, size_bytes: int | None = None) -> Part:
        logger.warning("media not attached", burst_id=burst.burst_id, item=index, reason=reason)
        count("MediaNotices")
        return Part(burst.client_token(index), text=render.media_notice(kind, reason, name, size_bytes))

    def attach(self, connection_token: str, media: Media, client_token: str) -> str | None:
        """Attach the file; a text notice to send instead when that is impossible."""
        if self._participant is None:
            raise TypeError("this CustomerMedia was built to fetch media only, without a participant to attach with")
        try:
            data = self._media.get(media.key)
        except MediaUnavailable:
            return render.media_notice(media.kind, render.UNAVAILABLE, media.name)
        if attachments.refusal(media.content_type, len(data)) is not None:
            return render.media_notice(media.kind, attachments.TOO_LARGE, media.name, len(data))
        try:
            self._participant.send_attachment(connection_token, media.name, media.content_type, data, client_token)
        except AttachmentRejected:
            return render.media_notice(media.kind, render.REJECTED, media.name)
        return None
