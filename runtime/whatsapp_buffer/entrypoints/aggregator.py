"""Function `aggregator`: the raw table's stream on a tumbling window -> bursts (use case: `whatsapp_buffer.aggregator.flush`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from whatsapp_buffer import bootstrap
from whatsapp_buffer.observability import lambda_handler

installed = bootstrap.Installed(bootstrap.aggregator)
build = installed.build


@lambda_handler()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return installed.get().handle(DynamoDBStreamEvent(event))
