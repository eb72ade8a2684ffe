"""Function `ingest`: End User Messaging's SNS events -> the raw table (use case: `whatsapp_buffer.ingest.accept`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent

from whatsapp_buffer import bootstrap
from whatsapp_buffer.observability import SNS_MESSAGE_ID, lambda_handler

installed = bootstrap.Installed(bootstrap.ingest)
build = installed.build


@lambda_handler(correlation_id_path=SNS_MESSAGE_ID)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return installed.get().handle(SNSEvent(event))
