"""The stack's six functions, keyed by their short names (runtime/whatsapp_buffer/settings.py): what each does and
how long it may run, the same on every stack. Each stage builds its own (`Stage.python_function`) and says only what is
its own: the resources in the function's environment and what the function may do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import components.stack_config  # noqa: F401 - puts runtime/ on sys.path for the declaration below
from whatsapp_buffer.settings import AGGREGATOR, INBOUND, INGEST, OUTBOUND, OUTREACH, OUTREACH_TIMEOUT_SECONDS, SWEEPER


@dataclass(frozen=True)
class Function:
    description: str
    """The function's description, and its role's after the function's physical name."""
    timeout_seconds: int


FUNCTIONS: Mapping[str, Function] = {
    INGEST: Function("stores each WhatsApp message and its conversation's control item", 30),
    AGGREGATOR: Function("flushes each quiet conversation's pending messages as one burst", 60),
    SWEEPER: Function("brings conversations pending past maxWaitSeconds back to the aggregator", 60),
    # Starting a chat, fetching media and uploading an attachment (up to 20 MB) fit well inside 120 s.
    INBOUND: Function("delivers each burst to the conversation's Amazon Connect chat", 120),
    # An agent's file (up to Connect's 20 MB) downloaded, converted for WhatsApp (MOV -> MP4 is the slow one) and
    # posted fits inside 120 s, as the inbound function's conversions do.
    OUTBOUND: Function("relays agent messages and attachments from Amazon Connect to WhatsApp", 120),
    OUTREACH: Function("sends an approved WhatsApp template a contact flow asks for", OUTREACH_TIMEOUT_SECONDS),
}
