"""Inbound handler end to end: bursts read from a moto SQS FIFO queue, sessions and idempotency on moto DynamoDB,
media through moto S3, Connect and End User Messaging faked under the real adapters."""

from __future__ import annotations

import json

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
from whatsapp_buffer.connect_chat import ChatContacts, ChatParticipant
from whatsapp_buffer.handlers import inbound
from whatsapp_buffer.media_store import MediaStore
from whatsapp_buffer.model import Burst, Conversation, OutgoingItem, burst_id_for
from whatsapp_buffer.sessions import SessionStore
from whatsapp_buffer.settings import InboundSettings
from whatsapp_buffer.whatsapp import WhatsApp

T0 = 1_000_000_000.0
ORIGIN = "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/5f811eaa4c81499384c496b909afbb1a"
TOPIC = "arn:aws:sns:us-east-1:123456789012:whatsapp-buffer-test-out"
MARIA = Conversation("111222333", "15550001111")
JOAO = Conversation("111222333", "15550002222")


def settings(mark_as_read=False):
    return InboundSettings(
        sessions_table_name="sessions",
        idempotency_table_name="idempotency",
        media_bucket_name="media-bucket",
        out_topic_arn=TOPIC,
        connect_instance_id="c800978e-fdc0-406e-bbb0-4f575f5842a6",
        contact_flow_id="7d3e0a55-1111-4222-8333-444455556666",
        chat_duration_minutes=60,
        mark_as_read=mark_as_read,
        meta_api_version="v20.0",
    )


class World:
    """Everything one test talks to, with a clock it controls."""

    def __init__(self, mark_as_read=False):
        self.now = T0
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        create_sessions_table(self.dynamodb)
        create_idempotency_table(self.dynamodb)
        self.s3.create_bucket(Bucket="media-bucket")
        self.queue_url = self.sqs.create_queue(
            QueueName="bursts.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}
        )["QueueUrl"]
        self.connect = FakeConnect(now=lambda: self.now)
        self.social = FakeSocial(self.s3)
        self.sessions = SessionStore("sessions", self.dynamodb)
        config = settings(mark_as_read)
        delivery = inbound.BurstDelivery(
            settings=config,
            sessions=self.sessions,
            contacts=ChatContacts(
                instance_id=config.connect_instance_id,
                contact_flow_id=config.contact_flow_id,
                chat_duration_minutes=config.chat_duration_minutes,
                streaming_topic_arn=config.out_topic_arn,
                client=self.connect.connect_client,
            ),
            participant=ChatParticipant(
                self.connect.participant_client, uploader=self.connect.upload, downloader=self.connect.download
            ),
            whatsapp=WhatsApp("v20.0", self.social.client),
            media=MediaStore("media-bucket", self.s3),
            now=lambda: self.now,
        )
        inbound.configure(delivery, DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=self.dynamodb))

    def enqueue(self, *bodies_and_groups):
        for body, group, dedup in bodies_and_groups:
            self.sqs.send_message(
                QueueUrl=self.queue_url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=dedup
            )

    def receive_event(self):
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", [])
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m["Attributes"],
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bursts.fifo",
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }

    def deliver(self, *bursts):
        self.enqueue(*((b.to_json(), b.conversation.key, b.burst_id) for b in bursts))
        return self.run()

    def run(self, event=None):
        event = event or self.receive_event()
        response = inbound.handler(event, LambdaContext())
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])
        self.redelivery = {"Records": [r for r in event["Records"] if r["messageId"] in failed]}
        return [r["messageId"] for r in event["Records"]], failed

    def retry(self):
        """SQS hands the failed records back (in order) once their visibility timeout ends."""
        return self.run(self.redelivery)

    def session(self, conversation=MARIA):
        return self.sessions.get(conversation.key)

    def calls(self, method):
        return [params for name, params in self.connect.calls if name == method]


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    inbound.reset()


def text_burst(*texts, conversation=MARIA, name="Maria"):
    items = tuple(OutgoingItem(kind="text", message_ids=(f"wamid.{t[:8]}",), text=t) for t in texts)
    return make_burst(items, conversation, name)


def make_burst(items, conversation=MARIA, name="Maria"):
    ids = [m for item in items for m in item.message_ids]
    return Burst(
        burst_id=burst_id_for(ids),
        conversation=conversation,
        items=tuple(items),
        origination_phone_number_id=ORIGIN,
        display_name=name,
    )


def delivered(world, contact_id):
    return [
        (m["client_token"], m.get("content") or (m["name"], m["content_type"]))
        for m in world.connect.chats[contact_id].messages
    ]


def test_first_burst_starts_a_streamed_chat_and_delivers_every_item_with_its_client_token(world):
    # GIVEN a customer with no chat
    burst = text_burst("Hello\nHow are you?", "second part")
    # WHEN the burst arrives
    _, failed = world.deliver(burst)
    # THEN one chat was started, streaming to the out-topic, showing the profile name and a masked number
    assert not failed
    (start,) = world.calls("start_chat_contact")
    assert start["ChatStreamingConfiguration"] == {"StreamingEndpointArn": TOPIC}
    assert start["ParticipantDetails"] == {"DisplayName": "Maria"}
    assert start["Attributes"]["customer"] == "*******1111"
    assert "15550001111" not in json.dumps(start)
    assert start["ChatDurationInMinutes"] == 60
    # AND the items arrived in order, each under its burst client token
    session = world.session()
    assert delivered(world, session.contact_id) == [
        (burst.client_token(0), "Hello\nHow are you?"),
        (burst.client_token(1), "second part"),
    ]
    assert session.origination_phone_number_id == ORIGIN
    assert session.expires_at == int(T0 + 3600)


def test_a_nameless_customer_is_shown_by_masked_number(world):
    world.deliver(text_burst("hi", name=None))
    assert world.calls("start_chat_contact")[0]["ParticipantDetails"] == {"DisplayName": "*******1111"}


def test_a_later_burst_reuses_the_chat(world):
    world.deliver(text_burst("first"))
    world.now += 600
    world.deliver(text_burst("second"))
    assert len(world.calls("start_chat_contact")) == 1
    assert [m["content"] for m in world.connect.chats[world.session().contact_id].messages] == ["first", "second"]


def test_a_chat_past_its_duration_is_replaced_not_duplicated(world):
    world.deliver(text_burst("first"))
    old = world.session().contact_id
    world.connect.end_chat(old)
    world.now += 3601
    world.deliver(text_burst("after an hour"))
    new = world.session().contact_id
    assert new != old
    assert world.calls("start_chat_contact")[1]["RelatedContactId"] == old
    assert [c.contact_id for c in world.connect.live_chats()] == [new]
    assert world.sessions.get_by_contact(old) is None


def test_a_chat_the_agent_ended_gets_the_whole_burst_on_a_new_chat(world):
    world.deliver(text_burst("first"))
    old = world.session().contact_id
    world.connect.end_chat(old)
    burst = text_burst("are you there?", "hello?")
    _, failed = world.deliver(burst)
    assert not failed
    new = world.session().contact_id
    assert new != old
    assert delivered(world, new) == [(burst.client_token(0), "are you there?"), (burst.client_token(1), "hello?")]


def test_access_denied_mid_burst_delivers_the_whole_burst_once_on_the_new_chat(world):
    world.deliver(text_burst("first"))
    old = world.session().contact_id
    world.connect.end_after[old] = 2  # the agent ends the chat right after the next message lands
    burst = text_burst("one", "two", "three")
    _, failed = world.deliver(burst)
    assert not failed
    new = world.session().contact_id
    assert [m["content"] for m in world.connect.chats[old].messages] == ["first", "one"]
    assert [m["content"] for m in world.connect.chats[new].messages] == ["one", "two", "three"]
    assert len(world.connect.live_chats()) == 1


def test_a_send_refused_on_a_live_chat_renews_the_connection_and_stays_in_that_chat(world):
    # GIVEN a live chat whose connection token stops working mid-burst (AccessDenied on a send)
    world.deliver(text_burst("first"))
    before = world.session()
    world.connect.fail_next("send_message", "AccessDeniedException", 403)
    # WHEN the next burst is delivered
    _, failed = world.deliver(text_burst("one", "two"))
    # THEN the connection is renewed, the chat is the same, and every message shows once
    assert not failed
    after = world.session()
    assert after.contact_id == before.contact_id
    assert after.connection_token != before.connection_token
    assert [m["content"] for m in world.connect.chats[before.contact_id].messages] == ["first", "one", "two"]
    assert len(world.calls("start_chat_contact")) == 1


def test_a_connection_about_to_expire_is_refreshed_without_a_new_chat(world):
    world.connect.connection_lifetime = 1800  # shorter than the 60-minute chat
    world.deliver(text_burst("first"))
    before = world.session()
    world.now = before.connection_expires_at - 60
    world.deliver(text_burst("later"))
    after = world.session()
    assert after.contact_id == before.contact_id
    assert after.connection_token != before.connection_token
    assert len(world.calls("create_participant_connection")) == 2
    assert len(world.calls("start_chat_contact")) == 1


def test_long_text_already_split_goes_as_one_message_per_item(world):
    parts = ("a" * 1024, "b" * 1024, "c" * 10)
    world.deliver(text_burst(*parts))
    contents = [m["content"] for m in world.connect.chats[world.session().contact_id].messages]
    assert contents == list(parts)
    assert all(len(params["Content"]) <= 1024 for params in world.calls("send_message"))


@pytest.mark.parametrize(
    ("kind", "mime", "filename", "expected_name", "expected_type"),
    [
        ("image", "image/jpeg", None, "image-1.jpg", "image/jpeg"),
        ("audio", "audio/mpeg", None, "audio-1.mp3", "audio/mpeg"),
        ("voice", "audio/ogg; codecs=opus", None, "voice-1.ogg", "audio/ogg"),
        ("video", "video/mp4", None, "video-1.mp4", "video/mp4"),
        ("document", "application/pdf", "invoice.pdf", "invoice.pdf", "application/pdf"),
    ],
)
def test_each_media_kind_is_fetched_and_attached_with_its_caption_after(
    world, kind, mime, filename, expected_name, expected_type
):
    content = {"media_id": "5550001", "mime_type": mime, "caption": "look at this"}
    if filename:
        content["filename"] = filename
    world.social.media["5550001"] = (b"\x89bytes", mime)
    burst = make_burst([OutgoingItem(kind=kind, message_ids=("wamid.m",), content=content)])
    world.deliver(burst)
    (attachment, caption) = world.connect.chats[world.session().contact_id].messages
    assert (attachment["name"], attachment["content_type"], attachment["data"]) == (
        expected_name,
        expected_type,
        b"\x89bytes",
    )
    assert attachment["client_token"] == burst.client_token(0)
    assert (caption["client_token"], caption["content"]) == (burst.client_token(0, "caption"), "look at this")
    (fetch,) = [p for name, p in world.social.calls if name == "get_whatsapp_message_media"]
    assert fetch["originationPhoneNumberId"] == ORIGIN
    assert fetch["destinationS3File"]["bucketName"] == "media-bucket"


def test_a_media_type_connect_rejects_becomes_a_notice(world):
    world.social.media["5550002"] = (b"RIFFwebp", "image/webp")
    burst = make_burst(
        [
            OutgoingItem(
                kind="sticker", message_ids=("wamid.s",), content={"media_id": "5550002", "mime_type": "image/webp"}
            )
        ]
    )
    _, failed = world.deliver(burst)
    assert not failed
    (notice,) = world.connect.chats[world.session().contact_id].messages
    assert notice["kind"] == "text" and notice["client_token"] == burst.client_token(0)
    assert "a sticker (sticker-1.webp)" in notice["content"] and "not accepted" in notice["content"]


def test_a_media_fetch_failure_becomes_a_notice_and_the_caption_still_arrives(world):
    burst = make_burst(
        [
            OutgoingItem(
                kind="image",
                message_ids=("wamid.i",),
                content={"media_id": "404404", "mime_type": "image/jpeg", "caption": "my receipt"},
            )
        ]
    )
    _, failed = world.deliver(burst)
    assert not failed
    notice, caption = world.connect.chats[world.session().contact_id].messages
    assert "an image" in notice["content"] and "could not be downloaded" in notice["content"]
    assert caption["content"] == "my receipt"


def test_location_contacts_and_replies_arrive_as_readable_text(world):
    burst = make_burst(
        [
            OutgoingItem(kind="location", message_ids=("w1",), content={"latitude": 1.5, "longitude": 2.5}),
            OutgoingItem(
                kind="contacts", message_ids=("w2",), content={"contacts": [{"name": {"formatted_name": "Bob"}}]}
            ),
            OutgoingItem(kind="interactive", message_ids=("w3",), content={"title": "Track order", "id": "t"}),
        ]
    )
    world.deliver(burst)
    contents = [m["content"] for m in world.connect.chats[world.session().contact_id].messages]
    assert contents[0].startswith("[Location] 1.5, 2.5")
    assert contents[1] == "[Shared contact]\n- Bob"
    assert contents[2] == "[Selected] Track order"


def test_a_redelivered_burst_is_not_shown_twice(world):
    burst = text_burst("only once")
    world.deliver(burst)
    sends = len(world.calls("send_message"))
    # the same burst again, as after a crash between send and delete (FIFO dedupe window passed)
    world.enqueue((burst.to_json(), burst.conversation.key, burst.burst_id + "-again"))
    _, failed = world.run()
    assert not failed
    assert len(world.calls("send_message")) == sends
    assert len(world.calls("start_chat_contact")) == 1
    assert [m["content"] for m in world.connect.chats[world.session().contact_id].messages] == ["only once"]


def test_a_failed_burst_is_retried_without_duplicating_what_already_landed(world):
    burst = text_burst("one", "two")
    world.connect.fail_next("send_message", "ThrottlingException", 429)
    _, failed = world.deliver(burst)
    assert len(failed) == 1
    _, failed = world.retry()
    assert not failed
    assert [m["content"] for m in world.connect.chats[world.session().contact_id].messages] == ["one", "two"]


def test_a_failing_burst_holds_back_its_own_conversation_but_not_others(world):
    maria_1, maria_2 = text_burst("m1"), text_burst("m2")
    joao = text_burst("j1", conversation=JOAO, name="Joao")
    world.connect.fail_next("start_chat_contact", "InternalServiceException", 500)
    world.enqueue(*((b.to_json(), b.conversation.key, b.burst_id) for b in (maria_1, maria_2, joao)))
    ids, failed = world.run()
    assert failed == set(ids[:2])
    assert world.session(MARIA) is None
    assert [m["content"] for m in world.connect.chats[world.session(JOAO).contact_id].messages] == ["j1"]
    world.retry()
    assert [m["content"] for m in world.connect.chats[world.session(MARIA).contact_id].messages] == ["m1", "m2"]


def test_a_body_that_is_not_a_burst_fails_alone_for_the_dlq(world):
    good = text_burst("fine", conversation=JOAO)
    world.enqueue(("{not json", MARIA.key, "bad-1"), (good.to_json(), good.conversation.key, good.burst_id))
    ids, failed = world.run()
    assert failed == {ids[0]}
    assert world.session(JOAO) is not None


def test_mark_as_read_sends_a_read_receipt_for_the_last_message():
    with mock_aws():
        world = World(mark_as_read=True)
        world.deliver(text_burst("a", "b"))
    inbound.reset()
    (receipt,) = world.social.sent
    assert receipt == {
        "origination": ORIGIN,
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.b",
    }
