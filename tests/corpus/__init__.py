"""The bad-input corpus (tests/corpus/README.md): verbatim files per entry point, plus the few cases too big to keep
as files, generated here deterministically. Every case has an expected outcome in tests/badinput/."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PHONE_NUMBER_ID = "106540352242922"
"""The business number every corpus event is for (the sandbox's default number, so replays can answer it)."""
PHONE_ARN = (
    "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/"
    + hashlib.sha1(PHONE_NUMBER_ID.encode()).hexdigest()[:32]  # noqa: S324 - the sandbox's id scheme, not security
)
GOOD_CUSTOMER = "15550007001"
BAD_CUSTOMER = "15550007999"
"""The sender of every poison message: its full number must never appear in a rejection reason or a log line."""
POISON_TEXT = "secret poison body"
TIMESTAMP = "1767225601"


def files(entry_point: str) -> dict[str, str]:
    """`<entry_point>/<name>` -> its text, exactly as it is delivered."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted((HERE / entry_point).iterdir())}


def text_message(message_id: str, text: str = "good neighbour", customer: str = GOOD_CUSTOMER) -> dict[str, Any]:
    return {"from": customer, "id": message_id, "timestamp": TIMESTAMP, "type": "text", "text": {"body": text}}


def messages_change(*messages: Any, phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    return {
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100000", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Corpus Customer"}, "wa_id": GOOD_CUSTOMER}],
            "messages": list(messages),
        },
        "field": "messages",
    }


def envelope(*changes: Any, entry: str | None = None) -> str:
    """The End User Messaging SNS `Message` around a webhook entry of `changes` (or a verbatim entry string)."""
    return json.dumps(
        {
            "context": {
                "MetaWabaIds": [
                    {"wabaId": "390176134173423", "arn": "arn:aws:social-messaging:us-east-1:123456789012:waba/corpus"}
                ],
                "MetaPhoneNumberIds": [{"metaPhoneNumberId": PHONE_NUMBER_ID, "arn": PHONE_ARN}],
            },
            "whatsAppWebhookEntry": entry
            if entry is not None
            else json.dumps({"id": "390176134173423", "changes": list(changes)}),
            "aws_account_id": "123456789012",
            "message_timestamp": "2026-01-01T00:00:01.000Z",
            "messageId": "c0ffee00-0000-4000-8000-000000000002",
        }
    )


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def generated_eum() -> dict[str, str]:
    """In-topic bodies too big to keep as files."""
    contact = {
        "name": {"formatted_name": "A B", "first_name": "A"},
        "phones": [{"phone": "+1 555 000 0000", "type": "CELL"}],
    }
    deep: Any = "bottom"
    for _ in range(40):
        deep = {"n": deep}
    return {
        "huge_text_300kb": envelope(
            messages_change(text_message("wamid.CORPUS.ht.good"), text_message("wamid.CORPUS.ht.huge", "z" * 300_000))
        ),
        "thousand_messages_in_one_entry": envelope(
            messages_change(*(text_message(f"wamid.CORPUS.th.{i:04d}", f"line {i}") for i in range(1000)))
        ),
        "deeply_nested_envelope": '{"context": ' + _nested(100_000) + "}",
        "deeply_nested_webhook_entry": envelope(entry=_nested(100_000)),
        "deeply_nested_contact_card": envelope(
            messages_change(
                text_message("wamid.CORPUS.dc.good"),
                {
                    "from": BAD_CUSTOMER,
                    "id": "wamid.CORPUS.dc.deep",
                    "timestamp": TIMESTAMP,
                    "type": "contacts",
                    "contacts": [{"name": {"formatted_name": POISON_TEXT}, "org": deep}],
                },
            )
        ),
        "huge_contact_list": envelope(
            messages_change(
                text_message("wamid.CORPUS.hc.good"),
                {
                    "from": BAD_CUSTOMER,
                    "id": "wamid.CORPUS.hc.huge",
                    "timestamp": TIMESTAMP,
                    "type": "contacts",
                    "contacts": [contact] * 2000,
                },
            )
        ),
    }


def generated_streaming() -> dict[str, dict[str, Any]]:
    return {"deeply_nested": {"Message": _nested(100_000), "MessageAttributes": {}}}


def generated_bursts() -> dict[str, str]:
    return {"deeply_nested": _nested(100_000)}
