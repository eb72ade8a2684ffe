"""Function `outreach`: a contact flow's *Invoke AWS Lambda function* block -> an approved WhatsApp template to the
customer (use case: `whatsapp_buffer.outreach.send_template`). The flow reads `$.External.result` (`sent` or
`refused`) and `$.External.reason`."""

from __future__ import annotations

from typing import Any

from whatsapp_buffer import bootstrap
from whatsapp_buffer.adapters.end_user_messaging import WhatsApp
from whatsapp_buffer.function_settings import OutreachSettings
from whatsapp_buffer.observability import lambda_handler
from whatsapp_buffer.outreach.send_template import Outreach

installed: bootstrap.Installed[Outreach] = bootstrap.Installed(bootstrap.outreach)


def build(settings: OutreachSettings | None = None, whatsapp: WhatsApp | None = None) -> Outreach:
    """Build the use case (from the environment, or from what a test or the sandbox hands in) and install it."""
    return installed.install(bootstrap.outreach(settings, whatsapp))


@lambda_handler(correlation_id_path="Details.ContactData.ContactId")
def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return installed.get().handle(event)
