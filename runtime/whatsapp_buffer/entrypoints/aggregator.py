"""Function `aggregator`: the raw table's stream on a tumbling window -> bursts (use case: `whatsapp_buffer.aggregator.flush`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from whatsapp_buffer import bootstrap
from whatsapp_buffer.entrypoints.recognise import refusal
from whatsapp_buffer.observability import lambda_handler

installed = bootstrap.Installed(bootstrap.aggregator)
build = installed.build

SERVES = "the raw table's stream on a tumbling window (DynamoDB)"


def is_window_event(event: Any) -> bool:
    """A tumbling window's invoke: `isFinalInvokeForWindow` and `Records` (none on the final invoke), no record
    naming a source other than a DynamoDB stream."""
    if not isinstance(event, dict) or not isinstance(event.get("isFinalInvokeForWindow"), bool):
        return False
    records = event.get("Records")
    return isinstance(records, list) and all(
        isinstance(record, dict) and record.get("eventSource", "aws:dynamodb") == "aws:dynamodb" for record in records
    )


@lambda_handler()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    aggregator = installed.get()
    if not is_window_event(event):
        raise refusal("aggregator", [SERVES], event)
    return aggregator.handle(DynamoDBStreamEvent(event))
