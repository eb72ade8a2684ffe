"""Function `sweeper`: every minute (EventBridge Scheduler) -> stranded conversations back into the flow (use case:
`whatsapp_buffer.aggregator.sweep`)."""

from __future__ import annotations

from typing import Any

from whatsapp_buffer import bootstrap
from whatsapp_buffer.adapters.raw_table import RawStore
from whatsapp_buffer.aggregator.sweep import Sweeper
from whatsapp_buffer.function_settings import SweeperSettings
from whatsapp_buffer.observability import lambda_handler

installed: bootstrap.Installed[Sweeper] = bootstrap.Installed(bootstrap.sweeper)


def build(settings: SweeperSettings | None = None, store: RawStore | None = None) -> Sweeper:
    """Build the use case (from the environment, or from what a test or the sandbox hands in) and install it."""
    return installed.install(bootstrap.sweeper(settings, store))


@lambda_handler()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # The schedule's event says nothing the sweep needs: the time is the clock's, the work is in the index.
    return {"stranded": installed.get().sweep()}
