"""Function `sweeper`: every minute (EventBridge Scheduler) -> stranded conversations back into the flow (use case:
`whatsapp_buffer.aggregator.sweep`)."""

from __future__ import annotations

from typing import Any

from whatsapp_buffer import bootstrap
from whatsapp_buffer.observability import lambda_handler

installed = bootstrap.Installed(bootstrap.sweeper)
build = installed.build


@lambda_handler()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # The schedule's event says nothing the sweep needs: the time is the clock's, the work is in the index.
    return {"stranded": installed.get().sweep()}
