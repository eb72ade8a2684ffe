"""Early preparation: a customer's voice note or audio file fetched, converted and sent to Amazon Transcribe as soon
as ingest has stored it, so that the transcript is usually ready when the customer has been quiet for bufferSeconds
and the burst is delivered.

The inbound function reads the raw table's stream (a second consumer beside the aggregator; its filter passes refusal
items, for `refusal_notices`, and on a stack that transcribes inserted voice and audio messages). For each recording it
writes the WAV to `prepared/<media id>.wav` and starts the job named after the media bucket and the media id; at
delivery, `customer_media` reuses that WAV and `burst_transcripts` finds the job already started (ConflictException)
and reads its state. Everything here is idempotent — the WAV's key and the job's name are functions of the media id —
and nothing here can lose a message: a preparation that fails is logged and counted, and the delivery fetches,
converts and transcribes the recording itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from whatsapp_buffer import convert
from whatsapp_buffer.errors import WhatsAppBufferError
from whatsapp_buffer.inbound.burst_transcripts import TRANSCRIBED_KINDS, Transcripts
from whatsapp_buffer.inbound.customer_media import CustomerMedia
from whatsapp_buffer.model import InboundMessage
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.storage_keys import MESSAGE, RECORD_TYPE


@dataclass(frozen=True)
class Preparation:
    media: CustomerMedia
    transcripts: Transcripts

    def handle(self, event: dict[str, Any]) -> dict[str, int]:
        """Prepare every inserted recording of a stream batch; never fails the batch (the delivery is the fallback)."""
        prepared = 0
        for record in DynamoDBStreamEvent(event).records:
            image = record.dynamodb.new_image if record.dynamodb else None
            if record.raw_event.get("eventName") != "INSERT" or not image or image.get(RECORD_TYPE) != MESSAGE:
                continue
            if image.get("kind") in TRANSCRIBED_KINDS:
                prepared += self.prepare(str(image.get("body") or ""))
        return {"prepared": prepared}

    def prepare(self, body: str) -> int:
        try:
            message = InboundMessage.from_dict(json.loads(body))
            logger.append_keys(message_id=message.message_id)
            wav_key = self.media.prepare(message)
            if wav_key is None:
                return 0
            self.transcripts.start(str(message.content["media_id"]), wav_key)
        except (WhatsAppBufferError, convert.ConversionFailed, ValueError) as exc:
            logger.warning("recording not prepared; the delivery will fetch it", error=str(exc))
            count("PreparationsFailed")
            return 0
        finally:
            logger.remove_keys(["message_id"])
        count("RecordingsPrepared")
        return 1
