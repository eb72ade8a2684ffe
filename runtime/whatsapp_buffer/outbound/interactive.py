"""A Connect flow's or Lex bot's question (`application/vnd.amazonaws.connect.message.interactive`) as a WhatsApp
interactive message (pure).

A `QuickReply` or `ListPicker` template (read in both the Admin Guide's shape and amazon-connect-chatjs's) becomes reply
buttons (at most 3) or a list (at most 10 rows), within WhatsApp's title, body and description limits; a question that
fits neither becomes numbered text, so the customer always sees every option. The customer's tap comes back as a
WhatsApp `interactive` reply whose title reaches the chat as their text. The shapes, limits and their sources:
docs/architecture.md#outbound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TEMPLATES = ("QuickReply", "ListPicker")
MAX_BUTTONS, BUTTON_TITLE, BUTTON_BODY = 3, 20, 1024
MAX_ROWS, ROW_TITLE, ROW_DESCRIPTION, LIST_BODY = 10, 24, 72, 4096
LIST_BUTTON = "Choose"


@dataclass(frozen=True)
class Question:
    template: str
    title: str
    subtitle: str
    options: tuple[tuple[str, str], ...]
    """(title, description) of each choice."""

    @property
    def body(self) -> str:
        return "\n".join(part for part in (self.title, self.subtitle) if part)


def parse(content: str) -> Question | None:
    """The question in a Connect interactive message; None when it is not a template the bridge knows."""
    try:
        message = json.loads(content)
    except (TypeError, ValueError):
        return None
    if not isinstance(message, dict) or message.get("templateType") not in TEMPLATES:
        return None
    data = message.get("data")
    data = data if isinstance(data, dict) else {}
    inner = data.get("content")
    body = inner if isinstance(inner, dict) else data
    elements = body.get("elements")
    elements = elements if isinstance(elements, list) else []
    options = tuple(
        (str(e.get("title") or "").strip(), str(e.get("subtitle") or "").strip())
        for e in elements
        if isinstance(e, dict) and str(e.get("title") or "").strip()
    )
    title = str(body.get("title") or "").strip()
    if not options and not title:
        return None
    return Question(str(message["templateType"]), title, str(body.get("subtitle") or "").strip(), options)


def as_whatsapp(question: Question) -> tuple[str, dict[str, Any]]:
    """(`interactive` and its object, or `text` and its body): reply buttons, a list, or numbered text."""
    body = question.body or "Please choose:"
    titles = [title for title, _ in question.options]
    unique = len(set(titles)) == len(titles)
    if (
        unique
        and 1 <= len(titles) <= MAX_BUTTONS
        and all(len(t) <= BUTTON_TITLE for t in titles)
        and not any(d for _, d in question.options)
        and len(body) <= BUTTON_BODY
    ):
        buttons = [{"type": "reply", "reply": {"id": f"option-{i + 1}", "title": t}} for i, t in enumerate(titles)]
        return "interactive", {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    if (
        unique
        and 1 <= len(titles) <= MAX_ROWS
        and all(len(t) <= ROW_TITLE and len(d) <= ROW_DESCRIPTION for t, d in question.options)
        and len(body) <= LIST_BODY
    ):
        rows = [
            {"id": f"option-{i + 1}", "title": t, **({"description": d} if d else {})}
            for i, (t, d) in enumerate(question.options)
        ]
        action = {"button": LIST_BUTTON, "sections": [{"rows": rows}]}
        return "interactive", {"type": "list", "body": {"text": body}, "action": action}
    lines = [body, *(f"{i + 1}. {t}" + (f" ({d})" if d else "") for i, (t, d) in enumerate(question.options))]
    return "text", {"body": "\n".join(lines)}
