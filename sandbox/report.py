"""What a replay produced: the transcript (every message that reached a Connect chat and the WhatsApp messages it
carried, every reply that reached WhatsApp or was refused, the chats, typing events, dead letters and the run's
counters) and its one-line summary.

It is read afterwards from what the run left behind: the calls the fake Connect / End User Messaging answered, the
bursts the aggregator queued, what ingest stored and the pipeline's records. Apart from the driving loop
(sandbox.replay) because it acts on nothing; sandbox.timeline renders the same transcript for people.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.delivery.scheduler import VirtualClock
    from sandbox.fakes import FakeServices
    from sandbox.fakes.records import Call
    from sandbox.pipeline import Pipeline
    from sandbox.trace import TraceEvent

NOTICE_REASONS = {
    "window_closed": "131047 Re-engagement message",
    "file_refused": "WhatsApp does not accept the file as it is (type or size)",
    "whatsapp_refused": "End User Messaging refused the message",
    "unsupported": "WhatsApp has no counterpart for this interactive message",
    "undeliverable": "131026 Message Undeliverable",
    "media_error": "131053 Media upload error",
    "unsupported_type": "131051 Unsupported message type",
    "experiment": "130472 User's number is part of an experiment",
    "whatsapp_failed": "WhatsApp reported the message failed",
}
"""The reasons of the notices to the agent (`whatsapp_buffer.notice_texts`) as the transcript states them."""


def build(
    events: list[TraceEvent],
    pipeline: Pipeline,
    fake: FakeServices,
    clock: VirtualClock,
    *,
    skipped: list[dict[str, Any]],
    stored_at: dict[str, float],
    wall_seconds: float,
) -> dict[str, Any]:
    """The transcript of one finished replay (`stored_at`: see `stored_at`)."""
    start = clock.start
    bursts = {bid: json.loads(body) for bid, body in pipeline.bursts_seen.items()}
    calls = _Calls(bursts, start, refused={s.message_id: s.refused for s in fake.whatsapp_sent if s.refused})
    for call in fake.calls:
        if call.error is None and not call.replayed:
            calls.read(call)
    for contact in calls.contacts:
        contact["customer"] = calls.contact_customer.get(contact["contact_id"])
    for event in calls.connect_events:
        event["customer"] = calls.contact_customer.get(event["contact_id"])
    for item in calls.connect:
        # A bridge notice posted before the chat's first customer line (an outreach's) learns its customer here.
        item["customer"] = item["customer"] or calls.contact_customer.get(item["contact_id"] or "")
    rejected = [
        {
            "at": round(d.at, 3),
            "reason": d.reason,
            "function": d.function,
            "source": d.source,
            "dead_lettered_at": round(d.dead_lettered_at, 3),
        }
        for d in pipeline.dead_letters
    ]
    metrics = pipeline.metrics
    stats = {
        "whatsapp_in": sum(1 for e in events if e.type == "whatsapp"),
        "connect_messages": len(calls.connect),
        "duplicates_dropped": int(_metric(metrics, "ingest", "DuplicatesDropped", "duplicates_dropped")),
        "bursts": len(bursts),
        "contacts": len(calls.contacts),
        "whatsapp_out": len(calls.whatsapp_sent),
        "rejected": len(rejected),
        "ignored": int(_metric(metrics, "ingest", "MessagesIgnored", "ignored")),
        "invocations": dict(Counter(record.function for record in pipeline.invocations)),
        "whatsapp_sends_in_doubt": pipeline.whatsapp_sends_in_doubt,
        "virtual_seconds": round(clock.elapsed, 3),
        "wall_seconds": round(wall_seconds, 3),
    }
    return {
        "connect": calls.connect,
        "whatsapp_out": calls.whatsapp_sent,
        "whatsapp_refused": calls.whatsapp_refused,
        "connect_events": calls.connect_events,
        "contacts": calls.contacts,
        "rejected": rejected,
        "skipped": skipped,
        "stored_at": stored_at,
        "queued_at": _queued_at(bursts.values(), start),
        "stats": stats,
        "metrics": {k: dict(sorted(v.items())) for k, v in metrics.items()},
    }


class _Calls:
    """The fake's answered calls, read in order: which chat each token belongs to, and what reached whom."""

    def __init__(self, bursts: dict[str, dict[str, Any]], start: float, refused: dict[str, dict[str, Any]]) -> None:
        self.bursts = bursts
        self.start = start
        self.refused = refused
        """WhatsApp message id -> the error of a send End User Messaging accepted and WhatsApp later failed."""
        self.participant_contact: dict[str, str] = {}
        self.connection_contact: dict[str, str] = {}
        self.contact_customer: dict[str, str] = {}
        self.attachment_names: dict[str, tuple[str, str | None, str | None]] = {}
        self.contacts: list[dict[str, Any]] = []
        self.connect: list[dict[str, Any]] = []
        self.connect_events: list[dict[str, Any]] = []
        self.whatsapp_sent: list[dict[str, Any]] = []
        self.whatsapp_refused: list[dict[str, Any]] = []
        self._readers: dict[str, Callable[[Call], None]] = {
            "StartChatContact": self._chat_started,
            "CreateParticipantConnection": self._connected,
            "SendMessage": self._message,
            "SendEvent": self._event,
            "StartAttachmentUpload": self._upload_started,
            "CompleteAttachmentUpload": self._uploaded,
            "SendWhatsAppMessage": self._whatsapp_message,
        }

    def read(self, call: Call) -> None:
        reader = self._readers.get(call.operation)
        if reader is not None:
            reader(call)

    def _at(self, call: Call) -> float:
        return round(call.at - self.start, 3)

    @staticmethod
    def _response(call: Call) -> dict[str, Any]:
        """What a call that succeeded returned (only those are read)."""
        assert call.response is not None, f"{call.operation} succeeded without a response"
        return call.response

    def _contact_of(self, call: Call) -> str | None:
        return self.connection_contact.get(call.params.get("ConnectionToken", ""))

    def _item_for(self, token: str | None) -> tuple[dict[str, Any] | None, list[str]]:
        """The burst and message ids behind a ClientToken (`<burst id>:<item index>:…`)."""
        if not token:
            return None, []
        burst_id, _, rest = token.partition(":")
        burst = self.bursts.get(burst_id)
        if burst is None:
            return None, []
        index_text, _, _suffix = rest.partition(":")
        try:
            item = burst["items"][int(index_text)]
        except (ValueError, IndexError):
            return burst, []
        return burst, list(item["message_ids"])

    def _chat_started(self, call: Call) -> None:
        response = self._response(call)
        contact_id = response["ContactId"]
        self.participant_contact[response["ParticipantToken"]] = contact_id
        self.contacts.append(
            {
                "contact_id": contact_id,
                "customer": None,
                "started_at": self._at(call),
                "contact_flow_id": call.params.get("ContactFlowId"),
                "attributes": dict(call.params.get("Attributes") or {}),
                "continued_from": response.get("ContinuedFromContactId"),
                "related_to": call.params.get("RelatedContactId"),
            }
        )

    def _connected(self, call: Call) -> None:
        contact_id = self.participant_contact.get(call.params.get("ParticipantToken", ""))
        connection = (self._response(call).get("ConnectionCredentials") or {}).get("ConnectionToken")
        if contact_id and connection:
            self.connection_contact[connection] = contact_id

    def _message(self, call: Call) -> None:
        contact_id = self._contact_of(call)
        notice = bridge_notice(call.params.get("ClientToken"))
        if notice is not None:
            # The bridge's own line to the agent (send_reply): no customer message behind it.
            customer = self.contact_customer.get(contact_id or "")
            self._to_connect(call, contact_id, customer, [], sender="bridge")
            if notice["outcome"] not in ("failed", "outreach"):
                # A failed status's notice: the refused send is already listed (SendWhatsAppMessage); an outreach's
                # notice tells the agent what the customer answers, nothing refused.
                self.whatsapp_refused.append(
                    {"at": self._at(call), "to": customer, "kind": notice["kind"], "reason": notice["reason"]}
                )
            return
        burst, ids = self._item_for(call.params.get("ClientToken"))
        customer = burst["conversation"].split("#", 1)[1] if burst else None
        if contact_id and customer:
            self.contact_customer.setdefault(contact_id, customer)
        self._to_connect(call, contact_id, customer, ids, sender="customer")

    def _to_connect(
        self, call: Call, contact_id: str | None, customer: str | None, ids: list[str], *, sender: str
    ) -> None:
        self.connect.append(
            {
                "at": self._at(call),
                "contact_id": contact_id,
                "customer": customer,
                "kind": "text",
                "content": call.params.get("Content"),
                "content_type": call.params.get("ContentType"),
                "message_ids": ids,
                "sender": sender,
            }
        )

    def _event(self, call: Call) -> None:
        if call.params.get("ContentType", "").endswith(".event.typing"):
            event = {"at": self._at(call), "contact_id": self._contact_of(call), "customer": None, "type": "typing"}
            self.connect_events.append(event)

    def _upload_started(self, call: Call) -> None:
        self.attachment_names[self._response(call)["AttachmentId"]] = (
            call.params.get("AttachmentName", ""),
            call.params.get("ClientToken"),
            call.params.get("ContentType"),
        )

    def _uploaded(self, call: Call) -> None:
        for attachment_id in call.params.get("AttachmentIds", []):
            name, token, content_type = self.attachment_names.get(attachment_id, ("", None, None))
            burst, ids = self._item_for(token)
            self.connect.append(
                {
                    "at": self._at(call),
                    "contact_id": self._contact_of(call),
                    "customer": burst["conversation"].split("#", 1)[1] if burst else None,
                    "kind": "attachment",
                    "content": name,
                    "name": name,
                    "content_type": content_type,
                    "message_ids": ids,
                    "sender": "customer",
                }
            )

    def _whatsapp_message(self, call: Call) -> None:
        for entry in whatsapp_out(call, self.start):
            error = self.refused.get(self._response(call).get("messageId", ""))
            if error is None:
                self.whatsapp_sent.append(entry)
            else:
                reason = f"{error['code']} {error['title']}: {error['error_data']['details']}"
                self.whatsapp_refused.append(
                    {"at": entry["at"], "to": entry["to"], "kind": entry["kind"], "reason": reason}
                )


def stored_at(ddb: Any, table: str, start: float) -> dict[str, float]:
    """Message id -> when ingest stored it (trace seconds): tells a late arrival (a retried ingest) from a reorder."""
    stored: dict[str, float] = {}
    for page in ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="message_id, received_at"):
        for item in page["Items"]:
            if "message_id" in item and "received_at" in item:
                stored[item["message_id"]["S"]] = round(float(item["received_at"]["N"]) - start, 3)
    return stored


def _queued_at(bursts: Iterable[dict[str, Any]], start: float) -> dict[str, float]:
    """Message id -> when the aggregator flushed the first burst that carried it (trace seconds, the burst's own
    `flushed_at`): from then on its place before later messages of the conversation is fixed by the FIFO queue, so a
    message stored after it can only follow it."""
    queued: dict[str, float] = {}
    for burst in bursts:
        flushed_at = burst.get("flushed_at")
        if not isinstance(flushed_at, int | float):
            continue
        at = round(float(flushed_at) - start, 3)
        for item in burst.get("items", []):
            for message_id in item.get("message_ids", []):
                queued[message_id] = min(at, queued.get(message_id, at))
    return queued


def _metric(metrics: dict[str, dict[str, float]], function: str, *names: str) -> float:
    values = metrics.get(function, {})
    return sum(values.get(name, 0.0) for name in names)


def bridge_notice(client_token: str | None) -> dict[str, str] | None:
    """A notice's ClientToken (`bridge-notice|<withheld or refused>|<kind>|<reason>|<event>#<n>`, see
    `whatsapp_buffer.notice_texts.notice_token`) -> what did not reach the customer; None for other tokens."""
    parts = (client_token or "").split("|", 4)
    if len(parts) != 5 or parts[0] != "bridge-notice":
        return None
    outcome, kind, reason = parts[1], parts[2], parts[3]
    stated = NOTICE_REASONS.get(reason, reason)
    by = {"withheld": "withheld by the bridge", "failed": "reported failed after sending"}.get(
        outcome, "refused at once"
    )
    return {"kind": kind, "reason": f"{stated} ({by})", "outcome": outcome}


def whatsapp_out(call: Any, start: float) -> list[dict[str, Any]]:
    """The transcript entry of one SendWhatsAppMessage call (none for a read receipt or an unreadable message)."""
    raw = call.params.get("message")
    try:
        message = json.loads(raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw)
    except (ValueError, AttributeError):
        return []
    if message.get("status") == "read":
        return []
    kind = message.get("type", "text")
    entry = {"at": round(call.at - start, 3), "to": message.get("to") or message.get("recipient"), "kind": kind}
    if kind == "text":
        entry["text"] = (message.get("text") or {}).get("body")
    elif kind == "template":
        template = message.get("template") or {}
        entry["template"] = template.get("name")
        entry["language"] = (template.get("language") or {}).get("code")
    else:
        media = message.get(kind) or {}
        entry["media_id"] = media.get("id")
        if media.get("caption"):
            entry["text"] = media["caption"]
        if media.get("filename"):
            entry["filename"] = media["filename"]
    return [entry]


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`1 burst`, `2 bursts`, `0 replies`: a count with its noun in the right number."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def summary(transcript: dict[str, Any]) -> str:
    """The one line a replay prints on stderr."""
    stats = transcript["stats"]
    return (
        f"replayed {counted(stats['whatsapp_in'], 'WhatsApp message')} in {stats['virtual_seconds']:.0f} s of virtual "
        f"time ({stats['wall_seconds']:.1f} s wall): {counted(stats['bursts'], 'burst')} -> "
        f"{counted(stats['connect_messages'], 'Connect message')} in {counted(stats['contacts'], 'chat')}, "
        f"{counted(stats['whatsapp_out'], 'reply', 'replies')} out, "
        f"{counted(stats['duplicates_dropped'], 'duplicate')} dropped, {stats['rejected']} rejected"
    )
