"""Function `ingest`: End User Messaging's SNS events -> the raw table (use case: `whatsapp_buffer.ingest.accept`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent

from whatsapp_buffer import bootstrap
from whatsapp_buffer.adapters.raw_table import RawStore
from whatsapp_buffer.function_settings import IngestSettings
from whatsapp_buffer.ingest.accept import Ingest
from whatsapp_buffer.observability import SNS_MESSAGE_ID, lambda_handler

installed: bootstrap.Installed[Ingest] = bootstrap.Installed(bootstrap.ingest)


def build(settings: IngestSettings | None = None, store: RawStore | None = None) -> Ingest:
    """Build the use case (from the environment, or from what a test or the sandbox hands in) and install it."""
    return installed.install(bootstrap.ingest(settings, store))


@lambda_handler(correlation_id_path=SNS_MESSAGE_ID)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    return installed.get().handle(SNSEvent(event))
