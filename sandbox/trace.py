"""Replay traces (docs/sandbox.md#tracejsonl): read and validate TRACE.jsonl, and turn `whatsapp` lines (and the
statuses WhatsApp reports for the bridge's own messages) into the SNS messages End User Messaging Social would publish
for them (the Meta webhook entry, as a JSON string, inside the EUM envelope).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import media_samples, service_conditions

TYPES = ("whatsapp", "agent", "end_chat", "raw", "bot", "template", "outreach", "service")
AGENT_CONTENT_TYPES = ("text/plain", "text/markdown")
AGENT_FILE_KINDS = ("image", "audio", "video", "document")
"""An agent line with one of these `kind`s is a file the agent attaches (`filename`, `mime_type`, `size_kb`)."""
"""An agent line's `content_type`: plain text or Connect's rich text."""
MAX_SIZE_KB = 110_000
"""Media a trace may ask for: up to WhatsApp's 100 MB documents (and a little over, to test the limits)."""
KINDS = (
    "text",
    "image",
    "audio",
    "voice",
    "video",
    "document",
    "sticker",
    "reaction",
    "location",
    "contacts",
    "interactive",
)
DEFAULT_PHONE_NUMBER_ID = "106540352242922"
"""Meta's id of the sandbox business number (any digits do)."""
DISPLAY_NUMBER = "15550100000"
WABA_ID = "390176134173423"
_MIME = {
    "image": "image/jpeg",
    "audio": "audio/mpeg",
    "voice": "audio/ogg; codecs=opus",
    "video": "video/mp4",
    "document": "application/pdf",
    "sticker": "image/webp",
}
"""Each media kind's default `mime_type`; the file itself is a real one of that type (`media_samples`)."""


class TraceError(ValueError):
    """The trace file itself cannot be read (the replay exits non-zero with this one line)."""


@dataclass(frozen=True)
class TraceEvent:
    line: int
    at: float
    type: str
    data: dict[str, Any] = field(hash=False)

    @property
    def customer(self) -> str:
        """Who the line is about as the bridge keys it: the phone number, or the `user_id` (BSUID) without one."""
        if self.type == "whatsapp":
            return str(self.data.get("from") or self.data.get("user_id"))
        return str(self.data.get("to"))

    @property
    def phone_number_id(self) -> str:
        return str(self.data.get("phone_number_id") or DEFAULT_PHONE_NUMBER_ID)


def read_trace(path: str | Path) -> list[TraceEvent]:
    """Parse and validate a trace; events come back ordered by `at` (then by line)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(f"cannot read trace {path}: {exc}") from None
    events = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TraceError(f"line {number}: not JSON ({exc.msg})") from None
        except ValueError as exc:  # JSON the decoder reads but Python refuses, e.g. an integer of over 4,300 digits
            raise TraceError(f"line {number}: not JSON ({exc})") from None
        events.append(_validate(number, data))
    if not events:
        raise TraceError(f"trace {path} has no events")
    return sorted(events, key=lambda e: (e.at, e.line))


def _validate(number: int, data: Any) -> TraceEvent:
    if not isinstance(data, dict):
        raise TraceError(f"line {number}: an event must be a JSON object")
    at = data.get("at")
    if isinstance(at, bool) or not isinstance(at, (int, float)) or at < 0:
        raise TraceError(f"line {number}: 'at' must be a number >= 0")
    kind = data.get("type")
    if kind not in TYPES:
        raise TraceError(f"line {number}: 'type' must be one of {', '.join(TYPES)}")
    if kind == "whatsapp":
        for name in ("from", "user_id", "username"):
            if name in data and (not isinstance(data[name], str) or not data[name]):
                raise TraceError(f"line {number}: '{name}' must be a non-empty string")
        if not data.get("from") and not data.get("user_id"):
            raise TraceError(f"line {number}: a whatsapp event needs 'from' or 'user_id'")
        if data.get("kind", "text") not in KINDS:
            raise TraceError(f"line {number}: 'kind' must be one of {', '.join(KINDS)}")
        sent_at = data.get("sent_at", at)
        if isinstance(sent_at, bool) or not isinstance(sent_at, (int, float)) or sent_at < 0:
            raise TraceError(f"line {number}: 'sent_at' must be a number >= 0")
        size_kb = data.get("size_kb", 0)
        if isinstance(size_kb, bool) or not isinstance(size_kb, (int, float)) or not 0 <= size_kb <= MAX_SIZE_KB:
            raise TraceError(f"line {number}: 'size_kb' must be a number from 0 to {MAX_SIZE_KB}")
        if not isinstance(data.get("mime_type", ""), str):
            raise TraceError(f"line {number}: 'mime_type' must be a string")
        if not isinstance(data.get("referral", {}), dict):
            raise TraceError(f"line {number}: 'referral' must be an object (Meta's click-to-WhatsApp ad fields)")
        if not isinstance(data.get("reply_to", ""), str):
            raise TraceError(f"line {number}: 'reply_to' must be the id of an earlier message (a string)")
    if kind == "bot":
        chunks = data.get("chunks")
        if not isinstance(chunks, list) or not chunks or not all(isinstance(c, str) and c for c in chunks):
            raise TraceError(f"line {number}: a bot event needs 'chunks', a list of non-empty strings")
    if kind in ("agent", "end_chat", "bot") and (not isinstance(data.get("to"), str) or not data["to"]):
        raise TraceError(f"line {number}: an {kind} event needs 'to'")
    if kind == "agent" and data.get("kind", "text") != "text":
        if data["kind"] not in AGENT_FILE_KINDS:
            raise TraceError(f"line {number}: an agent file's 'kind' must be one of {', '.join(AGENT_FILE_KINDS)}")
        if not isinstance(data.get("filename"), str) or not data["filename"]:
            raise TraceError(f"line {number}: an agent file needs 'filename'")
        if not isinstance(data.get("size_kb", 0), (int, float)) or not 0 <= data.get("size_kb", 0) <= MAX_SIZE_KB:
            raise TraceError(f"line {number}: 'size_kb' must be a number from 0 to {MAX_SIZE_KB}")
    elif kind == "agent" and not isinstance(data.get("text"), str):
        raise TraceError(f"line {number}: an agent event needs 'text'")
    if kind == "agent" and data.get("content_type", "text/plain") not in AGENT_CONTENT_TYPES:
        raise TraceError(f"line {number}: an agent's 'content_type' must be one of {', '.join(AGENT_CONTENT_TYPES)}")
    if kind == "template":
        if not isinstance(data.get("name"), str) or not data["name"]:
            raise TraceError(f"line {number}: a template needs 'name'")
        count = data.get("parameters", 0)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise TraceError(f"line {number}: a template's 'parameters' is how many body parameters it takes (>= 0)")
        for name in ("language", "status", "text"):
            if name in data and not isinstance(data[name], str):
                raise TraceError(f"line {number}: a template's '{name}' must be a string")
    if kind == "raw" and not isinstance(data.get("message"), str):
        raise TraceError(f"line {number}: a raw event needs 'message' (the SNS body, a string)")
    if kind == "service" and (problem := service_conditions.problem(data)):
        raise TraceError(f"line {number}: {problem}")
    return TraceEvent(number, float(at), kind, data)


def assign_message_ids(events: list[TraceEvent]) -> dict[int, str]:
    """Trace line -> WhatsApp message id; generated ids grow with WhatsApp timestamp, as Meta's wamids order in a chat."""
    generated = sorted(
        (e for e in events if e.type == "whatsapp" and not e.data.get("id")),
        key=lambda e: (e.data.get("sent_at", e.at), e.line),
    )
    ids = {e.line: f"wamid.SBX{index:08d}" for index, e in enumerate(generated)}
    ids.update({e.line: str(e.data["id"]) for e in events if e.type == "whatsapp" and e.data.get("id")})
    return ids


def eum_phone_number_id(meta_phone_number_id: str) -> str:
    """End User Messaging's id of a sandbox business number (derived from Meta's id)."""
    return hashlib.sha1(meta_phone_number_id.encode()).hexdigest()[:32]  # noqa: S324 - an id, not security


def waba_id() -> str:
    """End User Messaging's id of the sandbox WABA (`waba-…`), which every sandbox number is linked to."""
    return f"waba-{_waba_suffix()}"


def _waba_suffix() -> str:
    """The sandbox WABA's id inside its End User Messaging ARN (derived from Meta's id)."""
    return hashlib.sha1(WABA_ID.encode()).hexdigest()[:32]  # noqa: S324 - an id, not security


@dataclass(frozen=True)
class MediaObject:
    media_id: str
    mime_type: str
    data: bytes


def _message_body(
    event: TraceEvent, message_id: str, previous_id: str | None
) -> tuple[dict[str, Any], MediaObject | None]:
    kind = event.data.get("kind", "text")
    media = None
    if kind == "text":
        return {"type": "text", "text": {"body": str(event.data.get("text", ""))}}, None
    if kind in _MIME:
        mime = str(event.data.get("mime_type") or _MIME[kind])
        data = media_samples.sample(kind, mime, event.data.get("size_kb") or 0)
        media = MediaObject(f"{int(hashlib.sha1(message_id.encode()).hexdigest()[:12], 16)}", mime, data)  # noqa: S324
        payload: dict[str, Any] = {"id": media.media_id, "mime_type": mime, "sha256": hashlib.sha256(data).hexdigest()}
        if kind in ("image", "video", "document") and event.data.get("caption"):
            payload["caption"] = str(event.data["caption"])
        if kind == "document":
            payload["filename"] = str(event.data.get("filename") or "document.pdf")
        if kind == "sticker":
            payload["animated"] = False
        if kind == "voice":
            payload["voice"] = True
            return {"type": "audio", "audio": payload}, media
        return {"type": kind, kind: payload}, media
    if kind == "reaction":
        return {
            "type": "reaction",
            "reaction": {"message_id": previous_id or message_id, "emoji": str(event.data.get("emoji", "👍"))},
        }, None
    if kind == "location":
        return {
            "type": "location",
            "location": {
                "latitude": event.data.get("latitude", 40.4168),
                "longitude": event.data.get("longitude", -3.7038),
                "name": event.data.get("name", "Sandbox Store"),
                "address": event.data.get("address", "1 Example Street"),
            },
        }, None
    if kind == "contacts":
        name = str(event.data.get("text") or "Ana Example")
        return {
            "type": "contacts",
            "contacts": [
                {
                    "name": {"formatted_name": name, "first_name": name.split()[0]},
                    "phones": [{"phone": "+1 555 010 9999", "type": "CELL"}],
                }
            ],
        }, None
    if isinstance(event.data.get("flow_response"), dict):
        # A WhatsApp Flow's answers (Meta's Flows "Response Message Webhook"): `response_json` is a JSON string.
        response = {"flow_token": "sandbox-flow-token", **event.data["flow_response"]}
        return {
            "type": "interactive",
            "interactive": {
                "type": "nfm_reply",
                "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(response)},
            },
        }, None
    title = str(event.data.get("text") or "Yes")
    return {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": f"btn-{title.lower()}", "title": title}},
    }, None


def agent_file(event: TraceEvent) -> tuple[str, str, bytes]:
    """(file name, MIME type, bytes) of an agent's file line; the bytes a real file of that type where the sandbox
    can make one."""
    kind = str(event.data["kind"])
    mime = str(event.data.get("mime_type") or _MIME[kind])
    return str(event.data["filename"]), mime, media_samples.sample(kind, mime, event.data.get("size_kb") or 0)


def eum_message(
    event: TraceEvent,
    message_id: str,
    *,
    start_epoch: float,
    region: str,
    account_id: str,
    previous_id: str | None = None,
) -> tuple[str, MediaObject | None]:
    """The SNS `Message` End User Messaging publishes for one customer message, and the media it refers to."""
    body, media = _message_body(event, message_id, previous_id)
    sent_at = start_epoch + float(event.data.get("sent_at", event.at))
    # Meta's usernames page: `from` / `contacts[].wa_id` are "omitted if user's phone number is unavailable";
    # `from_user_id` / `contacts[].user_id` carry the BSUID, `contacts[].profile.username` the username.
    phone, user_id = event.data.get("from"), event.data.get("user_id")
    message = {
        **({"from": phone} if phone else {}),
        **({"from_user_id": user_id} if user_id else {}),
        "id": message_id,
        "timestamp": str(int(sent_at)),
        **body,
    }
    profile = {"name": str(event.data.get("name") or f"Customer {event.customer[-4:]}")}
    if event.data.get("username"):
        profile["username"] = str(event.data["username"])
    contact = {"profile": profile, **({"wa_id": phone} if phone else {}), **({"user_id": user_id} if user_id else {})}
    if event.data.get("referral"):
        # A click-to-WhatsApp ad: Meta's `referral` object (source_url, source_id, source_type, headline, ctwa_clid…).
        message["referral"] = dict(event.data["referral"])
    if event.data.get("reply_to"):
        # WhatsApp's reply: `context.from` is who sent the message replied to (here the customer), `context.id` its id.
        message["context"] = {"from": event.customer, "id": str(event.data["reply_to"])}
    entry = {
        "id": WABA_ID,
        "changes": [
            {
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": event.phone_number_id},
                    "contacts": [contact],
                    "messages": [message],
                },
                "field": "messages",
            }
        ],
    }
    eum_id = eum_phone_number_id(event.phone_number_id)
    envelope = {
        "context": {
            "MetaWabaIds": [
                {
                    "wabaId": WABA_ID,
                    "arn": f"arn:aws:social-messaging:{region}:{account_id}:waba/{_waba_suffix()}",
                }
            ],
            "MetaPhoneNumberIds": [
                {
                    "metaPhoneNumberId": event.phone_number_id,
                    "arn": f"arn:aws:social-messaging:{region}:{account_id}:phone-number-id/{eum_id}",
                }
            ],
        },
        "whatsAppWebhookEntry": json.dumps(entry, ensure_ascii=False),
        "aws_account_id": account_id,
        "message_timestamp": _iso(start_epoch + event.at),
        "messageId": hashlib.sha1(f"{message_id}:{event.line}".encode()).hexdigest(),  # noqa: S324
    }
    return json.dumps(envelope, ensure_ascii=False), media


def status_message(
    status: dict[str, Any], meta_phone_number_id: str, *, region: str, account_id: str, now: float
) -> str:
    """The SNS `Message` End User Messaging publishes for one WhatsApp status of a message the bridge sent (the
    fake's asynchronous failures), in the envelope of `eum_message`."""
    entry = {
        "id": WABA_ID,
        "changes": [
            {
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": meta_phone_number_id},
                    "statuses": [status],
                },
                "field": "messages",
            }
        ],
    }
    eum_id = eum_phone_number_id(meta_phone_number_id)
    arn = f"arn:aws:social-messaging:{region}:{account_id}:phone-number-id/{eum_id}"
    envelope = {
        "context": {
            "MetaWabaIds": [{"wabaId": WABA_ID, "arn": f"arn:aws:social-messaging:{region}:{account_id}:waba/x"}],
            "MetaPhoneNumberIds": [{"metaPhoneNumberId": meta_phone_number_id, "arn": arn}],
        },
        "whatsAppWebhookEntry": json.dumps(entry, ensure_ascii=False),
        "aws_account_id": account_id,
        "message_timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "messageId": hashlib.sha1(f"{status.get('id')}:{status.get('status')}".encode()).hexdigest(),  # noqa: S324
    }
    return json.dumps(envelope, ensure_ascii=False)


def _iso(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
