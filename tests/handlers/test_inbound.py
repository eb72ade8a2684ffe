"""Inbound handler end to end: bursts read from a moto SQS FIFO queue, sessions and idempotency on moto DynamoDB,
media through moto S3, Connect and End User Messaging from the project's one fake (`sandbox.fakes`, in-process) under the real adapters."""

from __future__ import annotations

import dataclasses
import json

import boto3
import botocore
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botocore.exceptions import ParamValidationError
from moto import mock_aws

from tests.fixtures.fakes import InProcessAws, LambdaContext, create_idempotency_table, create_sessions_table
from tests.fixtures.log_lines import log_lines
from whatsapp_buffer.adapters.connect_chat import ConnectContacts, ConnectParticipant
from whatsapp_buffer.adapters.end_user_messaging import EndUserMessaging
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.adapters.sessions_table import SessionsTable
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.environment import InboundSettings
from whatsapp_buffer.inbound.send_burst import BurstSender
from whatsapp_buffer.model import Burst, Conversation, OutgoingItem, burst_id_for

T0 = 1_000_000_000.0
ORIGIN = "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/5f811eaa4c81499384c496b909afbb1a"
TOPIC = "arn:aws:sns:us-east-1:123456789012:whatsapp-buffer-test-out"
MARIA = Conversation("111222333", "15550001111")
JOAO = Conversation("111222333", "15550002222")


def settings(mark_as_read=False, echo_transcripts=False, contact_flows=None):
    return InboundSettings(
        sessions_table_name="sessions",
        idempotency_table_name="idempotency",
        media_bucket_name="media-bucket",
        out_topic_arn=TOPIC,
        connect_instance_id="c800978e-fdc0-406e-bbb0-4f575f5842a6",
        contact_flow_id="7d3e0a55-1111-4222-8333-444455556666",
        contact_flows=dict(contact_flows or {}),
        chat_duration_minutes=60,
        mark_as_read=mark_as_read,
        meta_api_version="v20.0",
        transcribe_languages=(),
        echo_transcripts=echo_transcripts,
        transcript_wait_seconds=10,
    )


class World:
    """Everything one test talks to, with a clock it controls."""

    def __init__(
        self,
        mark_as_read=False,
        transcripts=None,
        echo_transcripts=False,
        late_transcripts=None,
        contact_flows=None,
        **fake_options,
    ):
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
        self.fake = InProcessAws(lambda: self.now, self.s3, **fake_options)
        self.sessions = SessionsTable("sessions", self.dynamodb)
        config = settings(mark_as_read, echo_transcripts, contact_flows)
        self.transcripts = transcripts(self) if transcripts else None
        self.participant = ConnectParticipant(
            self.fake.participant_client, uploader=self.fake.upload, downloader=self.fake.download
        )
        self.late = late_transcripts(self) if late_transcripts else None
        self.sender = BurstSender(
            settings=config,
            sessions=self.sessions,
            contacts=ConnectContacts(
                instance_id=config.connect_instance_id,
                chat_duration_minutes=config.chat_duration_minutes,
                streaming_topic_arn=config.out_topic_arn,
                client=self.fake.connect_client,
            ),
            participant=self.participant,
            whatsapp=EndUserMessaging("v20.0", self.fake.social_client),
            media=MediaBucket("media-bucket", self.s3),
            transcripts=self.transcripts,
            late_transcripts=self.late,
            now=lambda: self.now,
        )
        self.persistence = DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=self.dynamodb)
        self.install()

    def install(self, preparation=None):
        """The inbound function built on this world (with `preparation`: as a stack that transcribes builds it)."""
        inbound.build(
            sender=self.sender, persistence=self.persistence, preparation=preparation, late_transcripts=self.late
        )

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

    def calls(self, operation):
        return self.fake.calls(operation)


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    inbound.installed.reset()


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
        (m.upload_client_token or m.client_token, m.content or (m.attachment_name, m.content_type))
        for m in world.fake.items(contact_id)
    ]


def test_first_burst_starts_a_streamed_chat_and_delivers_every_item_with_its_client_token(world):
    # GIVEN a customer with no chat
    burst = text_burst("Hello\nHow are you?", "second part")
    # WHEN the burst arrives
    _, failed = world.deliver(burst)
    # THEN one chat was started, streaming to the out-topic, showing the profile name and a masked number
    assert not failed
    (start,) = world.calls("StartChatContact")
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
    assert world.calls("StartChatContact")[0]["ParticipantDetails"] == {"DisplayName": "*******1111"}


def test_a_later_burst_reuses_the_chat(world):
    world.deliver(text_burst("first"))
    world.now += 600
    world.deliver(text_burst("second"))
    assert len(world.calls("StartChatContact")) == 1
    assert world.fake.contents(world.session().contact_id) == ["first", "second"]


def test_a_chat_past_its_duration_is_replaced_not_duplicated(world):
    world.deliver(text_burst("first"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 3601
    world.deliver(text_burst("after an hour"))
    new = world.session().contact_id
    assert new != old
    # The old chat ended over a minute ago: the new one continues it (tests/handlers/test_inbound_flows.py).
    assert world.calls("StartChatContact")[1]["PersistentChat"]["SourceContactId"] == old
    assert world.fake.live_contact_ids() == [new]
    assert world.sessions.get_by_contact(old) is None


def test_a_chat_the_agent_ended_gets_the_whole_burst_on_a_new_chat(world):
    world.deliver(text_burst("first"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    burst = text_burst("are you there?", "hello?")
    _, failed = world.deliver(burst)
    assert not failed
    new = world.session().contact_id
    assert new != old
    assert delivered(world, new) == [(burst.client_token(0), "are you there?"), (burst.client_token(1), "hello?")]


def test_access_denied_mid_burst_delivers_the_whole_burst_once_on_the_new_chat(world):
    world.deliver(text_burst("first"))
    old = world.session().contact_id
    world.fake.end_chat_after(old, items=2)  # the agent ends the chat right after the next message lands
    burst = text_burst("one", "two", "three")
    _, failed = world.deliver(burst)
    assert not failed
    new = world.session().contact_id
    assert world.fake.contents(old) == ["first", "one"]
    assert world.fake.contents(new) == ["one", "two", "three"]
    assert len(world.fake.live_contact_ids()) == 1


def test_a_send_refused_on_a_live_chat_renews_the_connection_and_stays_in_that_chat(world):
    # GIVEN a live chat whose connection token stops working mid-burst (AccessDenied on a send)
    world.deliver(text_burst("first"))
    before = world.session()
    world.fake.services.inject("SendMessage", "AccessDeniedException", times=1)
    # WHEN the next burst is delivered
    _, failed = world.deliver(text_burst("one", "two"))
    # THEN the connection is renewed, the chat is the same, and every message shows once
    assert not failed
    after = world.session()
    assert after.contact_id == before.contact_id
    assert after.connection_token != before.connection_token
    assert world.fake.contents(before.contact_id) == ["first", "one", "two"]
    assert len(world.calls("StartChatContact")) == 1


def test_a_connection_about_to_expire_is_refreshed_without_a_new_chat(world):
    world.fake.services.participant.connection_ttl_seconds = 1800  # shorter than the 60-minute chat
    world.deliver(text_burst("first"))
    before = world.session()
    world.now = before.connection_expires_at - 60
    world.deliver(text_burst("later"))
    after = world.session()
    assert after.contact_id == before.contact_id
    assert after.connection_token != before.connection_token
    assert len(world.calls("CreateParticipantConnection")) == 2
    assert len(world.calls("StartChatContact")) == 1


def outbound_writes_during_the_next_renewal(world, first_text):
    """A chat (opened by `first_text`) whose connection is a minute from expiring, and an outbound function that claims
    the template and then ends the chat once the next delivery has read the session (at its connection renewal): the
    session as read before, and what those two writes return (filled during that delivery)."""
    world.fake.services.participant.connection_ttl_seconds = 1800  # shorter than the 60-minute chat
    world.deliver(text_burst(first_text))
    before = world.session()
    world.now = before.connection_expires_at - 60
    wrote: list[bool] = []

    def outbound_writes_meanwhile(call):
        if call.operation == "CreateParticipantConnection" and not wrote:
            wrote.append(world.sessions.claim_template(MARIA.key, before.contact_id, T0, T0 + 7, "reply-1"))
            wrote.append(world.sessions.end(MARIA.key, before.contact_id, T0 + 8))

    world.fake.services.on_call(outbound_writes_meanwhile)
    return before, wrote


def test_renewing_a_chats_connection_keeps_the_template_claim_and_the_end_the_outbound_function_wrote_meanwhile(
    world,
):
    # GIVEN a chat whose connection is about to expire when the next burst comes
    before, wrote = outbound_writes_during_the_next_renewal(world, "first")
    # WHEN the delivery renews the connection
    _, failed = world.deliver(text_burst("later"))
    # THEN the session has the new connection and still what the outbound function wrote
    assert not failed and wrote == [True, True]
    after = world.session()
    assert after.connection_token != before.connection_token
    assert (after.template_sent_at, after.ended_at) == (T0 + 7, T0 + 8)


def test_long_text_already_split_goes_as_one_message_per_item(world):
    parts = ("a" * 1024, "b" * 1024, "c" * 10)
    world.deliver(text_burst(*parts))
    contents = world.fake.contents(world.session().contact_id)
    assert contents == list(parts)
    assert all(len(params["Content"]) <= 1024 for params in world.calls("SendMessage"))


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
    contents = world.fake.contents(world.session().contact_id)
    assert contents[0].startswith("[Location] 1.5, 2.5")
    assert contents[1] == "[Shared contact]\n- Bob"
    assert contents[2] == "Track order"


def test_a_burst_stored_with_a_contact_card_or_order_of_the_wrong_shape_is_delivered_not_dead_lettered(world):
    """Bursts an older ingest stored (a fuzzer's finds: `phones` 5, `product_items` 1.5) reach the agent with what
    can be read, and the burst is not a batch item failure on every receive."""
    burst = make_burst(
        [
            OutgoingItem(
                kind="contacts",
                message_ids=("w1",),
                content={"contacts": [{"name": {"formatted_name": "Bob"}, "phones": 5, "emails": 7}]},
            ),
            OutgoingItem(kind="order", message_ids=("w2",), content={"product_items": 1.5, "text": "asap"}),
        ]
    )
    _, failed = world.deliver(burst)
    assert not failed
    assert world.fake.contents(world.session().contact_id) == ["[Shared contact]\n- Bob", "[Order: 0 items]\nasap"]


def test_a_redelivered_burst_is_not_shown_twice(world):
    burst = text_burst("only once")
    world.deliver(burst)
    sends = len(world.calls("SendMessage"))
    # the same burst again, as after a crash between send and delete (FIFO dedupe window passed)
    world.enqueue((burst.to_json(), burst.conversation.key, burst.burst_id + "-again"))
    _, failed = world.run()
    assert not failed
    assert len(world.calls("SendMessage")) == sends
    assert len(world.calls("StartChatContact")) == 1
    assert world.fake.contents(world.session().contact_id) == ["only once"]


def test_a_failed_burst_is_retried_without_duplicating_what_already_landed(world):
    burst = text_burst("one", "two")
    world.fake.services.inject("SendMessage", "ThrottlingException", times=1)
    _, failed = world.deliver(burst)
    assert len(failed) == 1
    _, failed = world.retry()
    assert not failed
    assert world.fake.contents(world.session().contact_id) == ["one", "two"]


def test_a_burst_retried_after_its_first_attempt_died_between_starting_and_connecting_the_chat_is_delivered(world):
    """The first attempt started the chat and ended before CreateParticipantConnection (a Lambda timeout, a 5xx). SQS
    hands the burst back after the queue's visibility timeout (six times the function's 120 s), and StartChatContact
    with the same ClientToken answers with that chat again (botocore 1.44 StartChatContact.ConnectionTypes: "When you
    retry a request with the same ClientToken, the response repeats the original contact"). botocore
    StartChatContact: "clients must subscribe to the
    participant's connection for the created chat within 5 minutes"; being late is not documented, and the fake
    refuses the connection (AccessDeniedException, tests/contract/test_connect_rules.py). The retry must then start
    another chat instead of failing on the same refused one until the burst reaches the dead-letter queue."""
    # GIVEN a first attempt that started the chat and died before connecting to it
    burst = text_burst("hello", "anyone there?")
    world.fake.services.inject("CreateParticipantConnection", "InternalServerException", times=1)
    _, failed = world.deliver(burst)
    assert len(failed) == 1
    (unconnected,) = world.fake.live_contact_ids()
    # WHEN SQS hands the burst back 12 minutes later
    world.now += 6 * 120
    _, failed = world.retry()
    # THEN it reaches a chat the bridge could connect to, once (the customer had no chat before: none to link)
    assert not failed
    session = world.session()
    assert session.contact_id != unconnected
    assert world.fake.contents(session.contact_id) == ["hello", "anyone there?"]
    assert world.calls("StartChatContact")[-1].get("RelatedContactId") is None


def test_the_chat_nobody_could_connect_to_is_ended_once_its_replacement_is_connected(world):
    """botocore StopContact: "Ends the specified contact ... Chat and task contacts can be terminated in any state,
    regardless of initiation method." Left open, the unconnected chat would reach an agent with no customer."""
    world.fake.services.inject("CreateParticipantConnection", "InternalServerException", times=1)
    world.deliver(text_burst("hello"))
    (unconnected,) = world.fake.live_contact_ids()
    world.now += 6 * 120
    _, failed = world.retry()
    assert not failed
    assert world.fake.live_contact_ids() == [world.session().contact_id]
    assert [c["ContactId"] for c in world.calls("StopContact")] == [unconnected]


def test_an_orphaned_chat_connect_will_not_end_leaves_the_burst_delivered_and_is_logged(world):
    world.fake.services.inject("CreateParticipantConnection", "InternalServerException", times=1)
    world.deliver(text_burst("hello"))
    (unconnected,) = world.fake.live_contact_ids()
    world.fake.services.inject("StopContact", "InternalServiceException", status=500, times=3)
    world.now += 6 * 120
    with log_lines() as lines:
        _, failed = world.retry()
    assert not failed
    assert world.fake.contents(world.session().contact_id) == ["hello"]
    assert unconnected in world.fake.live_contact_ids()
    (line,) = [x for x in lines if x["message"] == "orphaned chat could not be ended"]
    assert (line["level"], line["contact_id"], line["error"]) == ("WARNING", unconnected, "TransientAwsError")


def test_every_chat_the_earlier_attempts_could_not_connect_to_is_ended_not_only_the_last(world):
    # GIVEN a first attempt that died before connecting to its chat
    world.fake.services.inject("CreateParticipantConnection", "InternalServerException", times=1)
    world.deliver(text_burst("hello"))
    (first,) = world.fake.live_contact_ids()
    # AND a second attempt, 12 minutes later, whose first chat was refused and which died connecting to another
    world.now += 6 * 120
    world.fake.services.inject("CreateParticipantConnection", "AccessDeniedException", times=1)
    world.fake.services.inject("CreateParticipantConnection", "InternalServerException", times=1)
    _, failed = world.retry()
    assert failed
    (second,) = [c for c in world.fake.live_contact_ids() if c != first]
    # WHEN the third attempt comes 12 minutes later still and connects to a third chat
    world.now += 6 * 120
    _, failed = world.retry()
    # THEN both chats nobody could connect to are ended, and only the connected one is left
    assert not failed
    assert world.fake.live_contact_ids() == [world.session().contact_id]
    assert sorted(c["ContactId"] for c in world.calls("StopContact")) == sorted([first, second])
    assert world.fake.contents(world.session().contact_id) == ["hello"]


def test_a_failing_burst_holds_back_its_own_conversation_but_not_others(world):
    maria_1, maria_2 = text_burst("m1"), text_burst("m2")
    joao = text_burst("j1", conversation=JOAO, name="Joao")
    world.fake.services.inject("StartChatContact", "InternalServiceException", times=1)
    world.enqueue(*((b.to_json(), b.conversation.key, b.burst_id) for b in (maria_1, maria_2, joao)))
    ids, failed = world.run()
    assert failed == set(ids[:2])
    assert world.session(MARIA) is None
    assert world.fake.contents(world.session(JOAO).contact_id) == ["j1"]
    world.retry()
    assert world.fake.contents(world.session(MARIA).contact_id) == ["m1", "m2"]


def test_each_bursts_log_lines_carry_its_burst_id_as_correlation_id_and_the_masked_customer(world):
    maria, joao = text_burst("m1"), text_burst("j1", conversation=JOAO, name="Joao")
    with log_lines() as lines:
        world.deliver(maria, joao)
    started = {line["correlation_id"]: line for line in lines if line["message"] == "chat started"}
    assert set(started) == {maria.burst_id, joao.burst_id}
    assert started[joao.burst_id]["customer"] == JOAO.masked_customer
    assert {line["function_request_id"] for line in lines} == {LambdaContext.aws_request_id}
    assert MARIA.customer not in json.dumps(lines) and JOAO.customer not in json.dumps(lines)


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
    inbound.installed.reset()
    (receipt,) = world.fake.whatsapp_sent()
    assert receipt == {
        "origination": ORIGIN,
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.b",
    }


@pytest.mark.parametrize(("code", "status"), [("ValidationException", 400), ("ThrottledRequestException", 429)])
def test_a_read_receipt_whatsapp_refuses_does_not_fail_the_delivered_burst(code, status):
    with mock_aws():
        world = World(mark_as_read=True)
        world.fake.services.inject("SendWhatsAppMessage", code, status=status, times=1)
        _, failed = world.deliver(text_burst("a", "b"))
        assert not failed
        assert world.fake.contents(world.session().contact_id) == ["a", "b"]
    inbound.installed.reset()


def test_an_sdk_that_does_not_know_a_parameter_is_a_clear_logged_failure_not_a_silent_retry(world, caplog):
    """botocore validates every request against its own model before sending; a Lambda runtime whose bundled botocore
    predates StartChatContact.ChatStreamingConfiguration (1.43.104) raises ParamValidationError("Unknown parameter in
    input: …"), which is not a ClientError. Here the connect client refuses the parameter the same way."""

    def old_botocore(params, **_):
        if "ChatStreamingConfiguration" in params:
            raise ParamValidationError(
                report='Unknown parameter in input: "ChatStreamingConfiguration", must be one of: InstanceId'
            )

    world.fake.connect_client.meta.events.register("provide-client-params.connect.StartChatContact", old_botocore)
    _, failed = world.deliver(text_burst("Hello"))
    assert len(failed) == 1 and world.session() is None
    (error,) = [r for r in caplog.records if r.levelname == "ERROR" and "AWS SDK refused" in r.getMessage()]
    assert error.botocore_version == botocore.__version__
    assert "ChatStreamingConfiguration" in error.problem


def test_a_customer_who_comes_back_from_another_ad_updates_the_open_chats_ad_attributes(world):
    """botocore UpdateContactAttributes: "Creates or updates user-defined contact attributes associated with the
    specified contact. You can create or update user-defined attributes for both ongoing and completed contacts."
    The chat's first burst sets the ad attributes with StartChatContact; a later burst from another ad (Meta's
    `referral`, "only included if message sent via a Click to WhatsApp ad") moves them to the latest ad."""
    world.deliver(text_burst("Hi"))
    contact_id = world.session().contact_id
    assert world.calls("UpdateContactAttributes") == []
    later = dataclasses.replace(
        text_burst("Back again"), referral={"source_id": "120226305854810999", "source_type": "ad", "ctwa_clid": "C2"}
    )
    world.now += 60
    world.deliver(later)
    assert world.session().contact_id == contact_id
    attributes = world.fake.services.chats.contacts[contact_id].attributes
    assert (attributes["adSourceId"], attributes["adSourceType"], attributes["adClickId"]) == (
        "120226305854810999",
        "ad",
        "C2",
    )
    assert attributes["channel"] == "WhatsApp"  # merged into, not replaced
    assert len(world.calls("UpdateContactAttributes")) == 1
