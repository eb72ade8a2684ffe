"""A transcript for people: what the customer typed and when, what the agent saw and when, what came back."""

from __future__ import annotations

from typing import Any

from sandbox.report import counted
from sandbox.service_conditions import describe
from sandbox.trace import TraceEvent

_WIDTH = 72


def _describe(event: TraceEvent) -> str:
    kind = event.data.get("kind", "text")
    if kind == "text":
        return str(event.data.get("text", ""))
    detail = (
        event.data.get("caption") or event.data.get("emoji") or event.data.get("filename") or event.data.get("text")
    )
    return f"[{kind}{': ' + str(detail) if detail else ''}]"


def _indent(text: str, prefix: str) -> str:
    lines = str(text).splitlines() or [""]
    return "\n".join([lines[0]] + [prefix + line for line in lines[1:]])


def render(events: list[TraceEvent], transcript: dict[str, Any]) -> str:
    """A readable, time-ordered view of one replay."""
    rows: list[tuple[float, int, str]] = []
    seen_ids: set[str | None] = set()
    for event in events:
        if event.type == "whatsapp":
            repeat = event.data.get("id") in seen_ids
            seen_ids.add(event.data.get("id"))
            note = "  (redelivered by WhatsApp)" if repeat and event.data.get("id") else ""
            rows.append((event.at, 0, f"customer {event.customer[-4:]:>4} types    │ {_describe(event)}{note}"))
        elif event.type == "raw":
            rows.append((event.at, 0, "raw SNS body arrives   │ (verbatim input, see rejected below if bad)"))
        elif event.type == "agent":
            rows.append((event.at, 0, f"agent writes to {event.customer[-4:]:>4}   │ {event.data.get('text', '')}"))
        elif event.type == "end_chat":
            rows.append((event.at, 0, f"agent ends chat {event.customer[-4:]:>4}   │"))
        elif event.type == "service":
            rows.append((event.at, 0, f"{'services from now on':<22} │ {describe(event.data)}"))
    for contact in transcript.get("contacts", []):
        customer = (contact.get("customer") or "????")[-4:]
        rows.append(
            (contact["started_at"], 1, f"Connect opens chat     │ contact {contact['contact_id'][:8]}… for {customer}")
        )
    prefix = " " * (10 + 23) + "│ "
    for message in transcript.get("connect", []):
        customer = (message.get("customer") or "????")[-4:]
        content = message.get("content") or ""
        label = "agent gets file" if message["kind"] == "attachment" else "agent sees"
        count = len(message.get("message_ids") or [])
        rows.append((message["at"], 2, f"{label + ' ' + customer:<22} │ {_indent(content, prefix)}  ‹{count} msg›"))
    for message in transcript.get("whatsapp_out", []):
        text = message.get("text") or f"[{message['kind']}]"
        rows.append((message["at"], 3, f"customer {str(message.get('to'))[-4:]:>4} receives │ {_indent(text, prefix)}"))
    for refused in transcript.get("whatsapp_refused", []):
        label = f"WhatsApp refuses {str(refused.get('to'))[-4:]}"
        rows.append((refused["at"], 3, f"{label:<22} │ {refused['reason'][:90]}"))
    for rejected in transcript.get("rejected", []):
        rows.append((rejected["at"], 4, f"rejected               │ {rejected['reason'][:90]}"))
    rows.sort(key=lambda row: (row[0], row[1]))
    lines = ["─" * _WIDTH, f"{'t (s)':>8}  what happened", "─" * _WIDTH]
    lines += [f"{at:8.1f}  {text}" for at, _, text in rows]
    stats = transcript.get("stats", {})
    lines += [
        "─" * _WIDTH,
        f"{counted(stats.get('whatsapp_in', 0), 'WhatsApp message')} in → "
        f"{counted(stats.get('connect_messages', 0), 'Connect message')} "
        f"({counted(stats.get('bursts', 0), 'burst')}, {counted(stats.get('contacts', 0), 'chat')}); "
        f"{counted(stats.get('duplicates_dropped', 0), 'duplicate')} dropped, {stats.get('rejected', 0)} rejected; "
        f"{counted(stats.get('whatsapp_out', 0), 'reply', 'replies')} out.",
    ]
    return "\n".join(lines)
