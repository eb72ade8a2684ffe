"""What the bridge tells the agent, in the chat, when something the agent sent did not reach the customer (pure).

A notice names what did not arrive and why, in a line short enough to read at a glance. It starts with `PREFIX` so
the agent never mistakes it for the customer's words (Connect shows it in the customer's row; see `relay_reply`).
"""

from __future__ import annotations

PREFIX = "[WhatsApp bridge]"

WINDOW_CLOSED = "window_closed"
"""WhatsApp's 24-hour customer-service window is closed (Meta error 131047)."""
WHATSAPP_REFUSED = "whatsapp_refused"
"""End User Messaging refused the send synchronously (ValidationException / InvalidParametersException)."""
FILE_REFUSED = "file_refused"
"""WhatsApp does not take the agent's file (type or size) or it could not be fetched from the chat."""
UNSUPPORTED = "unsupported"
"""A flow's or bot's interactive message of a template WhatsApp has no counterpart for."""
REASONS = (WINDOW_CLOSED, WHATSAPP_REFUSED, FILE_REFUSED, UNSUPPORTED)

_WHAT = {"text": "your message", "file": "your file"}


def _what(kind: str, name: str | None) -> str:
    if kind == "file" and name:
        return f"your file {name[:100]}"
    return _WHAT.get(kind, "your message")


TEMPLATE_SENT = "sent"
TEMPLATE_ALREADY_SENT = "already"
TEMPLATE_REFUSED = "refused"


def not_delivered(
    kind: str,
    reason: str,
    *,
    hours: int | None = None,
    name: str | None = None,
    template: str | None = None,
    template_name: str = "",
    detail: str | None = None,
) -> str:
    """The notice for an agent's message (`kind` text) or file (`kind` file) that did not reach the customer;
    `template` says what became of the re-engagement template (`TEMPLATE_SENT`, ...), None when none is configured;
    `detail` why a file was refused."""
    what = _what(kind, name)
    if reason == WINDOW_CLOSED:
        since = f"the customer last wrote {hours} h ago; " if hours is not None else ""
        notice = (
            f"{PREFIX} Not delivered ({what}): {since}WhatsApp allows only template messages more than 24 hours after "
            "the customer's last message."
        )
        if template == TEMPLATE_SENT:
            notice += (
                f' The approved template "{template_name}" was sent instead; the customer\'s reply reopens the chat.'
            )
        elif template == TEMPLATE_ALREADY_SENT:
            notice += f' The approved template "{template_name}" was already sent; waiting for the customer\'s reply.'
        elif template == TEMPLATE_REFUSED:
            notice += f' WhatsApp refused the approved template "{template_name}" too.'
        return notice
    if reason == FILE_REFUSED:
        return f"{PREFIX} Not delivered ({what}): {detail or 'WhatsApp does not accept this file (type or size)'}."
    if reason == UNSUPPORTED:
        return f"{PREFIX} Not delivered ({what}): WhatsApp cannot show this kind of interactive message."
    return f"{PREFIX} Not delivered ({what}): WhatsApp refused it."
