"""Function `inbound`: the bursts FIFO queue -> Amazon Connect chat (use case: `whatsapp_buffer.inbound.send_burst`);
on a stack that transcribes, also the raw table's stream -> early preparation of recordings (`inbound.prepare`), and
Transcribe's "Transcribe Job State Change" events (EventBridge) -> transcripts owed to chats (`inbound.late_transcripts`),
and every minute (EventBridge Scheduler) the sweep of the transcripts still owed whose event never came.

Powertools' FIFO partial batch processor keeps each conversation's order; a body that is not a Burst fails like any
burst and reaches the DLQ after maxReceiveCount receives (an aggregator bug worth keeping, not dropping).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from whatsapp_buffer import bootstrap
from whatsapp_buffer.inbound.late_transcripts import LateTranscripts, is_sweep_event, is_transcribe_event
from whatsapp_buffer.inbound.prepare import Preparation
from whatsapp_buffer.inbound.send_burst import BurstSender, Inbound
from whatsapp_buffer.observability import lambda_handler, reports_sdk_rejections

installed: bootstrap.Installed[Inbound] = bootstrap.Installed(bootstrap.inbound_from_env)
reset = installed.reset


def configure(
    delivery: BurstSender,
    persistence: BasePersistenceLayer,
    preparation: Preparation | None = None,
    late_transcripts: LateTranscripts | None = None,
) -> Inbound:
    """Install the delivery and idempotency store the handler uses (tests and the sandbox inject their own)."""
    return installed.install(bootstrap.inbound(delivery, persistence, preparation, late_transcripts))


def _from_stream(event: dict[str, Any]) -> bool:
    records = event.get("Records") or [{}]
    return records[0].get("eventSource") == "aws:dynamodb"


@reports_sdk_rejections
def record_handler(record: SQSRecord) -> dict[str, Any]:
    return installed.get().deliver_body(record.body)


@lambda_handler()
def handler(event: dict[str, Any], context: Any) -> Mapping[str, Any]:
    inbound = installed.get()
    if is_transcribe_event(event):
        return inbound.transcription_finished(event)
    if is_sweep_event(event):
        late = inbound.late_transcripts
        return late.sweep() if late is not None else {"settled": 0, "failed": 0}
    if _from_stream(event):
        return inbound.prepare(event)
    inbound.idempotency.register_lambda_context(context)
    return process_partial_response(event, record_handler, inbound.processor, context)
