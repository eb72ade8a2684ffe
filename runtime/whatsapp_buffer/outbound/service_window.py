"""WhatsApp's 24-hour customer-service window, as the outbound function judges it before a send (pure; time passed in).

Meta: a free-form (non-template) message can be sent only within 24 hours of the customer's last message; after
that only an approved template goes (error 131047 "Re-engagement message": "Message failed to send because more
than 24 hours have passed since the customer last replied to this number."). End User Messaging accepts such a send
and reports the failure later in a `failed` status webhook (AWS's agent toolkit for End User Messaging Social: "Send
succeeds but not delivered | 24h window expired (freeform)"; a Meta Cloud API integrator's audit: "Meta accepts
synchronously, then rejects async via the on.status webhook"). So the outbound function does not wait for WhatsApp
to refuse: it withholds what the window no longer allows and tells the agent at once.
"""

from __future__ import annotations

HOURS = 24
WINDOW_SECONDS = HOURS * 3600
MARGIN_SECONDS = 120
"""The bridge records when the customer's message reached it, a few seconds after WhatsApp did; a reply in the
window's last two minutes is treated as outside it, so it is told to the agent rather than refused unseen."""


def window_open(customer_wrote_at: float | None, now: float) -> bool:
    """True while a free-form message may still reach the customer; True when the time is unknown (WhatsApp then
    decides, and a refusal it reports synchronously is still told to the agent)."""
    if customer_wrote_at is None:
        return True
    return now - customer_wrote_at < WINDOW_SECONDS - MARGIN_SECONDS


def hours_since(customer_wrote_at: float, now: float) -> int:
    """Whole hours since the customer last wrote, for the agent's notice."""
    return max(0, int((now - customer_wrote_at) // 3600))
