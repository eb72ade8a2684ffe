"""Function `aggregator`: the raw table's stream on a tumbling window -> bursts (use case: `whatsapp_buffer.aggregator.flush`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from whatsapp_buffer import bootstrap
from whatsapp_buffer.adapters.bursts_queue import BurstsQueue
from whatsapp_buffer.adapters.raw_table import RawStore
from whatsapp_buffer.aggregator.flush import Aggregator
from whatsapp_buffer.function_settings import AggregatorSettings
from whatsapp_buffer.observability import lambda_handler

installed: bootstrap.Installed[Aggregator] = bootstrap.Installed(bootstrap.aggregator)


def build(
    settings: AggregatorSettings | None = None, store: RawStore | None = None, queue: BurstsQueue | None = None
) -> Aggregator:
    """Build the use case (from the environment, or from what a test or the sandbox hands in) and install it."""
    return installed.install(bootstrap.aggregator(settings, store, queue))


@lambda_handler()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return installed.get().handle(DynamoDBStreamEvent(event))
