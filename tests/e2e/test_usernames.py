"""A customer who uses a WhatsApp username and shares no phone number, through the whole sandbox and back.

Meta, "Business-scoped user IDs" (developers.facebook.com/documentation/business-messaging/whatsapp/
business-scoped-user-ids, updated 2026-03-31): "A business-scoped user ID ("BSUID") is a unique user identifier that
can be used to message a WhatsApp user when you don't know their phone number. BSUID will be assigned to the user_id
parameter and appear in all messages webhooks"; the messages webhooks' syntax marks `wa_id` "omitted if user's phone
number is unavailable" and `profile.username` "only included if user has adopted a username". Sending: "Use `to` to
send to a phone number. Use `recipient` to send to a BSUID or parent BSUID."
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import TRACES, replay, replay_lines

BSUID = "US.13491208655302741918"
PHONE = "15550001111"


@pytest.fixture(scope="module")
def username_run():
    return replay(TRACES / "username_customer.jsonl")


def test_a_username_customers_messages_reach_the_agent_in_one_chat_keyed_by_the_bsuid(username_run):
    _, transcript, _ = username_run
    assert transcript["rejected"] == []
    theirs = [m for m in transcript["connect"] if m["customer"] == BSUID]
    assert [m["content"] for m in theirs] == ["Hi, I saw your walnut desks\ndo you ship to Lisbon?", "great, thank you"]
    assert len({m["contact_id"] for m in theirs}) == 1
    assert [c["customer"] for c in transcript["contacts"]] == [BSUID, PHONE] or [
        c["customer"] for c in transcript["contacts"]
    ] == [PHONE, BSUID]


def test_the_agent_sees_the_customers_name_and_username(username_run):
    _, transcript, rep = username_run
    (contact,) = [c for c in transcript["contacts"] if c["customer"] == BSUID]
    chat = rep.services.fake.chats.contacts[contact["contact_id"]]
    assert chat.display_name == "Sheena Nelson (@walnut.fan)"


def test_the_agents_reply_goes_to_the_bsuid_as_recipient_and_a_phone_customers_to_the_number(username_run):
    _, transcript, rep = username_run
    assert {(m["to"], m["text"]) for m in transcript["whatsapp_out"]} == {
        (BSUID, "Hi Sheena, yes we ship to Lisbon"),
        (PHONE, "Hello, how can I help?"),
    }
    sent = {s.to: s.message for s in rep.services.fake.whatsapp_sent if s.type == "text"}
    assert sent[BSUID].get("recipient") == BSUID and "to" not in sent[BSUID]
    assert sent[PHONE].get("to") == PHONE and "recipient" not in sent[PHONE]


def test_ending_the_username_customers_chat_is_addressed_by_the_bsuid(username_run):
    _, transcript, rep = username_run
    assert transcript["skipped"] == []
    (contact,) = [c for c in transcript["contacts"] if c["customer"] == BSUID]
    assert rep.services.fake.chats.contacts[contact["contact_id"]].ended_at is not None


def test_no_log_line_carries_the_full_bsuid_or_phone_number(username_run):
    _, _, rep = username_run
    for function, lines in rep.pipeline.logs.items():
        for line in lines:
            assert BSUID not in line and PHONE not in line, f"{function}: {line[:160]}"
    assert any("US.****************1918" in line for lines in rep.pipeline.logs.values() for line in lines)


def test_the_trace_line_with_user_id_and_no_from_becomes_metas_documented_shape(username_run):
    events, _, _ = username_run
    from sandbox import trace

    first = next(e for e in events if e.type == "whatsapp" and e.data.get("user_id"))
    envelope = json.loads(trace.eum_message(first, "wamid.X", start_epoch=0, region="us-east-1", account_id="1")[0])
    value = json.loads(envelope["whatsAppWebhookEntry"])["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Sheena Nelson", "username": "@walnut.fan"}, "user_id": BSUID}]
    assert value["messages"][0]["from_user_id"] == BSUID and "from" not in value["messages"][0]


@pytest.fixture(scope="module")
def number_then_username(tmp_path_factory):
    """Meta shares the number while the business is in the user's contact book or they spoke within 30 days; the
    same user may then write without it. Both keys must reach one chat."""
    lines = [
        {
            "at": 0,
            "type": "whatsapp",
            "from": PHONE,
            "user_id": BSUID,
            "username": "@walnut.fan",
            "text": "Hi, with my number",
        },
        {"at": 60, "type": "whatsapp", "user_id": BSUID, "username": "@walnut.fan", "text": "and now without it"},
        {"at": 100, "type": "agent", "to": BSUID, "text": "Both reached me"},
    ]
    return replay_lines(tmp_path_factory, "number_then_username", lines)


def test_a_customer_who_writes_with_and_then_without_the_number_stays_in_one_chat(number_then_username):
    _, transcript, _ = number_then_username
    (contact,) = transcript["contacts"]
    assert [(m["customer"], m["content"], m["contact_id"]) for m in transcript["connect"]] == [
        (PHONE, "Hi, with my number", contact["contact_id"]),
        (BSUID, "and now without it", contact["contact_id"]),
    ]
    # the chat was opened under the number, so the reply goes to the number (Meta: "`to` takes precedence")
    assert [(m["to"], m["text"]) for m in transcript["whatsapp_out"]] == [(PHONE, "Both reached me")]
