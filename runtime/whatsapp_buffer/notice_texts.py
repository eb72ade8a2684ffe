"""What the bridge tells the agent, in the chat, when something the agent sent did not reach the customer (pure).

A notice names what did not arrive and why, in a line short enough to read at a glance. It starts with `PREFIX` so
the agent never mistakes it for the customer's words (Connect shows it in the customer's row; see `tell_agent`).
"""

from __future__ import annotations

PREFIX = "[WhatsApp bridge]"
NOTICE_MARK = "bridge-notice"


def notice_token(outcome: str, kind: str, reason: str, ref: str) -> str:
    """ClientToken of a notice: `bridge-notice|<outcome>|<kind>|<reason>|<ref>`, `ref` naming what it is about once
    (`<streaming id>#<n>` for the outbound function's, a WhatsApp message id for the inbound function's), so a
    redelivered event posts no second notice and a reader of the chat's calls can tell the bridge's lines apart. Cut
    to Connect Participant SendMessage's limit (botocore: ClientToken max 500)."""
    return f"{NOTICE_MARK}|{outcome}|{kind}|{reason}|{ref}"[:500]


WINDOW_CLOSED = "window_closed"
"""WhatsApp's 24-hour customer-service window is closed (Meta error 131047)."""
WHATSAPP_REFUSED = "whatsapp_refused"
"""End User Messaging refused the send synchronously (ValidationException / InvalidParametersException)."""
FILE_REFUSED = "file_refused"
"""WhatsApp does not take the agent's file (type or size) or it could not be fetched from the chat."""
UNSUPPORTED = "unsupported"
"""A flow's or bot's interactive message of a template WhatsApp has no counterpart for."""

_WHAT = {"text": "your message", "file": "your file"}


def _what(kind: str, name: str | None) -> str:
    if kind == "file" and name:
        return f"your file {name[:100]}"
    return _WHAT.get(kind, "your message")


TEMPLATE_SENT = "sent"
TEMPLATE_ALREADY_SENT = "already"
TEMPLATE_REFUSED = "refused"
TEMPLATE_REFUSED_EARLIER = "refused_earlier"
"""An earlier reply's template of this closed window was refused: it is not sent again before the customer writes."""
TEMPLATE_BEING_SENT = "being_sent"
"""An earlier reply claimed this closed window's template and its outcome is not recorded yet: being sent, or in doubt."""


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
        elif template == TEMPLATE_BEING_SENT:
            notice += (
                f' The approved template "{template_name}" is being sent for an earlier reply; whether WhatsApp takes'
                " it is not known yet."
            )
        elif template == TEMPLATE_REFUSED_EARLIER:
            notice += (
                f' WhatsApp refused the approved template "{template_name}" for an earlier reply; it is not sent again'
                " before the customer writes."
            )
        return notice
    if reason == FILE_REFUSED:
        return f"{PREFIX} Not delivered ({what}): {detail or 'WhatsApp does not accept this file (type or size)'}."
    if reason == UNSUPPORTED:
        return f"{PREFIX} Not delivered ({what}): WhatsApp cannot show this kind of interactive message."
    return f"{PREFIX} Not delivered ({what}): WhatsApp refused it."


UNDELIVERABLE = "undeliverable"
"""Meta 131026 "Message Undeliverable": not on WhatsApp, terms not accepted, or too old an app for the type."""
MEDIA_ERROR = "media_error"
"""Meta 131053 "Media upload error" (and 131052 "Media download error")."""
UNSUPPORTED_TYPE = "unsupported_type"
"""Meta 131051 "Unsupported message type"."""
EXPERIMENT = "experiment"
"""Meta 130472 "User's number is part of an experiment" (marketing messages held back)."""
WHATSAPP_FAILED = "whatsapp_failed"
"""Any other code of a `failed` status."""
FAILED_STATUS_REASONS: dict[int, tuple[str, str]] = {
    131047: (WINDOW_CLOSED, "more than 24 hours have passed since the customer last wrote; only a template can go"),
    131026: (UNDELIVERABLE, "WhatsApp could not deliver it to the customer's phone"),
    131053: (MEDIA_ERROR, "WhatsApp could not process the file"),
    131052: (MEDIA_ERROR, "WhatsApp could not process the file"),
    131051: (UNSUPPORTED_TYPE, "WhatsApp does not support this type of message"),
    130472: (EXPERIMENT, "the customer's number is part of a WhatsApp experiment that holds such messages back"),
}
"""Meta's codes of a `failed` status (WhatsApp Cloud API error codes) -> (the `RepliesRefused` reason, plain words)."""

_SENT_WHAT = {"template": "the template", "interactive": "your question", "text": "your message"}


def failed_reason(code: int | None) -> str:
    return FAILED_STATUS_REASONS.get(code, (WHATSAPP_FAILED, ""))[0] if code is not None else WHATSAPP_FAILED


def not_delivered_after_sending(kind: str, clip: str, code: int | None, title: str, details: str) -> str:
    """The notice for a message WhatsApp accepted and later reported `failed`: what it was (`kind` as the bridge sent
    it, `clip` its words or file name) and Meta's reason (code, title and details, in plain words when known)."""
    what = _SENT_WHAT.get(kind, "your file")
    if clip:
        shown = clip if len(clip) <= 60 else clip[:59] + "…"
        what = f'{what} "{shown}"' if kind in ("text", "interactive", "template") else f"{what} {shown}"
    plain = FAILED_STATUS_REASONS.get(code, ("", ""))[1] if code is not None else ""
    heading = " ".join(part for part in (f"({code})" if code is not None else "", title) if part)
    meta = [part for part in (heading, details.rstrip(".")) if part]
    said = f" WhatsApp says: {' — '.join(meta)}." if meta else ""
    return f"{PREFIX} Not delivered ({what}): {plain or 'WhatsApp reported it failed'}.{said}"
