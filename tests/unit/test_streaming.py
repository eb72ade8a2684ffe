"""streaming: Connect chat streaming messages -> typed events, and who may see them."""

import json
from pathlib import Path

import pytest

from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.outbound import streaming

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "connect" / "streaming_events.json").read_text())
RECORDS = FIXTURE["records"]


def parsed(name):
    sns = RECORDS[name]["Sns"]
    return streaming.parse(sns["Message"], sns["MessageAttributes"])


def test_agent_text_is_parsed_with_every_field():
    event = parsed("agent_text")
    assert event.type == streaming.MESSAGE
    assert event.content == "Hi, I'm Ana. How can I help?"
    assert event.participant_role == "AGENT"
    assert event.visibility == "ALL"
    assert event.message_id == "00c35ebd-8d20-4f88-9aa6-68bf556b3901"
    assert event.contact_ids == ("1e760cb3-4899-46aa-a937-804d70e15230",)
    assert event.is_text and event.for_customer and not event.ends_session


@pytest.mark.parametrize(
    ("name", "for_customer"),
    [
        ("agent_text", True),
        ("system_text", True),
        ("agent_attachment", True),
        ("customer_echo", False),
        ("agent_whisper", False),
        ("customer_left", False),
    ],
)
def test_only_non_customer_messages_visible_to_the_customer_are_for_the_customer(name, for_customer):
    assert parsed(name).for_customer is for_customer


@pytest.mark.parametrize(
    ("name", "ends"),
    [
        ("chat_ended", True),
        ("customer_left", True),
        ("agent_left", False),
        ("agent_typing", False),
        ("agent_text", False),
    ],
)
def test_chat_ended_and_the_customer_leaving_end_the_session(name, ends):
    assert parsed(name).ends_session is ends


def test_an_attachment_event_carries_its_id_name_type_and_status_and_no_text():
    event = parsed("agent_attachment")
    assert event.type == streaming.ATTACHMENT
    assert event.attachments == (streaming.Attachment("att-5f2a", "label.png", "image/png", "APPROVED"),)
    assert not event.is_text


def test_events_carry_no_text():
    for name in ("agent_typing", "agent_joined", "read_receipt"):
        assert not parsed(name).is_text


def test_missing_visibility_is_never_for_the_customer():
    sns = RECORDS["agent_text"]["Sns"]
    event = streaming.parse(sns["Message"], {})
    assert event.visibility is None
    assert not event.for_customer


def test_plain_attribute_values_are_accepted_too():
    sns = RECORDS["agent_text"]["Sns"]
    event = streaming.parse(sns["Message"], {"MessageVisibility": "CUSTOMER"})
    assert event.for_customer


def test_a_transferred_chat_is_looked_up_by_its_initial_contact_first():
    body = json.loads(RECORDS["agent_text"]["Sns"]["Message"])
    body["ContactId"] = "after-transfer"
    event = streaming.parse(json.dumps(body), {"MessageVisibility": "ALL"})
    assert event.contact_ids == ("1e760cb3-4899-46aa-a937-804d70e15230", "after-transfer")


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1, 2]",
        json.dumps({"ContactId": "c-1"}),
        json.dumps({"Type": "MESSAGE"}),
        json.dumps({"Type": "ATTACHMENT", "ContactId": "c-1", "Attachments": "nope"}),
        json.dumps({"Type": "ATTACHMENT", "ContactId": "c-1", "Attachments": [{"AttachmentName": "x"}]}),
    ],
)
def test_malformed_streaming_messages_are_rejected(message):
    with pytest.raises(MalformedEvent):
        streaming.parse(message, {"MessageVisibility": "ALL"})


def test_unknown_types_parse_but_are_neither_text_nor_ending():
    event = streaming.parse(json.dumps({"Type": "SOMETHING_NEW", "ContactId": "c-1"}), {"MessageVisibility": "ALL"})
    assert event.type == "SOMETHING_NEW"
    assert not event.is_text and not event.ends_session


@pytest.mark.parametrize(
    ("absolute_time", "sent_at"),
    [
        ("2026-01-15T10:30:00.000Z", 1768473000.0),
        ("2019-11-08T02:41:28.172Z", 1573180888.172),
        ("2026-01-15T10:30:00Z", 1768473000.0),
        ("", None),
        ("yesterday", None),
        ("2026-01-15T10:30:00.000", None),
    ],
    ids=["fixture", "botocore-example", "no-milliseconds", "absent", "not-a-time", "no-time-zone"],
)
def test_a_message_is_dated_by_its_absolute_time_and_by_nothing_else(absolute_time, sent_at):
    """botocore connectparticipant Item.AbsoluteTime: "The time when the message or event was sent. It's specified in
    ISO 8601 format: yyyy-MM-ddThh:mm:ss.SSSZ. For example, 2019-11-08T02:41:28.172Z." A time without its zone could
    be any hour: no date at all rather than a guess."""
    body = json.loads(RECORDS["agent_text"]["Sns"]["Message"]) | {"AbsoluteTime": absolute_time}

    event = streaming.parse(json.dumps(body))

    assert event.sent_at == pytest.approx(sent_at) if sent_at is not None else event.sent_at is None
