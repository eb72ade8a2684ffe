"""Function `outbound`: Connect chat streaming (SNS out-topic) -> WhatsApp (use case: `whatsapp_buffer.outbound.send_reply`).

A malformed body raises `MalformedEvent`: SNS invokes asynchronously, so Lambda's retries and the DLQ keep it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from whatsapp_buffer import bootstrap
from whatsapp_buffer.observability import SNS_MESSAGE_ID, lambda_handler
from whatsapp_buffer.outbound.send_reply import Outbound, ReplySender, parse_record

installed: bootstrap.Installed[Outbound] = bootstrap.Installed(bootstrap.outbound_from_env)
reset = installed.reset


def configure(relay: ReplySender, persistence: BasePersistenceLayer) -> Outbound:
    """Install the relay and idempotency store the handler uses (tests and the sandbox inject their own)."""
    return installed.install(bootstrap.outbound(relay, persistence))


@lambda_handler(correlation_id_path=SNS_MESSAGE_ID)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outbound = installed.get()
    outbound.idempotency.register_lambda_context(context)
    return {"outcomes": [outbound.process(parse_record(record)) for record in SNSEvent(event).records]}
