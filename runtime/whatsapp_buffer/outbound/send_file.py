"""Relay a file the agent shares to WhatsApp: fetch it from the chat, convert it when WhatsApp needs another type,
upload it to End User Messaging and send it. `file_plan` plans what becomes of each file (pure); this module runs
the plan against the services. Kept apart from `send_reply` because a file is the one kind of reply that moves
bytes through three services and a conversion, and each step can refuse it for its own reason (told to the agent
through `tell_agent`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from whatsapp_buffer import convert, render
from whatsapp_buffer.errors import ChatSessionGone, MediaUnavailable, WhatsAppRefused
from whatsapp_buffer.model import Session, media_kind_for
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.outbound import file_plan, streaming
from whatsapp_buffer.outbound.ports import ChatParticipant, MediaStore, WhatsApp
from whatsapp_buffer.outbound.streaming import Attachment, StreamingEvent
from whatsapp_buffer.outbound.tell_agent import REFUSED_BY_WHATSAPP, AgentNotices
from whatsapp_buffer.storage_keys import outbound_key


class FileSender:
    """One agent file at a time, from the chat to the customer's WhatsApp."""

    def __init__(
        self,
        *,
        participant: ChatParticipant,
        whatsapp: WhatsApp,
        media: MediaStore,
        notices: AgentNotices,
        note_said: Callable[[str, str, str, str], None],
    ) -> None:
        """`note_said(conversation key, WhatsApp message id, file name, kind)`: what was sent, for the outbound
        function to keep."""
        self._participant = participant
        self._whatsapp = whatsapp
        self._media = media
        self._notices = notices
        self._note_said = note_said

    def relay(self, session: Session, to: str, event: StreamingEvent, attachment: Attachment, index: int) -> bool:
        """Send one agent file (converted when WhatsApp needs another type); False when it did not reach the
        customer (the agent is told why)."""
        origination = session.origination_phone_number_id
        if attachment.status != streaming.APPROVED:
            logger.info("attachment not approved; skipped", attachment_id=attachment.attachment_id)
            return True
        try:
            data = self._download(session, attachment.attachment_id)
        except (ChatSessionGone, MediaUnavailable):
            logger.warning("agent attachment not downloadable", attachment_id=attachment.attachment_id)
            self._notices.file_refused(session, event, attachment, index, None)
            try:
                self._whatsapp.send_text(origination, to, render.agent_file_notice(attachment.name))
            except WhatsAppRefused:
                logger.warning("file notice to the customer refused", attachment_id=attachment.attachment_id)
            return False
        plan = file_plan.plan(attachment.content_type, len(data))
        if plan.refusal:
            self._notices.file_refused(session, event, attachment, index, plan.refusal)
            return False
        content_type, name = attachment.content_type, attachment.name
        if plan.conversion is not None:
            try:
                data = _convert(data, plan.conversion, plan.limit(content_type))
            except convert.ConvertedTooLarge as too_large:
                self._notices.file_refused(
                    session,
                    event,
                    attachment,
                    index,
                    file_plan.too_large(plan.conversion.content_type, too_large.size_bytes),
                )
                return False
            except convert.ConversionFailed:
                self._notices.file_refused(
                    session, event, attachment, index, "it could not be converted to a type WhatsApp accepts"
                )
                return False
            content_type = plan.conversion.content_type
            name = convert.converted_name(name, plan.conversion.extension)
            count("AgentFilesConverted")
        try:
            key = outbound_key(event.contact_id, attachment.attachment_id)
            self._media.put(key, data, content_type)
            media_id = self._whatsapp.post_media(origination, self._media.bucket, key)
        except MediaUnavailable:
            self._notices.file_refused(session, event, attachment, index, None, REFUSED_BY_WHATSAPP)
            return False
        try:
            sent_id = self._whatsapp.send_media(origination, to, media_kind_for(content_type), media_id, filename=name)
            self._note_said(session.conversation, sent_id, name or attachment.name, media_kind_for(content_type))
        except WhatsAppRefused as refused:
            self._notices.refused(session, event, refused, "file", attachment.name, index, content_type)
            return False
        return True

    def _download(self, session: Session, attachment_id: str) -> bytes:
        return self._participant.with_renewed_connection(
            session.connection_token,
            session.participant_token,
            lambda token: self._participant.get_attachment(token, attachment_id),
        )


def _convert(data: bytes, conversion: convert.Conversion, max_bytes: int) -> bytes:
    """Run a conversion file to file in the function's /tmp (the libraries read and write files)."""
    with tempfile.TemporaryDirectory() as directory:
        source, target = Path(directory) / "source", Path(directory) / f"target{conversion.extension}"
        source.write_bytes(data)
        conversion.run(source, target, max_bytes)
        return target.read_bytes()
