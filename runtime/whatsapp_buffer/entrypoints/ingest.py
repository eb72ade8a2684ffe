"""Function `ingest`: End User Messaging's SNS events -> the raw table (use case: `whatsapp_buffer.ingest.accept`)."""

from __future__ import annotations

from typing import Any

from whatsapp_buffer import bootstrap
from whatsapp_buffer.entrypoints.recognise import sns_notifications
from whatsapp_buffer.observability import SNS_MESSAGE_ID, lambda_handler

installed = bootstrap.Installed(bootstrap.ingest)
build = installed.build

SERVES = "End User Messaging's topic (SNS)"


@lambda_handler(correlation_id_path=SNS_MESSAGE_ID)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    ingest = installed.get()
    return ingest.handle(sns_notifications("ingest", SERVES, event))
