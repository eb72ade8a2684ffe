"""Function `ingest`: End User Messaging's SNS events -> the raw table (use case: `whatsapp_buffer.ingest.accept`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent

from whatsapp_buffer import bootstrap
from whatsapp_buffer.entrypoints.recognise import records_from, refusal
from whatsapp_buffer.observability import SNS_MESSAGE_ID, lambda_handler

installed = bootstrap.Installed(bootstrap.ingest)
build = installed.build

SERVES = "End User Messaging's topic (SNS)"
is_sns_notification = records_from("aws:sns", key="EventSource")


@lambda_handler(correlation_id_path=SNS_MESSAGE_ID)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    ingest = installed.get()
    if not is_sns_notification(event):
        raise refusal("ingest", [SERVES], event)
    return ingest.handle(SNSEvent(event))
