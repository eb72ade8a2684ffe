"""Asynchronous refusals told to the agent: WhatsApp accepts a send, then reports it `failed` in
`statuses[]` on the in-topic; ingest records a refusal item for a message the bridge sent, and the inbound function,
reading it off the raw table's stream, posts a `[WhatsApp bridge]` notice in the same chat.

Evidence for the status (Meta, WhatsApp Cloud API webhooks, "Status messages", and its error codes page, as copied by
several providers' docs): a failed status is `{"id": "wamid…", "status": "failed", "timestamp", "recipient_id",
"errors": [{"code", "title", "message", "error_data": {"details"}}]}`; "Cloud API errors are returned either
synchronously … asynchronously via Webhook, or sometimes through both". Codes: 131047 "Re-engagement message"
("Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
131026 "Message Undeliverable", 131053 "Media upload error", 131051 "Unsupported message type", 130472 "User's
number is part of an experiment". Meta advises building on `code` and `details`, not on titles.

The world is test_outbound's (the fake End User Messaging in its default `service_window="status"` mode sends the
131047 failed status asynchronously through `on_status`), with the raw table on moto and the relay's said hook."""

from __future__ import annotations

import copy
import json

import pytest
from moto import mock_aws

from tests.fixtures import eum
from tests.fixtures.tables import create_raw_table
from tests.handlers.test_outbound import CONVERSATION, T0, World, bridge_notices
from whatsapp_buffer import bootstrap, clock, notice_texts
from whatsapp_buffer.adapters.connect_chat import ConnectParticipant
from whatsapp_buffer.adapters.raw_common import partition_key
from whatsapp_buffer.adapters.raw_outbound import REFUSED_PREFIX
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.environment import IngestSettings
from whatsapp_buffer.inbound.refusal_notices import RefusalNotices
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.outbound.send_reply import SENT

BUSINESS = CONVERSATION.partition("#")[0]
CUSTOMER = CONVERSATION.partition("#")[2]
UNDELIVERABLE = {
    "code": 131026,
    "title": "Message Undeliverable",
    "message": "Message Undeliverable",
    "error_data": {"details": "Message Undeliverable."},
}


class RefusalWorld(World):
    """Outbound relay + ingest + the inbound function's refusal notices, one raw table between them."""

    def __init__(self):
        self.statuses: list[dict] = []
        super().__init__(on_status=lambda origination, status: self.statuses.append(status))
        self.raw = RawTable("raw", self.dynamodb)
        create_raw_table(self.dynamodb, "raw")
        outbound.installed.get().sender._remember_said = bootstrap.remember_said(self.raw, retention_hours=24)
        settings = IngestSettings(
            raw_table_name="raw", retention_hours=24, ignore_reactions=False, ignore_stickers=False, max_wait_seconds=60
        )
        ingest_module.build(settings, store=self.raw)
        self.notices = RefusalNotices(
            sessions=self.sessions,
            participant=ConnectParticipant(self.fake.participant_client),
        )

    def report(self, *statuses):
        """End User Messaging publishes the statuses on the in-topic; ingest handles them."""
        entry = eum.webhook_entry(statuses=[copy.deepcopy(s) for s in statuses], phone_number_id=BUSINESS)
        return ingest_module.handler(eum.sns_event(eum.sns_message(entry)), None)

    def refusal_items(self):
        response = self.dynamodb.query(
            TableName="raw",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :refused)",
            ExpressionAttributeValues={
                ":pk": {"S": partition_key(Conversation.from_key(CONVERSATION))},
                ":refused": {"S": REFUSED_PREFIX},
            },
        )
        return response["Items"]

    def stream(self):
        """The raw table's stream as the inbound function's mapping hands it the refusal items (INSERTs)."""
        records = [
            {"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"NewImage": item}}
            for item in self.refusal_items()
        ]
        return self.notices.handle({"Records": records})


@pytest.fixture
def world():
    with mock_aws():
        yield RefusalWorld()
    outbound.installed.reset()
    ingest_module.installed.reset()


def a_reply_whatsapp_accepts_then_fails(world):
    """The bridge does not know when the customer last wrote (a chat resumed), so it sends; WhatsApp's window is
    closed, so it accepts and reports 131047 afterwards."""
    world.open_session(customer_wrote_at=None)
    world.now = T0 + 25 * 3600
    assert world.handle("agent_text") == [SENT]
    (status,) = world.statuses
    assert status["status"] == "failed" and status["errors"][0]["code"] == 131047
    return status


def test_a_reply_whatsapp_reports_failed_after_accepting_it_is_told_to_the_agent_with_metas_reason(world):
    status = a_reply_whatsapp_accepts_then_fails(world)
    result = world.report(status)
    assert world.stream() == {"refusals_told": 1}
    (notice,) = bridge_notices(world)
    assert notice.startswith('[WhatsApp bridge] Not delivered (your message "Hi, I\'m Ana. How can I help?")')
    assert "(131047) Re-engagement message" in notice and "more than 24 hours" in notice
    assert result["statuses"] == 1 and result["stored"] == 0


def test_a_failed_status_delivered_twice_is_told_once(world):
    status = a_reply_whatsapp_accepts_then_fails(world)
    world.report(status)
    world.report(status)
    assert len(world.refusal_items()) == 1
    world.stream()
    world.stream()  # the stream mapping retried the batch: the notice's ClientToken holds it to once
    assert len(bridge_notices(world)) == 1


def test_a_failed_status_of_a_message_the_bridge_did_not_send_tells_nobody(world):
    world.open_session()
    foreign = {
        "id": "wamid.SENT_BY_ANOTHER_SYSTEM",
        "status": "failed",
        "timestamp": str(int(T0)),
        "recipient_id": CUSTOMER,
        "errors": [UNDELIVERABLE],
    }
    world.report(foreign)
    assert world.refusal_items() == []
    assert world.stream() == {}
    assert bridge_notices(world) == []


def test_delivered_and_read_statuses_of_the_bridges_messages_tell_nothing(world):
    status = a_reply_whatsapp_accepts_then_fails(world)
    world.report({**status, "status": "delivered", "errors": []}, {**status, "status": "read", "errors": []})
    assert world.refusal_items() == []


def test_a_refusal_for_a_chat_already_over_is_counted_not_posted(world):
    status = a_reply_whatsapp_accepts_then_fails(world)
    world.report(status)
    world.fake.services.end_chat(world.contact_id)
    world.sessions.end(CONVERSATION, world.contact_id, world.now)
    assert world.stream() == {"refusals_told": 0}


@pytest.mark.parametrize(
    ("code", "reason", "words"),
    [
        (131047, notice_texts.WINDOW_CLOSED, "more than 24 hours"),
        (131026, notice_texts.UNDELIVERABLE, "could not deliver it"),
        (131053, notice_texts.MEDIA_ERROR, "could not process the file"),
        (131051, notice_texts.UNSUPPORTED_TYPE, "does not support this type"),
        (130472, notice_texts.EXPERIMENT, "experiment"),
        (131000, notice_texts.WHATSAPP_FAILED, "WhatsApp reported it failed"),
    ],
)
def test_each_common_code_is_a_refusal_reason_and_plain_words_with_metas_title(code, reason, words):
    assert notice_texts.failed_reason(code) == reason
    notice = notice_texts.not_delivered_after_sending("document", "invoice.pdf", code, "Meta's title", "")
    assert notice.startswith("[WhatsApp bridge] Not delivered (your file invoice.pdf): ")
    assert words in notice and f"({code}) Meta's title" in notice


def test_every_kind_the_relay_sends_is_remembered_so_its_failure_can_be_named(world):
    world.open_session()
    world.handle("agent_text")
    (sent,) = world.sent()
    kind_and_clip = world.raw.sent(Conversation.from_key(CONVERSATION), sent_id(world), world.now)
    assert kind_and_clip == ("text", "Hi, I'm Ana. How can I help?")
    assert sent["type"] == "text"


def sent_id(world):
    (sent,) = world.fake.services.whatsapp_sent
    return sent.message_id


def test_a_told_refusal_is_counted_in_replies_refused_by_its_reason(world, capsys):
    status = a_reply_whatsapp_accepts_then_fails(world)
    world.report(status)
    capsys.readouterr()
    world.stream()
    reasons = [
        document["Reason"]
        for line in capsys.readouterr().out.splitlines()
        if '"_aws"' in line and "RepliesRefused" in (document := json.loads(line)) and "Reason" in document
    ]
    assert reasons == [notice_texts.WINDOW_CLOSED]


def test_a_refusal_of_a_reply_whose_clip_and_error_hold_noncharacters_is_recorded_cleaned(world):
    # GIVEN a reply the bridge sent whose kept clip holds U+FFFF, and WhatsApp's failed status with U+FFFE/U+FFFF in
    # its error title and details (the item goes to the table and, through the inbound function, to the chat)
    world.open_session()
    said_at = clock.now()  # the clock ingest checks the clip's expiry with
    world.raw.remember_said(Conversation.from_key(CONVERSATION), "wamid.SENT1", "code 12\uffff34", said_at, 24)
    error = {**UNDELIVERABLE, "title": "Message\uffffUndeliverable", "error_data": {"details": "no\ufffe"}}
    status = {"id": "wamid.SENT1", "status": "failed", "timestamp": str(int(T0)), "recipient_id": CUSTOMER}
    # WHEN ingest reads the status
    world.report({**status, "errors": [error]})
    # THEN the refusal is recorded once, each character replaced as ingest replaces it in a customer's words
    (item,) = world.refusal_items()
    assert item["clip"]["S"] == "code 12\ufffd34"
    assert (item["error_title"]["S"], item["error_details"]["S"]) == ("Message\ufffdUndeliverable", "no\ufffd")
    assert world.stream() == {"refusals_told": 1}
