"""A customer known by their business-scoped user id (BSUID, no phone number shared) gets a new one mid-conversation:
WhatsApp's `system` notice `user_changed_user_id` carries no `from` (nor `from_user_id`); the customer is in
`system.previous_user_id` (the old BSUID) and `system.user_id` (the new one). The agent reads a line, as for a
number change, and the chat goes on under the new BSUID.

The shapes, from real payloads in public repositories (Meta's system messages reference, "Updated: Oct 22, 2025",
shows only `user_changed_number`; its BSUID page says a BSUID "becomes invalid if the user changes their WhatsApp
phone number"):
  {"id": "1", "timestamp": "1", "type": "system",
   "system": {"type": "user_changed_user_id", "previous_user_id": "CO.OLD", "user_id": "CO.NEW"}}
  {"id": …, "timestamp": …, "type": "system",
   "system": {"body": …, "wa_id": <the customer's number, when shared>, "user_id": …, "type": "user_changed_user_id"}}
Both are read (tests/unit/test_identity_and_media_payloads.py); this replay uses the first.
"""

from __future__ import annotations

import json

import pytest

from sandbox import trace
from sandbox.replay import ACCOUNT_ID, START_EPOCH
from tests.e2e.conftest import assert_the_notice_comes_first_in_one_chat, replay_lines

OLD, NEW = "US.13491208655302741918", "US.20771234567890123456"


def _user_id_notice(at: float) -> str:
    """The SNS message End User Messaging publishes for the notice (built around a text's envelope)."""
    event = trace.TraceEvent(0, at, "whatsapp", {"user_id": OLD, "text": "-"})
    envelope = json.loads(trace.eum_message(event, "wamid.SYSUSERID1", start_epoch=START_EPOCH, region="us-east-1",
                                            account_id=ACCOUNT_ID)[0])  # fmt: skip
    entry = json.loads(envelope["whatsAppWebhookEntry"])
    value = entry["changes"][0]["value"]
    value.pop("contacts", None)
    value["messages"] = [{
        "id": "wamid.SYSUSERID1", "timestamp": str(int(START_EPOCH + at)), "type": "system",
        "system": {"type": "user_changed_user_id", "previous_user_id": OLD, "user_id": NEW},
    }]  # fmt: skip
    envelope["whatsAppWebhookEntry"] = json.dumps(entry)
    return json.dumps(envelope)


@pytest.fixture(scope="module")
def user_id_change(tmp_path_factory):
    lines = [
        {"at": 0, "type": "whatsapp", "user_id": OLD, "username": "maria", "text": "Hi, about order 1234"},
        {"at": 40, "type": "agent", "to": OLD, "text": "Hello Maria, let me check"},
        {"at": 60, "type": "raw", "message": _user_id_notice(60)},
        {"at": 100, "type": "whatsapp", "user_id": NEW, "username": "maria", "text": "Still me"},
        {"at": 140, "type": "agent", "to": NEW, "text": "Thanks, it ships Monday"},
    ]
    return replay_lines(tmp_path_factory, "user_id_change", lines)


def test_the_notice_reaches_the_agent_as_a_line_in_the_same_chat_not_a_dead_letter(user_id_change):
    _, transcript, _ = user_id_change
    (contact,) = transcript["contacts"]
    assert [m["content"] for m in transcript["connect"]] == [
        "Hi, about order 1234",
        "[WhatsApp notice: the customer's WhatsApp user id (BSUID) changed from US.****************1918 to "
        "US.****************3456.]",
        "Still me",
    ]
    assert {m["contact_id"] for m in transcript["connect"]} == {contact["contact_id"]}
    assert transcript["rejected"] == [] and transcript["skipped"] == []


def test_replies_after_the_change_reach_the_new_user_id(user_id_change):
    _, transcript, _ = user_id_change
    assert [(m["to"], m["text"]) for m in transcript["whatsapp_out"]] == [
        (OLD, "Hello Maria, let me check"),
        (NEW, "Thanks, it ships Monday"),
    ]


@pytest.fixture(scope="module")
def quick_first_message(tmp_path_factory):
    """The new BSUID writes right after the notice, a turn that ends with a question: under `cues` its burst is due
    sooner (0.3x bufferSeconds) than the notice's would be on its own (1x)."""
    lines = [
        {"at": 0, "type": "whatsapp", "user_id": OLD, "username": "maria", "text": "Hi, about order 1234"},
        {"at": 40, "type": "agent", "to": OLD, "text": "Hello Maria, let me check"},
        {"at": 60, "type": "raw", "message": _user_id_notice(60)},
        {"at": 60.5, "type": "whatsapp", "user_id": NEW, "username": "maria", "text": "thanks, is my order shipped?"},
        {"at": 140, "type": "agent", "to": NEW, "text": "Yes, it ships Monday"},
    ]
    return replay_lines(tmp_path_factory, "user_id_change_quick", lines, endOfTurn="cues", bufferSeconds="11")


def test_a_first_message_right_after_the_notice_follows_it_in_the_same_chat(quick_first_message):
    _, transcript, _ = quick_first_message
    assert_the_notice_comes_first_in_one_chat(transcript, "BSUID) changed", OLD, NEW)
