"""Function `outreach`: a contact flow's *Invoke AWS Lambda function* block -> an approved WhatsApp template to the
customer (use case: `whatsapp_buffer.outreach.send_template`). The flow reads `$.External.result` (`sent` or
`refused`) and `$.External.reason`."""

from __future__ import annotations

from typing import Any

from whatsapp_buffer import bootstrap
from whatsapp_buffer.observability import lambda_handler

installed = bootstrap.Installed(bootstrap.outreach)
build = installed.build


@lambda_handler(correlation_id_path="Details.ContactData.ContactId")
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return installed.get().handle(event)
