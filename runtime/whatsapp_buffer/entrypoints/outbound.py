"""Function `outbound`: Connect chat streaming (SNS out-topic) -> WhatsApp (use case: `whatsapp_buffer.outbound.send_reply`).

An event that is not an SNS notification is refused (`UnsupportedEvent`); a malformed body raises
`MalformedEvent`: SNS invokes asynchronously, so Lambda's retries and the DLQ keep it.
"""

from __future__ import annotations

from typing import Any

from whatsapp_buffer import bootstrap
from whatsapp_buffer.entrypoints.recognise import sns_notifications
from whatsapp_buffer.observability import SNS_MESSAGE_ID, lambda_handler
from whatsapp_buffer.outbound.send_reply import parse_record

installed = bootstrap.Installed(bootstrap.outbound)
build = installed.build

SERVES = "the Connect chat streaming topic (SNS)"


@lambda_handler(correlation_id_path=SNS_MESSAGE_ID)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outbound = installed.get()
    notifications = sns_notifications("outbound", SERVES, event)
    outbound.idempotency.register_lambda_context(context)
    return {"outcomes": [outbound.process(parse_record(record)) for record in notifications.records]}
