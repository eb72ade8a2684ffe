"""A customer changes their phone number mid-conversation: the agent is told, the chat goes on, replies reach the
new number.

Meta, System messages webhook reference (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/
reference/messages/system/, "Updated: Aug 11, 2026"): "user_changed_number — the user changed their phone number and
the new number can be shared with you. The notification includes the new phone number." "Unlike other incoming
messages webhooks, system messages webhooks don't include a contacts array." Syntax, trimmed to the message:

  { "from": "<WHATSAPP_USER_PHONE_NUMBER>", "id": "<WHATSAPP_MESSAGE_ID>", "timestamp": "<WEBHOOK_TRIGGER_TIMESTAMP>",
    "type": "system", "system": { "body": "User <WHATSAPP_USER_PROFILE_NAME> changed from
    <WHATSAPP_USER_PHONE_NUMBER> to <NEW_WHATSAPP_USER_PHONE_NUMBER>", "wa_id": "<NEW_WHATSAPP_USER_PHONE_NUMBER>",
    "type": "user_changed_number" } }
"""

from __future__ import annotations

import json

import pytest

from sandbox import trace
from sandbox.replay import ACCOUNT_ID, START_EPOCH
from tests.e2e.conftest import assert_the_notice_comes_first_in_one_chat, replay_lines

OLD, NEW = "15550001111", "15550009999"


def _system_notice(at: float, **user_ids: str) -> str:
    """The SNS message End User Messaging publishes for Meta's documented notice (built around a text's envelope), with
    the BSUIDs `user_ids` names (`user_id`, `previous_user_id`) in `system`."""
    event = trace.TraceEvent(0, at, "whatsapp", {"from": OLD, "text": "-"})
    envelope = json.loads(trace.eum_message(event, "wamid.SYSCHANGE1", start_epoch=START_EPOCH, region="us-east-1",
                                            account_id=ACCOUNT_ID)[0])  # fmt: skip
    entry = json.loads(envelope["whatsAppWebhookEntry"])
    value = entry["changes"][0]["value"]
    value.pop("contacts")
    value["messages"] = [{
        "from": OLD, "id": "wamid.SYSCHANGE1", "timestamp": str(int(START_EPOCH + at)), "type": "system",
        "system": {"body": f"User Maria changed from {OLD} to {NEW}", "wa_id": NEW, "type": "user_changed_number",
                   **user_ids},
    }]  # fmt: skip
    envelope["whatsAppWebhookEntry"] = json.dumps(entry)
    return json.dumps(envelope)


@pytest.fixture(scope="module")
def number_change(tmp_path_factory):
    lines = [
        {"at": 0, "type": "whatsapp", "from": OLD, "name": "Maria", "text": "Hi, about order 1234"},
        {"at": 40, "type": "agent", "to": OLD, "text": "Hello Maria, let me check"},
        {"at": 60, "type": "raw", "message": _system_notice(60)},
        {"at": 100, "type": "whatsapp", "from": NEW, "name": "Maria", "text": "I have a new phone, same me"},
        {"at": 140, "type": "agent", "to": NEW, "text": "Thanks, noted: it ships Monday"},
    ]
    return replay_lines(tmp_path_factory, "number_change", lines)


def test_the_agent_is_told_of_the_number_change_in_the_same_chat_with_both_numbers_masked(number_change):
    _, transcript, _ = number_change
    (contact,) = transcript["contacts"]
    contents = [m["content"] for m in transcript["connect"]]
    assert contents == [
        "Hi, about order 1234",
        "[WhatsApp notice: the customer changed their phone number from *******1111 to *******9999.]",
        "I have a new phone, same me",
    ]
    assert {m["contact_id"] for m in transcript["connect"]} == {contact["contact_id"]}
    assert transcript["rejected"] == [] and transcript["skipped"] == []


def test_replies_after_the_change_reach_the_new_number(number_change):
    _, transcript, _ = number_change
    assert [(m["to"], m["text"]) for m in transcript["whatsapp_out"]] == [
        (OLD, "Hello Maria, let me check"),
        (NEW, "Thanks, noted: it ships Monday"),
    ]
    assert transcript["whatsapp_refused"] == []


@pytest.fixture(scope="module")
def quick_first_message(tmp_path_factory):
    """The new number writes right after the notice, a turn that ends with a question: under the default `cues` its
    burst is due sooner (0.3x bufferSeconds) than the notice's would be on its own (1x)."""
    lines = [
        {"at": 0, "type": "whatsapp", "from": OLD, "name": "Maria", "text": "Hi, about order 1234"},
        {"at": 40, "type": "agent", "to": OLD, "text": "Hello Maria, let me check"},
        {"at": 60, "type": "raw", "message": _system_notice(60)},
        {"at": 60.5, "type": "whatsapp", "from": NEW, "name": "Maria", "text": "thanks, is my order shipped?"},
        {"at": 140, "type": "agent", "to": NEW, "text": "Yes, it ships Monday"},
    ]
    return replay_lines(tmp_path_factory, "number_change_quick", lines, endOfTurn="cues", bufferSeconds="11")


def test_a_first_message_right_after_the_notice_follows_it_in_the_same_chat(quick_first_message):
    _, transcript, _ = quick_first_message
    assert_the_notice_comes_first_in_one_chat(transcript, "changed their phone number", OLD, NEW)


def test_a_number_that_had_another_owner_never_continues_that_owners_chat(tmp_path_factory):
    """A recycled number: the new number's key holds the ended chat of the number's previous owner, and the
    customer's own chat under the old number has ended too. The chat the notice opens continues the customer's chat,
    never the stranger's (the agent would read the stranger's conversation)."""
    lines = [
        {"at": 0, "type": "whatsapp", "from": NEW, "name": "Bob", "text": "Bob here, my account 777 is locked"},
        {"at": 10, "type": "whatsapp", "from": OLD, "name": "Maria", "text": "Hi, about order 1234"},
        {"at": 30, "type": "agent", "to": NEW, "text": "Unlocked, Bob"},
        {"at": 35, "type": "agent", "to": OLD, "text": "Hello Maria, it ships Monday"},
        {"at": 60, "type": "end_chat", "to": NEW},
        {"at": 70, "type": "end_chat", "to": OLD},
        {"at": 400, "type": "raw", "message": _system_notice(400)},
        {"at": 401, "type": "whatsapp", "from": NEW, "name": "Maria", "text": "new phone, same Maria: did 1234 ship?"},
    ]
    _, transcript, _ = replay_lines(tmp_path_factory, "recycled_number", lines)
    first_of = {m["content"]: m["contact_id"] for m in transcript["connect"]}
    bobs, marias = first_of["Bob here, my account 777 is locked"], first_of["Hi, about order 1234"]
    (after,) = [c for c in transcript["contacts"] if c["contact_id"] not in (bobs, marias)]
    assert after.get("continued_from") == marias
    assert first_of["new phone, same Maria: did 1234 ship?"] == after["contact_id"]


def test_a_username_only_message_after_a_change_that_regenerated_the_bsuid_joins_the_same_chat(tmp_path_factory):
    """Meta's changelog (Aug 11, 2026): "A phone number change also regenerates the user's business-scoped user ID
    (BSUID), so the previous values are now reported alongside the new ones on both system message types": the notice
    names the new BSUID (`user_id`) and the old (`previous_user_id`). A later message by username only (no `from`)
    comes from the new BSUID."""
    old_bsuid, new_bsuid = "US.13491208655302741918", "US.20771234567890123456"
    lines = [
        {
            "at": 0,
            "type": "whatsapp",
            "from": OLD,
            "user_id": old_bsuid,
            "name": "Maria",
            "text": "Hi, about order 1234",
        },
        {"at": 60, "type": "raw", "message": _system_notice(60, user_id=new_bsuid, previous_user_id=old_bsuid)},
        {"at": 100, "type": "whatsapp", "user_id": new_bsuid, "name": "Maria", "text": "now by my username"},
    ]
    _, transcript, _ = replay_lines(tmp_path_factory, "number_change_new_bsuid", lines)
    (contact,) = transcript["contacts"]
    assert [(m["content"], m["contact_id"]) for m in transcript["connect"]] == [
        ("Hi, about order 1234", contact["contact_id"]),
        ("[WhatsApp notice: the customer changed their phone number from *******1111 to *******9999.]",
         contact["contact_id"]),
        ("now by my username", contact["contact_id"]),
    ]  # fmt: skip
    assert transcript["rejected"] == [] and transcript["skipped"] == []
