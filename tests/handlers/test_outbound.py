"""Outbound handler end to end: streaming records from the fixture file, sessions and idempotency on moto DynamoDB,
agent files through moto S3, Connect Participant and End User Messaging faked under the real adapters."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from moto import mock_aws

from tests.fixtures.connect.fake_clients import (
    FakeConnect,
    FakeSocial,
    LambdaContext,
    create_idempotency_table,
    create_sessions_table,
)
from whatsapp_buffer.connect_chat import ChatParticipant
from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.handlers import outbound
from whatsapp_buffer.media_store import MediaStore
from whatsapp_buffer.sessions import Session, SessionStore
from whatsapp_buffer.whatsapp import WhatsApp

RECORDS = json.loads((Path(__file__).parents[1] / "fixtures" / "connect" / "streaming_events.json").read_text())[
    "records"
]
CONTACT = "1e760cb3-4899-46aa-a937-804d70e15230"
ORIGIN = "phone-number-id-5f811eaa4c81499384c496b909afbb1a"
CONVERSATION = "111222333#15550001111"
T0 = 1_000_000_000.0


class World:
    def __init__(self):
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.s3 = boto3.client("s3", region_name="us-east-1")
        create_sessions_table(self.dynamodb)
        create_idempotency_table(self.dynamodb)
        self.s3.create_bucket(Bucket="media-bucket")
        self.connect = FakeConnect(now=lambda: T0)
        self.social = FakeSocial(self.s3)
        self.sessions = SessionStore("sessions", self.dynamodb)
        relay = outbound.ReplyRelay(
            sessions=self.sessions,
            participant=ChatParticipant(
                self.connect.participant_client, uploader=self.connect.upload, downloader=self.connect.download
            ),
            whatsapp=WhatsApp("v20.0", self.social.client),
            media=MediaStore("media-bucket", self.s3),
        )
        outbound.configure(relay, DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=self.dynamodb))

    def open_session(self, contact_id=CONTACT):
        """A live chat (in the fake) whose session points at `contact_id`, as the inbound side leaves it."""
        start = self.connect.connect_client.start_chat_contact(
            InstanceId="i", ContactFlowId="f", ParticipantDetails={"DisplayName": "Maria"}, ClientToken=contact_id
        )
        chat = self.connect.chats.pop(start["ContactId"])
        chat.contact_id = contact_id
        self.connect.chats[contact_id] = chat
        connection = self.connect.participant_client.create_participant_connection(
            Type=["CONNECTION_CREDENTIALS"], ParticipantToken=chat.participant_token, ConnectParticipant=True
        )["ConnectionCredentials"]
        self.sessions.replace(
            Session(
                conversation=CONVERSATION,
                contact_id=contact_id,
                participant_id="p",
                participant_token=chat.participant_token,
                connection_token=connection["ConnectionToken"],
                connection_expires_at=T0 + 86400,
                started_at=T0,
                origination_phone_number_id=ORIGIN,
                expires_at=int(T0 + 3600),
            ),
            expected_contact_id=None,
        )
        return chat

    def handle(self, *names_or_records):
        records = [RECORDS[n] if isinstance(n, str) else n for n in names_or_records]
        return outbound.handler({"Records": copy.deepcopy(records)}, LambdaContext())["outcomes"]


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    outbound.reset()


def test_an_agent_message_reaches_the_customer_from_the_business_number(world):
    world.open_session()
    assert world.handle("agent_text") == [outbound.SENT]
    assert world.social.sent == [
        {
            "origination": ORIGIN,
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "15550001111",
            "type": "text",
            "text": {"body": "Hi, I'm Ana. How can I help?"},
        }
    ]


def test_system_messages_visible_to_the_customer_are_relayed(world):
    world.open_session()
    world.handle("system_text")
    assert [m["text"]["body"] for m in world.social.sent] == ["Thanks for contacting us."]


@pytest.mark.parametrize(
    "name", ["customer_echo", "agent_whisper", "agent_typing", "agent_joined", "read_receipt", "agent_left"]
)
def test_echoes_whispers_and_events_are_not_relayed(world, name):
    world.open_session()
    assert world.handle(name) == [outbound.IGNORED]
    assert world.social.sent == []
    assert world.sessions.get(CONVERSATION) is not None


@pytest.mark.parametrize("name", ["chat_ended", "customer_left"])
def test_the_end_of_the_chat_ends_the_session(world, name):
    world.open_session()
    assert world.handle(name) == [outbound.ENDED]
    session = world.sessions.get(CONVERSATION)
    assert session is not None and session.chat_over(0)  # the next burst opens a new chat
    assert world.social.sent == []


def test_an_agent_message_that_arrives_after_chat_ended_still_reaches_the_customer(world):
    # GIVEN SNS delivered the chat.ended event before the agent's last message
    world.open_session()
    world.handle("chat_ended")
    # WHEN the agent's message arrives
    # THEN it is still relayed, once
    assert world.handle("agent_text") == [outbound.SENT]
    assert len(world.social.sent) == 1


def test_an_ended_event_for_a_replaced_chat_leaves_the_new_session_alone(world):
    world.open_session("newer-contact")
    assert world.handle("chat_ended") == [outbound.NO_SESSION]
    assert world.sessions.get(CONVERSATION).contact_id == "newer-contact"


def test_a_duplicate_sns_delivery_is_sent_once(world):
    world.open_session()
    world.handle("agent_text")
    world.handle("agent_text")
    assert len(world.social.sent) == 1


def test_a_message_for_an_unknown_contact_is_dropped_quietly(world):
    assert world.handle("agent_text") == [outbound.NO_SESSION]
    assert world.social.sent == []


def attachment_record(attachment_id, name, content_type):
    record = copy.deepcopy(RECORDS["agent_attachment"])
    body = json.loads(record["Sns"]["Message"])
    body["Id"] = "stream-" + attachment_id
    body["Attachments"] = [
        {"ContentType": content_type, "AttachmentId": attachment_id, "AttachmentName": name, "Status": "APPROVED"}
    ]
    record["Sns"]["Message"] = json.dumps(body)
    return record


@pytest.mark.parametrize(
    ("content_type", "name", "kind", "media"),
    [
        ("image/png", "label.png", "image", lambda m: {"id": m}),
        ("audio/mpeg", "note.mp3", "audio", lambda m: {"id": m}),
        ("video/mp4", "howto.mp4", "video", lambda m: {"id": m}),
        ("application/pdf", "invoice.pdf", "document", lambda m: {"id": m, "filename": "invoice.pdf"}),
    ],
)
def test_an_agent_file_is_posted_to_whatsapp_and_sent_as_the_matching_type(world, content_type, name, kind, media):
    world.open_session()
    world.connect.uploads["att-77"] = b"agent-file-bytes"
    assert world.handle(attachment_record("att-77", name, content_type)) == [outbound.SENT]
    (message,) = world.social.sent
    media_id = message[kind]["id"]
    assert message["type"] == kind and message[kind] == media(media_id)
    assert world.social.posted[media_id] == b"agent-file-bytes"


def test_an_agent_file_that_cannot_be_fetched_becomes_a_notice(world):
    chat = world.open_session()
    world.connect.uploads["att-88"] = b"x"
    chat.ended = True  # GetAttachment and the reconnect both answer AccessDenied
    world.handle(attachment_record("att-88", "contract.pdf", "application/pdf"))
    (message,) = world.social.sent
    assert message["type"] == "text" and "contract.pdf" in message["text"]["body"]


def test_an_expired_connection_is_renewed_to_fetch_an_agent_file(world):
    world.open_session()
    world.connect.uploads["att-99"] = b"late-file"
    world.connect.by_connection.clear()  # the stored connection token no longer works
    world.handle(attachment_record("att-99", "late.png", "image/png"))
    (message,) = world.social.sent
    assert message["type"] == "image"
    assert world.social.posted[message["image"]["id"]] == b"late-file"


def test_unknown_streaming_types_are_ignored(world):
    world.open_session()
    record = copy.deepcopy(RECORDS["agent_text"])
    body = json.loads(record["Sns"]["Message"])
    body["Type"] = "SOMETHING_NEW"
    record["Sns"]["Message"] = json.dumps(body)
    assert world.handle(record) == [outbound.IGNORED]
    assert world.social.sent == []


@pytest.mark.parametrize("message", ["not json", "[]", None])
def test_malformed_bodies_raise_for_the_retry_and_dlq_path(world, message):
    record = copy.deepcopy(RECORDS["agent_text"])
    record["Sns"]["Message"] = message
    with pytest.raises(MalformedEvent):
        world.handle(record)
