"""Outbound handler end to end: streaming records from the fixture file, sessions and idempotency on moto DynamoDB,
agent files through moto S3, Connect Participant and End User Messaging from the project's one fake (`sandbox.fakes`,
in-process) under the real adapters. The fixture records name contact CONTACT: `handle` points them at the chat the
test opened in the fake."""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal
from pathlib import Path

import av
import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from moto import mock_aws

from sandbox import media_samples
from sandbox.fakes.records import iso8601
from tests.fixtures.fakes import InProcessAws, LambdaContext, create_idempotency_table, create_sessions_table
from tests.fixtures.log_lines import log_lines
from whatsapp_buffer.adapters.connect_chat import ConnectParticipant
from whatsapp_buffer.adapters.end_user_messaging import EndUserMessaging
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.adapters.sessions_table import SessionsTable
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.errors import MalformedEvent, TransientAwsError
from whatsapp_buffer.model import Session, Template
from whatsapp_buffer.outbound.send_reply import ENDED, IGNORED, NO_SESSION, REFUSED, SENT, ReplySender

RECORDS = json.loads((Path(__file__).parents[1] / "fixtures" / "connect" / "streaming_events.json").read_text())[
    "records"
]
CONTACT = "1e760cb3-4899-46aa-a937-804d70e15230"
ORIGIN = "phone-number-id-5f811eaa4c81499384c496b909afbb1a"
CONVERSATION = "111222333#15550001111"
T0 = 1_000_000_000.0


class World:
    def __init__(self, template=None, presence=False, **fake_options):
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.s3 = boto3.client("s3", region_name="us-east-1")
        create_sessions_table(self.dynamodb)
        create_idempotency_table(self.dynamodb)
        self.s3.create_bucket(Bucket="media-bucket")
        self.fake = InProcessAws(lambda: self.now, self.s3, **fake_options)
        self.contact_id = CONTACT
        self.record_contact = CONTACT
        """The contact id the test's records name; `handle` points them at the chat opened in the fake."""
        self.sessions = SessionsTable("sessions", self.dynamodb)
        self.now = T0
        self.written: dict[str, str] = {}
        """Each streaming message's AbsoluteTime, by Id: when the test first handled it. Connect stamps a message once,
        when it is sent, and a redelivery carries the same body."""
        self.slept: list[float] = []
        """The waits the function made, in order: each moves the test's clock on instead of sleeping."""
        relay = ReplySender(
            sessions=self.sessions,
            participant=ConnectParticipant(
                self.fake.participant_client, uploader=self.fake.upload, downloader=self.fake.download
            ),
            whatsapp=EndUserMessaging("v20.0", self.fake.social_client),
            media=MediaBucket("media-bucket", self.s3),
            now=lambda: self.now,
            template=template,
            presence=presence,
            sleep=self.sleep,
        )
        outbound.build(
            sender=relay, persistence=DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=self.dynamodb)
        )

    def open_session(self, contact_id=None, customer_wrote_at=None, last_message_id=None):
        """A live chat in the fake and a session pointing at it (or at `contact_id`), as the inbound side leaves it;
        returns the chat's contact id."""
        start = self.fake.connect_client.start_chat_contact(
            InstanceId="i",
            ContactFlowId="f",
            ParticipantDetails={"DisplayName": "Maria"},
            ClientToken="t",
            ChatDurationInMinutes=10080,  # long enough for replies days later
        )
        self.contact_id = start["ContactId"]
        connection = self.fake.participant_client.create_participant_connection(
            Type=["CONNECTION_CREDENTIALS"], ParticipantToken=start["ParticipantToken"], ConnectParticipant=True
        )["ConnectionCredentials"]
        self.fake.services.customer_wrote(ORIGIN, "15550001111")  # the 24-hour service window is open
        self.now = T0 + 60
        self.sessions.replace(
            Session(
                conversation=CONVERSATION,
                contact_id=contact_id or self.contact_id,
                participant_id="p",
                participant_token=start["ParticipantToken"],
                connection_token=connection["ConnectionToken"],
                connection_expires_at=T0 + 86400,
                started_at=T0,
                origination_phone_number_id=ORIGIN,
                expires_at=int(T0 + 3600),
                customer_wrote_at=customer_wrote_at,
                last_customer_message_id=last_message_id,
            ),
            expected_contact_id=None,
        )
        return self.contact_id

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def agent_file(self, data):
        """The agent shared a file in the chat; its attachment id."""
        return self.fake.services.agent_attachment(self.contact_id, "file", "application/octet-stream", data)

    def handle(self, *names_or_records):
        records = [RECORDS[n] if isinstance(n, str) else n for n in names_or_records]
        records = json.loads(json.dumps(records).replace(self.record_contact, self.contact_id))
        for record in records:
            message = record.get("Sns", {}).get("Message")
            try:
                body = json.loads(message) if isinstance(message, str) else None
            except (ValueError, RecursionError):
                body = None  # a malformed body (the corpus has some) reaches the function as it is
            if isinstance(body, dict):
                body["AbsoluteTime"] = self.written.setdefault(body.get("Id", ""), iso8601(self.now))
                record["Sns"]["Message"] = json.dumps(body)
        return outbound.handler({"Records": records}, LambdaContext())["outcomes"]

    def sent(self):
        return self.fake.whatsapp_sent()

    def posted(self, media_id):
        return self.fake.services.media(media_id)[0]


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    outbound.installed.reset()


def test_an_agent_message_reaches_the_customer_from_the_business_number(world):
    world.open_session()
    assert world.handle("agent_text") == [SENT]
    assert world.sent() == [
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
    assert [m["text"]["body"] for m in world.sent()] == ["Thanks for contacting us."]


@pytest.mark.parametrize(
    "name", ["customer_echo", "agent_whisper", "agent_typing", "agent_joined", "read_receipt", "agent_left"]
)
def test_echoes_whispers_and_events_are_not_relayed(world, name):
    world.open_session()
    assert world.handle(name) == [IGNORED]
    assert world.sent() == []
    assert world.sessions.get(CONVERSATION) is not None


@pytest.mark.parametrize("name", ["chat_ended", "customer_left"])
def test_the_end_of_the_chat_ends_the_session(world, name):
    world.open_session()
    assert world.handle(name) == [ENDED]
    session = world.sessions.get(CONVERSATION)
    assert session is not None and session.chat_over(0)  # the next burst opens a new chat
    assert world.sent() == []


def test_the_session_ends_at_the_time_the_relay_reads_from_its_clock(world):
    world.open_session()
    world.now = T0 + 1234.5
    world.handle("chat_ended")
    assert world.sessions.get(CONVERSATION).ended_at == T0 + 1234.5


def test_every_log_line_names_the_invocation_and_its_sns_message(world):
    world.open_session()
    record = copy.deepcopy(RECORDS["agent_typing"])
    with log_lines() as lines:
        world.handle(record)
    assert lines and {line["correlation_id"] for line in lines} == {record["Sns"]["MessageId"]}
    assert {line["function_request_id"] for line in lines} == {LambdaContext.aws_request_id}


def test_an_agent_message_that_arrives_after_chat_ended_still_reaches_the_customer(world):
    # GIVEN SNS delivered the chat.ended event before the agent's last message
    world.open_session()
    world.handle("chat_ended")
    # WHEN the agent's message arrives
    # THEN it is still relayed, once
    assert world.handle("agent_text") == [SENT]
    assert len(world.sent()) == 1


def test_an_ended_event_for_a_replaced_chat_leaves_the_new_session_alone(world):
    world.open_session("newer-contact")
    assert world.handle("chat_ended") == [NO_SESSION]
    assert world.sessions.get(CONVERSATION).contact_id == "newer-contact"


def test_a_duplicate_sns_delivery_is_sent_once(world):
    world.open_session()
    world.handle("agent_text")
    world.handle("agent_text")
    assert len(world.sent()) == 1


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
    attachment_id = world.agent_file(b"agent-file-bytes")
    assert world.handle(attachment_record(attachment_id, name, content_type)) == [SENT]
    (message,) = world.sent()
    media_id = message[kind]["id"]
    assert message["type"] == kind and message[kind] == media(media_id)
    assert world.posted(media_id) == b"agent-file-bytes"


def test_an_agent_file_that_cannot_be_fetched_becomes_a_notice(world):
    contact_id = world.open_session()
    attachment_id = world.agent_file(b"x")
    world.fake.services.end_chat(contact_id)  # GetAttachment and the reconnect both answer AccessDenied
    world.handle(attachment_record(attachment_id, "contract.pdf", "application/pdf"))
    (message,) = world.sent()
    assert message["type"] == "text" and "contract.pdf" in message["text"]["body"]


def test_an_expired_connection_is_renewed_to_fetch_an_agent_file(world):
    contact_id = world.open_session()
    attachment_id = world.agent_file(b"late-file")
    world.fake.services.revoke_connections(contact_id)  # the stored connection token no longer works
    world.handle(attachment_record(attachment_id, "late.png", "image/png"))
    (message,) = world.sent()
    assert message["type"] == "image"
    assert world.posted(message["image"]["id"]) == b"late-file"


def test_unknown_streaming_types_are_ignored(world):
    world.open_session()
    record = copy.deepcopy(RECORDS["agent_text"])
    body = json.loads(record["Sns"]["Message"])
    body["Type"] = "SOMETHING_NEW"
    record["Sns"]["Message"] = json.dumps(body)
    assert world.handle(record) == [IGNORED]
    assert world.sent() == []


@pytest.mark.parametrize("message", ["not json", "[]", None])
def test_malformed_bodies_raise_for_the_retry_and_dlq_path(world, message):
    record = copy.deepcopy(RECORDS["agent_text"])
    record["Sns"]["Message"] = message
    with pytest.raises(MalformedEvent):
        world.handle(record)


# ---------------------------------------------------------------------- what WhatsApp refuses is told to the agent

DAY = 24 * 3600


def bridge_notices(world):
    """The bridge's notices in the chat: the customer-side lines it posted with a notice ClientToken."""
    return [
        i.content for i in world.fake.items(world.contact_id) if (i.client_token or "").startswith("bridge-notice|")
    ]


@pytest.fixture
def sync_world():
    """End User Messaging refusing a free-form send outside the window at once (ValidationException "(#131047) …")."""
    with mock_aws():
        yield World(service_window="sync")
    outbound.installed.reset()


def test_a_reply_25_hours_after_the_customer_last_wrote_is_withheld_and_the_agent_told_why(world):
    # GIVEN the customer last wrote 25 hours ago
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    # WHEN the agent replies
    outcome = world.handle("agent_text")
    # THEN nothing goes to WhatsApp, and the agent reads in the chat what did not arrive and why
    assert outcome == [REFUSED]
    assert world.sent() == []
    (notice,) = bridge_notices(world)
    assert notice.startswith("[WhatsApp bridge] Not delivered (your message)")
    assert "25 h ago" in notice and "24 hours" in notice


def test_a_reply_written_inside_the_window_but_relayed_after_it_never_reads_fewer_hours_than_the_window(world):
    """The window is judged when the reply is relayed, the hours are counted to when the agent wrote it (a retry must
    say the same): a reply written at 23.5 h and relayed at 24.5 h must not read "23 h ago" beside "more than 24
    hours"."""
    world.open_session(customer_wrote_at=T0)
    reply_id = json.loads(RECORDS["agent_text"]["Sns"]["Message"])["Id"]
    world.written[reply_id] = iso8601(T0 + 23.5 * 3600)  # the AbsoluteTime Connect stamped when the agent wrote
    world.now = T0 + 24.5 * 3600
    assert world.handle("agent_text") == [REFUSED]
    (notice,) = bridge_notices(world)
    assert "24 h ago" in notice and "24 hours" in notice


def test_a_reply_within_the_window_goes_out_and_no_notice_is_posted(world):
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 23 * 3600
    assert world.handle("agent_text") == [SENT]
    assert len(world.sent()) == 1 and bridge_notices(world) == []


def test_a_redelivered_refused_reply_posts_one_notice(world):
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + DAY + 1
    world.handle("agent_text")
    world.handle("agent_text")
    assert len(bridge_notices(world)) == 1


def test_a_synchronous_refusal_of_end_user_messaging_is_told_to_the_agent_not_dead_lettered(sync_world):
    # GIVEN the bridge does not know when the customer last wrote, and End User Messaging refuses at once
    world = sync_world
    world.open_session()
    world.now = T0 + DAY + 60
    # WHEN the agent replies: THEN the handler does not fail (no retry, no DLQ) and the agent is told
    assert world.handle("agent_text") == [REFUSED]
    (notice,) = bridge_notices(world)
    assert "24 hours" in notice


def test_the_bridges_notice_streamed_back_by_connect_is_never_relayed_to_whatsapp(world):
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + DAY + 1
    world.handle("agent_text")
    (notice,) = bridge_notices(world)
    # Connect streams every chat message back, the bridge's own with ParticipantRole CUSTOMER
    echo = copy.deepcopy(RECORDS["customer_echo"])
    body = json.loads(echo["Sns"]["Message"])
    body["Content"] = notice
    echo["Sns"]["Message"] = json.dumps(body)
    assert world.handle(echo) == [IGNORED]
    assert world.sent() == []


def test_an_agent_file_whatsapp_does_not_accept_is_told_to_the_agent(world):
    world.open_session(customer_wrote_at=T0)
    attachment_id = world.fake.services.agent_attachment(world.contact_id, "notes.rtf", "application/rtf", b"{\\rtf1}")
    assert world.handle(attachment_record(attachment_id, "notes.rtf", "application/rtf")) == [REFUSED]
    (notice,) = bridge_notices(world)
    assert "notes.rtf" in notice and "does not accept" in notice


def test_an_agent_file_after_the_window_is_withheld_and_named_to_the_agent(world):
    world.open_session(customer_wrote_at=T0)
    attachment_id = world.agent_file(b"pdf")
    world.now = T0 + 2 * DAY
    assert world.handle(attachment_record(attachment_id, "invoice.pdf", "application/pdf")) == [REFUSED]
    assert world.sent() == []
    (notice,) = bridge_notices(world)
    assert "invoice.pdf" in notice and "48 h ago" in notice


@pytest.fixture
def template_world():
    with mock_aws():
        yield World(template=Template("order_update", "pt_BR"))
    outbound.installed.reset()


def test_after_the_window_the_approved_template_goes_once_and_the_agent_is_told(template_world):
    # GIVEN a re-engagement template is configured and the customer last wrote 25 hours ago
    world = template_world
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    # WHEN the agent sends two replies (and SNS delivers the first twice)
    world.handle("agent_text")
    world.handle("agent_text")
    world.handle(replace_id(RECORDS["agent_text"], "second-reply"))
    # THEN the template goes out once, and each reply's notice says so
    assert [(m["type"], m["template"]) for m in world.sent()] == [
        ("template", {"name": "order_update", "language": {"code": "pt_BR"}})
    ]
    first, second = bridge_notices(world)
    assert 'The approved template "order_update" was sent instead' in first
    assert 'The approved template "order_update" was already sent' in second


def test_once_the_customer_writes_again_a_later_closed_window_sends_the_template_again(template_world):
    world = template_world
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    world.handle("agent_text")
    world.sessions.customer_wrote(CONVERSATION, world.contact_id, T0 + 26 * 3600)
    world.now = T0 + 51 * 3600
    world.handle(replace_id(RECORDS["agent_text"], "two-days-later"))
    assert [m["type"] for m in world.sent()] == ["template", "template"]


def test_a_template_that_failed_to_send_for_a_temporary_reason_is_sent_on_the_retry(template_world):
    # GIVEN the window is closed and End User Messaging throttles the template's first send
    world = template_world
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    world.fake.services.inject("SendWhatsAppMessage", "ThrottledRequestException", times=1)
    # WHEN the reply's delivery fails on it and SNS delivers the reply again
    with pytest.raises(TransientAwsError):
        world.handle("agent_text")
    assert world.handle("agent_text") == [REFUSED]
    # THEN the retry sends the template, and the agent is told it was sent (not "already sent")
    assert [m["type"] for m in world.sent()] == ["template"]
    (notice,) = bridge_notices(world)
    assert 'The approved template "order_update" was sent instead' in notice


def test_a_retried_reply_whose_notice_failed_says_the_same_under_the_same_token(template_world):
    # GIVEN the template went out but the notice to the agent could not be posted (Connect throttled it)
    world = template_world
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600 + 3590
    world.fake.services.inject("connectparticipant:SendMessage", "ThrottlingException", times=1)
    with pytest.raises(TransientAwsError):
        world.handle("agent_text")
    # WHEN SNS delivers the reply again, an hour boundary later
    world.now += 60
    assert world.handle("agent_text") == [REFUSED]
    # THEN the template is not sent twice and the notice says what the first attempt would have said
    assert [m["type"] for m in world.sent()] == ["template"]
    (notice,) = bridge_notices(world)
    assert "25 h ago" in notice
    assert 'The approved template "order_update" was sent instead' in notice


def notice_requests(world, reply_id):
    """Each SendMessage the bridge made for a notice about the reply `reply_id`: (ClientToken, Content)."""
    return [
        (call["ClientToken"], call["Content"])
        for call in world.fake.calls("SendMessage")
        if call.get("ClientToken", "").startswith("bridge-notice|") and f"|{reply_id}#" in call["ClientToken"]
    ]


@pytest.mark.parametrize("template", [Template("order_update", "pt_BR"), None], ids=["template-claimed", "no-template"])
def test_a_reply_retried_an_hour_later_posts_the_identical_notice_under_the_identical_token(template):
    """botocore, Connect Participant SendMessage ClientToken: "A unique, case-sensitive identifier that you provide to
    ensure the idempotency of the request." Connect's documentation says nothing of a retry under the same token with
    other content, so a retry must send the very same request: the hours are counted to the reply's own AbsoluteTime
    (botocore Item.AbsoluteTime: "The time when the message or event was sent."), not to the clock of the retry."""
    with mock_aws():
        world = World(template=template)
        # GIVEN the window is closed and an earlier reply claimed the template (when one is configured)
        world.open_session(customer_wrote_at=T0)
        world.now = T0 + 25 * 3600
        world.handle("agent_text")
        # AND a later reply's notice, a minute before the 26th hour, reaches Connect but its answer is lost
        world.now = T0 + 25 * 3600 + 3540
        world.fake.services.inject("connectparticipant:SendMessage", "ThrottlingException", times=1)
        with pytest.raises(TransientAwsError):
            world.handle(replace_id(RECORDS["agent_text"], "second-reply"))
        # WHEN SNS delivers that reply again an hour later
        world.now += 3600
        assert world.handle(replace_id(RECORDS["agent_text"], "second-reply")) == [REFUSED]
        # THEN the retry sends the identical text under the identical token
        first, *retries = notice_requests(world, "second-reply")
        assert retries and all(retry == first for retry in retries)
        assert "25 h ago" in first[1]
    outbound.installed.reset()


def test_a_retried_reply_whose_template_was_refused_still_says_refused(template_world):
    world = template_world
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    world.fake.services.inject("SendWhatsAppMessage", "ValidationException", times=1)
    world.fake.services.inject("connectparticipant:SendMessage", "ThrottlingException", times=1)
    with pytest.raises(TransientAwsError):
        world.handle("agent_text")
    assert world.handle("agent_text") == [REFUSED]
    assert world.sent() == []
    (notice,) = bridge_notices(world)
    assert 'WhatsApp refused the approved template "order_update" too' in notice


def test_after_whatsapp_refused_the_template_a_later_reply_in_the_window_is_told_it_was_refused(template_world):
    # GIVEN the window is closed and WhatsApp refused the template the first reply sent
    world = template_world
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    world.fake.services.inject("SendWhatsAppMessage", "ValidationException", times=1)
    world.handle("agent_text")
    # WHEN the agent replies again in the same closed window
    world.now += 600
    assert world.handle(replace_id(RECORDS["agent_text"], "second-reply")) == [REFUSED]
    # THEN the template is not tried again, and the agent reads that it was refused, not that it was sent
    assert world.sent() == []
    first, second = bridge_notices(world)
    assert 'WhatsApp refused the approved template "order_update" too' in first
    assert 'WhatsApp refused the approved template "order_update" for an earlier reply' in second
    assert "already sent" not in second


def test_a_reply_while_an_earlier_reply_sends_the_template_is_told_its_outcome_is_not_known_yet(template_world):
    # GIVEN the window is closed and an earlier reply claimed the template, its send still in flight (no outcome yet)
    world = template_world
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    assert world.sessions.claim_template(CONVERSATION, world.contact_id, T0, world.now, "first-reply")
    # WHEN the agent's next reply comes before that send's outcome is recorded
    world.now += 5
    assert world.handle(replace_id(RECORDS["agent_text"], "second-reply")) == [REFUSED]
    # THEN it sends no template, and the agent reads that one is being sent, not that it was (WhatsApp may refuse it)
    assert world.sent() == []
    (notice,) = bridge_notices(world)
    assert 'The approved template "order_update" is being sent for an earlier reply' in notice
    assert "already sent" not in notice
    # AND once that send was refused, the next reply reads so
    assert world.sessions.settle_template(CONVERSATION, world.contact_id, "first-reply", "refused")
    world.handle(replace_id(RECORDS["agent_text"], "third-reply"))
    assert 'WhatsApp refused the approved template "order_update" for an earlier reply' in bridge_notices(world)[-1]


def test_a_reply_whose_invocation_died_while_sending_the_template_sends_it_on_the_retry(template_world):
    # GIVEN the reply's first invocation claimed the template and died before learning whether it went (in doubt:
    # WhatsApp's send has no idempotency key; like an agent reply in doubt, it goes again rather than not at all)
    world = template_world
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    reply_id = json.loads(RECORDS["agent_text"]["Sns"]["Message"])["Id"]
    assert world.sessions.claim_template(CONVERSATION, world.contact_id, T0, world.now, reply_id)
    # WHEN SNS delivers the reply again
    world.now += 120
    assert world.handle("agent_text") == [REFUSED]
    # THEN the template is sent and the agent told so; a later reply does not send it again
    world.handle(replace_id(RECORDS["agent_text"], "second-reply"))
    assert [m["type"] for m in world.sent()] == ["template"]
    first, second = bridge_notices(world)
    assert 'The approved template "order_update" was sent instead' in first
    assert 'The approved template "order_update" was already sent' in second


def replace_id(record, message_id):
    record = copy.deepcopy(record)
    body = json.loads(record["Sns"]["Message"])
    body["Id"] = message_id
    record["Sns"]["Message"] = json.dumps(body)
    record["Sns"]["MessageId"] = "sns-" + message_id
    return record


def agent_text(content, content_type="text/plain", message_id="agent-text"):
    record = replace_id(RECORDS["agent_text"], message_id)
    body = json.loads(record["Sns"]["Message"])
    body["Content"], body["ContentType"] = content, content_type
    record["Sns"]["Message"] = json.dumps(body)
    return record


def test_an_agents_rich_text_arrives_in_whatsapps_formatting(world):
    world.open_session()
    world.handle(agent_text("**Order 123** ships *today*: [track it](https://example.com/t)", "text/markdown"))
    assert [m["text"]["body"] for m in world.sent()] == ["*Order 123* ships _today_: track it (https://example.com/t)"]


def test_an_agents_plain_text_with_asterisks_is_sent_as_typed(world):
    world.open_session()
    world.handle(agent_text("**not markdown** [x](y)"))
    assert [m["text"]["body"] for m in world.sent()] == ["**not markdown** [x](y)"]


def long_reply_text():
    paragraph = " ".join(["Your replacement order is on its way"] * 40)  # ~1,480 characters
    return "\n\n".join(f"{i}. {paragraph}" for i in range(7))[:10_000]


def test_a_10000_character_reply_arrives_whole_in_several_messages_in_order(world):
    world.open_session()
    text = long_reply_text()
    world.handle(agent_text(text))
    bodies = [m["text"]["body"] for m in world.sent()]
    assert len(bodies) == 3 and all(len(b) <= 4096 for b in bodies)
    assert "\n\n".join(bodies).split() == text.split()


def test_a_long_reply_delivered_twice_is_sent_once(world):
    world.open_session()
    record = agent_text(long_reply_text())
    world.handle(record)
    world.handle(record)
    assert len(world.sent()) == 3


def test_a_long_reply_retried_after_a_failed_part_sends_no_part_twice(world):
    # GIVEN End User Messaging throttles the second part of a long reply
    world.open_session()
    record = agent_text(long_reply_text())
    sends = []

    def throttle_second(call):
        if call.operation == "SendWhatsAppMessage" and call.error is None:
            sends.append(call)
            if len(sends) == 1:
                world.fake.services.inject("SendWhatsAppMessage", "ThrottledRequestException", times=1)

    world.fake.services.on_call(throttle_second)
    with pytest.raises(TransientAwsError):
        world.handle(record)
    # WHEN Lambda retries the event
    world.handle(record)
    # THEN every part reached the customer exactly once, in order
    bodies = [m["text"]["body"] for m in world.sent()]
    assert "\n\n".join(bodies).split() == long_reply_text().split()


# ---------------------------------------------------------------------- agent files WhatsApp does not take as they are


def gif_bytes():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("P", (64, 48), 3).save(buffer, format="GIF")
    return buffer.getvalue()


def share(world, name, content_type, data):
    attachment_id = world.fake.services.agent_attachment(world.contact_id, name, content_type, data)
    return world.handle(attachment_record(attachment_id, name, content_type))


@pytest.mark.parametrize(
    ("name", "content_type", "data", "kind", "sent_type", "codecs"),
    [
        ("photo.gif", "image/gif", gif_bytes, "image", "image/jpeg", None),
        (
            "IMG_0042.HEIC",
            "image/heic",
            lambda: media_samples.sample("image", "image/heic"),
            "image",
            "image/jpeg",
            None,
        ),
        (
            "clip.mov",
            "video/quicktime",
            lambda: media_samples.sample("video", "video/quicktime"),
            "video",
            "video/mp4",
            {"h264", "aac"},
        ),
        ("memo.wav", "audio/wav", lambda: media_samples.sample("audio", "audio/wav"), "audio", "audio/mp4", {"aac"}),
    ],
)
def test_an_agent_file_whatsapp_refuses_as_it_is_arrives_converted(
    world, name, content_type, data, kind, sent_type, codecs
):
    world.open_session()
    assert share(world, name, content_type, data()) == [SENT]
    (message,) = world.sent()
    assert message["type"] == kind
    posted, posted_type = world.fake.services.media(message[kind]["id"])
    assert posted_type == sent_type
    if codecs is None:
        from PIL import Image

        assert Image.open(io.BytesIO(posted)).format == "JPEG"
    else:
        with av.open(io.BytesIO(posted)) as probe:
            assert {s.codec_context.name for s in probe.streams} == codecs


@pytest.mark.parametrize(
    ("name", "content_type", "size", "told"),
    [
        ("scan.png", "image/png", 5 * 1024 * 1024 + 1, "WhatsApp takes image/png files up to 5 MB"),
        ("table.csv", "text/csv", 100, "WhatsApp does not accept text/csv files"),
        ("logo.svg", "image/svg+xml", 100, "WhatsApp does not accept image/svg+xml files"),
    ],
)
def test_an_agent_file_whatsapp_would_refuse_is_told_before_anything_is_uploaded(world, name, content_type, size, told):
    world.open_session()
    assert share(world, name, content_type, b"\0" * size) == [REFUSED]
    assert world.sent() == [] and world.fake.calls("PostWhatsAppMessageMedia") == []
    (notice,) = bridge_notices(world)
    assert notice.startswith(f"[WhatsApp bridge] Not delivered (your file {name})") and told in notice


# ---------------------------------------------------------------------- presence: typing and read


@pytest.fixture
def presence_world():
    with mock_aws():
        yield World(presence=True)
    outbound.installed.reset()


def receipts(world):
    return [(m["message_id"], m.get("typing_indicator")) for m in world.sent() if m.get("status") == "read"]


def test_the_agent_typing_shows_whatsapps_typing_indicator_at_most_every_20_seconds(presence_world):
    world = presence_world
    world.open_session(last_message_id="wamid.LAST")
    for second in (0, 5, 19, 21):
        world.now = T0 + 60 + second
        world.handle(replace_id(RECORDS["agent_typing"], f"typing-{second}"))
    assert receipts(world) == [("wamid.LAST", {"type": "text"})] * 2


def test_the_agent_reading_the_chat_marks_the_customers_latest_message_read_once(presence_world):
    world = presence_world
    world.open_session(last_message_id="wamid.FIRST")
    world.handle(replace_id(RECORDS["read_receipt"], "read-1"))
    world.handle(replace_id(RECORDS["read_receipt"], "read-2"))
    world.sessions.customer_wrote(CONVERSATION, world.contact_id, T0 + 100, "wamid.SECOND")
    world.handle(replace_id(RECORDS["read_receipt"], "read-3"))
    assert receipts(world) == [("wamid.FIRST", None), ("wamid.SECOND", None)]


def numbers_in(value):
    """Every DynamoDB Number (`{"N": ...}`) anywhere in a request's parameters."""
    if isinstance(value, dict):
        if set(value) == {"N"}:
            return [value["N"]]
        return [n for inner in value.values() for n in numbers_in(inner)]
    if isinstance(value, list):
        return [n for inner in value for n in numbers_in(inner)]
    return []


def test_the_read_receipts_claim_sends_dynamodb_only_numbers_it_accepts(presence_world):
    """DynamoDB Developer Guide, Supported data types, Number: "Numbers can be positive, negative, or zero. Numbers can
    have up to 38 digits of precision. Exceeding this results in an exception" (positive range 1E-130 to
    9.9999999999999999999999999999999999999E+125, negative the same): neither infinity nor NaN is a Number, and the
    real service answers ValidationException. moto does not check expression values, so the request is checked."""
    world = presence_world
    world.open_session(last_message_id="wamid.FIRST")
    updates = []
    world.dynamodb.meta.events.register(
        "provide-client-params.dynamodb.UpdateItem", lambda params, **_: updates.append(copy.deepcopy(params))
    )
    world.handle(replace_id(RECORDS["agent_typing"], "typing-1"))
    world.handle(replace_id(RECORDS["read_receipt"], "read-1"))

    numbers = numbers_in(updates)
    assert len(updates) == 2 and numbers
    assert [n for n in numbers if not Decimal(n).is_finite() or abs(Decimal(n)) >= Decimal("1E126")] == []


def test_a_presence_claim_dynamodb_could_not_record_is_logged_and_dropped_never_failing_the_event(
    presence_world, monkeypatch
):
    world = presence_world
    world.open_session(last_message_id="wamid.FIRST")

    def throttled(*_, **__):
        raise TransientAwsError("DynamoDB claim a read signal: throttled or unavailable, a retry may fix it")

    monkeypatch.setattr(world.sessions, "claim_presence", throttled)
    assert world.handle("read_receipt") == [IGNORED]
    assert receipts(world) == []


def test_no_presence_is_signalled_before_the_customer_has_a_message_in_the_chat(presence_world):
    world = presence_world
    world.open_session()
    assert world.handle("agent_typing", "read_receipt") == [IGNORED, IGNORED]
    assert world.sent() == []


# ---------------------------------------------------------------------- flows' and bots' questions


def bot_question(elements, template="QuickReply", message_id="bot-question"):
    content = {"title": "How can we help?", "elements": [{"title": e} for e in elements]}
    record = agent_text(
        json.dumps({"templateType": template, "version": "1.0", "data": {"content": content}}),
        "application/vnd.amazonaws.connect.message.interactive",
        message_id,
    )
    body = json.loads(record["Sns"]["Message"])
    body["ParticipantRole"] = "SYSTEM"  # a flow's or Lex bot's message
    record["Sns"]["Message"] = json.dumps(body)
    return record


def test_a_bots_quick_reply_reaches_the_customer_as_whatsapp_reply_buttons(world):
    world.open_session()
    assert world.handle(bot_question(["Order status", "Returns"])) == [SENT]
    (message,) = world.sent()
    assert message["type"] == "interactive" and message["interactive"]["type"] == "button"
    assert [b["reply"]["title"] for b in message["interactive"]["action"]["buttons"]] == ["Order status", "Returns"]


def test_a_list_picker_of_more_than_ten_options_arrives_as_numbered_text(world):
    world.open_session()
    world.handle(bot_question([f"Store {i}" for i in range(1, 13)], template="ListPicker"))
    (message,) = world.sent()
    assert message["type"] == "text"
    assert message["text"]["body"].splitlines()[1:] == [f"{i}. Store {i}" for i in range(1, 13)]
    # kept on the session so the customer's "2" answers it (inbound.send_burst), forgotten once the agent writes
    assert world.sessions.get(CONVERSATION).numbered_options == tuple(f"Store {i}" for i in range(1, 13))
    world.handle("agent_text")
    assert world.sessions.get(CONVERSATION).numbered_options == ()


def test_a_bots_question_after_the_window_is_told_in_the_chat(world):
    world.open_session(customer_wrote_at=T0)
    world.now = T0 + 25 * 3600
    assert world.handle(bot_question(["Yes", "No"])) == [REFUSED]
    assert world.sent() == [] and len(bridge_notices(world)) == 1


def test_an_interactive_template_whatsapp_cannot_show_is_told_to_the_agent_never_sent_as_raw_json(world):
    world.open_session()
    assert world.handle(bot_question(["10:00"], template="TimePicker")) == [REFUSED]
    assert world.sent() == []
    (notice,) = bridge_notices(world)
    assert "cannot show this kind of interactive message" in notice
