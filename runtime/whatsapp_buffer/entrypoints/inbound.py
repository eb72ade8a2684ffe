"""Function `inbound`: four triggers, one row each in `TRIGGERS` (use case: `whatsapp_buffer.inbound.send_burst`).

An event no row recognises is refused (`UnsupportedEvent`), never answered as an empty success. The bursts queue goes
through Powertools' FIFO partial batch processor, which keeps each conversation's order; a body that is not a burst
fails alone and reaches the DLQ after maxReceiveCount receives (an aggregator bug worth keeping, not dropping).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from whatsapp_buffer import bootstrap
from whatsapp_buffer.entrypoints.recognise import records_from, refusal
from whatsapp_buffer.inbound.late_transcripts import is_sweep_event, is_transcribe_event
from whatsapp_buffer.inbound.send_burst import Inbound
from whatsapp_buffer.observability import lambda_handler, reports_sdk_rejections

installed = bootstrap.Installed(bootstrap.inbound)
build = installed.build


class Trigger(NamedTuple):
    """One row of `TRIGGERS`: what invokes the function, how its event is recognised, what is done with it."""

    source: str
    recognises: Callable[[dict[str, Any]], bool]
    handle: Callable[[Inbound, dict[str, Any], Any], Mapping[str, Any]]


@reports_sdk_rejections
def record_handler(record: SQSRecord) -> dict[str, Any]:
    return installed.get().deliver_body(record.body)


def _deliver_bursts(inbound: Inbound, event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    inbound.idempotency.register_lambda_context(context)
    return process_partial_response(event, record_handler, inbound.processor, context)


def _read_raw_table_changes(inbound: Inbound, event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    return inbound.prepare(event)


def _settle_finished_transcription(inbound: Inbound, event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    return inbound.transcription_finished(event)


def _sweep_owed_transcripts(inbound: Inbound, event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    late = inbound.late_transcripts
    return late.sweep() if late is not None else {"settled": 0, "failed": 0}


TRIGGERS = (
    Trigger("the bursts FIFO queue (SQS)", records_from("aws:sqs"), _deliver_bursts),
    Trigger("the raw table's stream (DynamoDB)", records_from("aws:dynamodb"), _read_raw_table_changes),
    Trigger("Transcribe's job state changes (EventBridge)", is_transcribe_event, _settle_finished_transcription),
    Trigger("the owed transcripts' sweep (EventBridge Scheduler)", is_sweep_event, _sweep_owed_transcripts),
)
"""What invokes the inbound function, how its event is recognised and what the function does with it: bursts into
chats; recordings prepared early and WhatsApp's refusals told to the agent; transcripts owed to chats, settled on
Transcribe's event or by the sweep (these two only on a stack that transcribes)."""


def trigger_of(event: Any) -> Trigger:
    """The one row that recognises `event`, or `UnsupportedEvent` naming what the function serves."""
    if isinstance(event, dict):
        for trigger in TRIGGERS:
            if trigger.recognises(event):
                return trigger
    raise refusal("inbound", (t.source for t in TRIGGERS), event)


@lambda_handler()
def handler(event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    return trigger_of(event).handle(installed.get(), event, context)
