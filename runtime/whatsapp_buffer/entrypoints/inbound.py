"""Function `inbound`: the bursts FIFO queue -> Amazon Connect chat (use case: `whatsapp_buffer.deliver.send_burst`).

Powertools' `SqsFifoPartialProcessor(skip_group_on_error=True)`: a failing burst and every later burst of the same
conversation in the batch are reported as batch item failures, so order is kept and other conversations go on; an
all-failed batch is reported like any other (not raised), one response shape for Lambda and the sandbox. A body that is
not a Burst fails the same way and reaches the DLQ after maxReceiveCount receives, where it can be inspected (it only
delays its own conversation, and a malformed burst is an aggregator bug worth keeping, not dropping).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from whatsapp_buffer import bootstrap
from whatsapp_buffer.deliver.send_burst import BurstDelivery, Inbound
from whatsapp_buffer.model import Burst
from whatsapp_buffer.observability import logger, metrics, reports_sdk_rejections

installed: bootstrap.Installed[Inbound] = bootstrap.Installed(bootstrap.inbound_from_env)
reset = installed.reset


def configure(delivery: BurstDelivery, persistence: BasePersistenceLayer) -> Inbound:
    """Install the delivery and idempotency store the handler uses (tests and the sandbox inject their own)."""
    return installed.install(bootstrap.inbound(delivery, persistence))

processor = SqsFifoPartialProcessor(skip_group_on_error=True)
processor.raise_on_entire_batch_failure = False


@reports_sdk_rejections
def record_handler(record: SQSRecord) -> dict[str, Any]:
    burst = Burst.from_json(record.body)
    logger.append_keys(burst_id=burst.burst_id, customer=burst.conversation.masked_customer)
    return installed.get().deliver_once(burst=burst)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    installed.get().idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
