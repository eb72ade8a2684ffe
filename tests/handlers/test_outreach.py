"""Outreach by template end to end in-process: the outreach handler as a contact flow invokes it (End User Messaging
from the project's one fake, the sessions table on moto), then the customer's reply through the inbound delivery."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws

from sandbox.fakes.templates import FakeTemplate
from tests.fixtures.fakes import InProcessAws, LambdaContext, create_sessions_table
from whatsapp_buffer import clock
from whatsapp_buffer.adapters.connect_chat import ConnectContacts, ConnectParticipant
from whatsapp_buffer.adapters.end_user_messaging import EndUserMessaging
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.adapters.outreach_records import OutreachRecordItems
from whatsapp_buffer.adapters.sessions_table import SessionsTable
from whatsapp_buffer.entrypoints import outreach
from whatsapp_buffer.environment import InboundSettings, OutreachSettings
from whatsapp_buffer.inbound.outreach_reply import OutreachReplies
from whatsapp_buffer.inbound.send_burst import BurstSender
from whatsapp_buffer.model import Burst, Conversation, OutgoingItem, burst_id_for
from whatsapp_buffer.settings import OUTREACH_TIMEOUT_SECONDS

T0 = 1_000_000_000.0
SUFFIX = "5f811eaa4c81499384c496b909afbb1a"
NUMBER = f"phone-number-id-{SUFFIX}"
META_NUMBER = "111222333"
WABA = "waba-0a1b2c3d"
CUSTOMER = "15550001111"
INSTANCE = "c800978e-fdc0-406e-bbb0-4f575f5842a6"


class World:
    def __init__(self, allowed: tuple[str, ...] = ()) -> None:
        self.now = T0
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.s3 = boto3.client("s3", region_name="us-east-1")
        create_sessions_table(self.dynamodb)
        self.fake = InProcessAws(lambda: self.now, self.s3)
        templates = self.fake.services.social.templates
        templates.link_number(NUMBER, META_NUMBER, WABA)
        templates.add(WABA, FakeTemplate("order_update", parameters=2, text="Hi {{1}}, order {{2}} shipped."))
        templates.add(WABA, FakeTemplate("spring_sale", status="PENDING"))
        self.records = OutreachRecordItems("sessions", self.dynamodb)
        clock.set_source(lambda: self.now)
        self.outreach = outreach.build(
            OutreachSettings(
                meta_api_version="v20.0", whatsapp_phone_number_ids=allowed, sessions_table_name="sessions"
            ),
            whatsapp=EndUserMessaging("v20.0", self.fake.social_client),
            records=self.records,
        )
        self.delivery = BurstSender(
            settings=InboundSettings(
                sessions_table_name="sessions",
                idempotency_table_name="idempotency",
                media_bucket_name="media-bucket",
                out_topic_arn="arn:aws:sns:us-east-1:123456789012:out",
                connect_instance_id=INSTANCE,
                contact_flow_id="7d3e0a55-1111-4222-8333-444455556666",
                contact_flows={},
                chat_duration_minutes=60,
                mark_as_read=False,
                meta_api_version="v20.0",
                transcribe_languages=(),
                echo_transcripts=False,
                transcript_wait_seconds=10,
            ),
            sessions=SessionsTable("sessions", self.dynamodb),
            contacts=ConnectContacts(
                instance_id=INSTANCE,
                chat_duration_minutes=60,
                streaming_topic_arn="arn:aws:sns:us-east-1:123456789012:out",
                client=self.fake.connect_client,
            ),
            participant=ConnectParticipant(
                self.fake.participant_client, uploader=self.fake.upload, downloader=self.fake.download
            ),
            whatsapp=EndUserMessaging("v20.0", self.fake.social_client),
            media=MediaBucket("media-bucket", self.s3),
            outreach=OutreachReplies(self.records),
            now=lambda: self.now,
        )

    def ask(self, **parameters) -> dict:
        event = {
            "Details": {"ContactData": {"ContactId": "agent-contact-1", "Channel": "TASK"}, "Parameters": parameters},
            "Name": "ContactFlowEvent",
        }
        return outreach.handler(event, LambdaContext())

    def reply(self, *texts: str, at: float) -> dict:
        self.now = at
        items = tuple(OutgoingItem(kind="text", message_ids=(f"wamid.{t[:6]}",), text=t) for t in texts)
        burst = Burst(
            burst_id=burst_id_for([m for i in items for m in i.message_ids]),
            conversation=Conversation(META_NUMBER, CUSTOMER),
            items=items,
            origination_phone_number_id=NUMBER,
            display_name="Ana",
            first_received_at=at - 1,
            last_received_at=at,
        )
        return self.delivery.deliver(burst)

    def templates_sent(self) -> list[dict]:
        return [s for s in self.fake.whatsapp_sent() if s.get("type") == "template"]


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    outreach.installed.reset()


GOOD = {
    "to": CUSTOMER,
    "template": "order_update",
    "language": "en_US",
    "phoneNumberId": NUMBER,
    "parameter1": "Ana",
    "parameter2": "A-1042",
    "attribute_caseId": "C-77",
}


def test_an_approved_template_goes_with_its_parameters_and_the_flow_is_told_sent(world):
    answer = world.ask(**GOOD)

    assert answer["result"] == "sent" and answer["messageId"].startswith("wamid.")
    (sent,) = world.templates_sent()
    assert sent["to"] == CUSTOMER and sent["origination"] == NUMBER
    assert sent["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1042"}]}
        ],
    }
    assert all(isinstance(v, str) for v in answer.values())  # the flow's STRING_MAP response


def test_the_usual_check_is_one_lookup_of_the_number_and_one_of_the_template_by_name(world):
    world.ask(**GOOD)

    (lookup,) = world.fake.calls("GetWhatsAppMessageTemplate")
    assert lookup["templateName"] == "order_update" and lookup["templateLanguageCode"] == "en_US"
    assert lookup["id"] == WABA
    assert world.fake.calls("ListWhatsAppMessageTemplates") == []


def test_a_service_that_will_not_look_templates_up_by_name_is_asked_by_the_id_the_list_gives(world):
    """An older GetWhatsAppMessageTemplate took `metaTemplateId` only (the API reference's earlier page: "metaTemplateId
    ... Required: Yes"): a refusal of the by-name lookup other than not-found falls back to the list."""
    world.fake.services.inject("GetWhatsAppMessageTemplate", "ValidationException", times=1)

    answer = world.ask(**GOOD)

    assert answer["result"] == "sent"
    first, second = world.fake.calls("GetWhatsAppMessageTemplate")
    assert "templateName" in first and second["metaTemplateId"].isdigit()
    assert len(world.fake.calls("ListWhatsAppMessageTemplates")) == 1


def test_a_definition_without_a_status_takes_the_status_from_the_list(world, monkeypatch):
    """ListWhatsAppMessageTemplates documents `templateStatus`; the definition's `status` is Meta's object's, which
    End User Messaging does not promise to keep."""
    read = EndUserMessaging.template_definition

    def without_status(self, waba_id, summary):
        definition = json.loads(read(self, waba_id, summary))
        definition.pop("status")
        return json.dumps(definition)

    monkeypatch.setattr(EndUserMessaging, "template_definition", without_status)

    answer = world.ask(**{k: v for k, v in GOOD.items() if not k.startswith("parameter")} | {"template": "spring_sale"})

    assert answer == {"result": "refused", "reason": "template spring_sale is PENDING, not APPROVED"}
    assert len(world.fake.calls("ListWhatsAppMessageTemplates")) == 1


def test_the_same_request_again_answers_sent_without_a_second_message(world):
    first = world.ask(**GOOD)
    again = world.ask(**GOOD)

    assert again == {"result": "sent", "reason": "already sent for this request", "messageId": first["messageId"]}
    assert len(world.templates_sent()) == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"to": None}, "missing parameter 'to'"),
        ({"phoneNumberId": None}, "missing parameter 'phoneNumberId'"),
        ({"template": "no_such_template"}, "unknown template no_such_template (en_US)"),
        ({"language": "pt_BR"}, "unknown template order_update (pt_BR)"),
        ({"parameter2": None}, "takes 2 body parameter(s), the flow gave 1"),
        ({"parameter3": "extra"}, "takes 2 body parameter(s), the flow gave 3"),
        ({"template": "spring_sale", "parameter1": None, "parameter2": None}, "spring_sale is PENDING, not APPROVED"),
        ({"phoneNumberId": "phone-number-id-0000ffff"}, "could not find or read the business number"),
        ({"to": "not a number"}, "parameter 'to' is not a WhatsApp number"),
        ({"parameter1": None}, "parameter1, parameter2, ... without gaps"),
        ({"parameter1": "two\nlines"}, "no line breaks"),
        ({"attribute_bad key": "x"}, "attribute names may hold only"),
    ],
    ids=[
        "missing-number",
        "missing-business-number",
        "unknown-template",
        "unknown-language",
        "too-few-parameters",
        "too-many-parameters",
        "not-approved",
        "number-not-in-the-account",
        "malformed-number",
        "parameter-gap",
        "parameter-with-a-line-break",
        "bad-attribute-name",
    ],
)
def test_a_request_the_template_cannot_carry_is_refused_with_its_reason_and_nothing_is_sent(world, change, reason):
    parameters = {k: v for k, v in {**GOOD, **change}.items() if v is not None}

    answer = world.ask(**parameters)

    assert answer["result"] == "refused"
    assert reason in answer["reason"] and "\n" not in answer["reason"]
    assert world.templates_sent() == []


@pytest.mark.parametrize(
    "event",
    [None, "text", {"Details": "x"}, {"Details": {"Parameters": ["to"]}}, {"Details": {"Parameters": {"to": 1}}}],
    ids=["null", "string", "details-not-an-object", "parameters-not-a-map", "parameter-not-a-string"],
)
def test_a_malformed_event_is_refused_never_a_traceback(world, event):
    answer = outreach.installed.get().handle(event)

    assert answer["result"] == "refused" and answer["reason"].startswith("malformed event")


def test_a_number_the_stack_may_not_use_is_refused_before_any_lookup():
    with mock_aws():
        world = World(allowed=("phone-number-id-aaaa1111",))

        answer = world.ask(**GOOD)

        assert answer == {
            "result": "refused",
            "reason": "this stack may not send from that number (whatsappPhoneNumberIds)",
        }
        assert world.fake.calls("GetLinkedWhatsAppBusinessAccountPhoneNumber") == []
    outreach.installed.reset()


@pytest.mark.parametrize(
    ("operation", "code", "reason"),
    [
        ("SendWhatsAppMessage", "ValidationException", "End User Messaging refused the send"),
        ("GetWhatsAppMessageTemplate", "ThrottledRequestException", "End User Messaging is unavailable"),
        ("GetWhatsAppMessageTemplate", "AccessDeniedByMetaException", "could not find or read the template"),
    ],
)
def test_end_user_messaging_refusing_is_a_refusal_the_flow_can_branch_on(world, operation, code, reason):
    world.fake.services.inject(operation, code)

    answer = world.ask(**GOOD)

    assert answer["result"] == "refused" and reason in answer["reason"]
    assert world.templates_sent() == []


def test_a_template_that_failed_to_send_for_a_temporary_reason_is_sent_when_the_flow_asks_again(world):
    # GIVEN End User Messaging throttles the first send
    world.fake.services.inject("SendWhatsAppMessage", "ThrottledRequestException", times=1)
    first = world.ask(**GOOD)
    assert first["result"] == "refused" and "try again" in first["reason"]
    # WHEN the flow asks again with the same request
    again = world.ask(**GOOD)
    # THEN the template goes once, and the customer's reply carries the outreach
    assert again["result"] == "sent" and again["reason"] == "template order_update sent"
    assert len(world.templates_sent()) == 1
    world.reply("Hello?", at=T0 + 60)
    (contact,) = world.fake.services.contacts()
    assert contact.attributes["caseId"] == "C-77"


def test_a_send_in_doubt_goes_again_when_the_flow_asks_again_rather_than_not_at_all(world, monkeypatch):
    # GIVEN WhatsApp took the template but its answer never came (a read timeout): the send is in doubt, and
    # WhatsApp's send has no idempotency key
    client = world.fake.social_client
    send = client.send_whatsapp_message

    def taken_then_timed_out(**request):
        monkeypatch.setattr(client, "send_whatsapp_message", send)
        send(**request)
        raise ReadTimeoutError(endpoint_url="https://social-messaging.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "send_whatsapp_message", taken_then_timed_out)
    first = world.ask(**GOOD)
    # WHEN the flow asks again
    again = world.ask(**GOOD)
    # THEN it is sent again, as an agent reply in doubt is: twice rather than none
    assert first["result"] == "refused" and "try again" in first["reason"]
    assert again["result"] == "sent"
    assert len(world.templates_sent()) == 2


def test_a_send_whatsapp_refused_is_not_sent_when_the_flow_asks_the_same_again(world):
    world.fake.services.inject("SendWhatsAppMessage", "ValidationException", times=1)
    world.ask(**GOOD)

    again = world.ask(**GOOD)

    assert again["result"] == "refused" and "ask again with other parameters" in again["reason"]
    assert world.templates_sent() == []


def test_a_refused_send_leaves_no_outreach_for_the_reply_to_carry(world):
    world.fake.services.inject("SendWhatsAppMessage", "ValidationException", times=1)
    world.ask(**GOOD)

    world.reply("Hello?", at=T0 + 60)

    (contact,) = world.fake.services.contacts()
    assert "caseId" not in contact.attributes
    assert not any("template" in (c or "") for c in world.fake.contents(contact.contact_id))


def test_the_reply_starts_a_chat_with_the_outreach_attributes_and_the_agent_reads_what_was_sent_first(world):
    world.ask(**GOOD)

    world.reply("Where is it now?", at=T0 + 3600)

    (contact,) = world.fake.services.contacts()
    assert contact.attributes["caseId"] == "C-77"
    assert contact.attributes["outreachTemplate"] == "order_update"
    assert contact.attributes["outreachContactId"] == "agent-contact-1"
    assert contact.attributes["channel"] == "WhatsApp"
    notice, words = world.fake.contents(contact.contact_id)
    assert notice.startswith("[WhatsApp bridge] The customer is answering the WhatsApp template order_update (en_US)")
    assert notice.endswith("Hi Ana, order A-1042 shipped.")
    assert words == "Where is it now?"


def test_the_notice_is_shown_once_however_many_bursts_follow(world):
    world.ask(**GOOD)
    world.reply("Hi", at=T0 + 60)

    world.reply("Still there?", at=T0 + 120)

    (contact,) = world.fake.services.contacts()
    assert world.fake.contents(contact.contact_id)[1:] == ["Hi", "Still there?"]


def test_an_outreach_to_a_customer_in_an_open_chat_sets_its_attributes_on_that_chat(world):
    world.reply("Hi", at=T0 + 10)
    world.now = T0 + 20
    world.ask(**GOOD)

    world.reply("Thanks for the update", at=T0 + 30)

    (contact,) = world.fake.services.contacts()
    (update,) = world.fake.calls("UpdateContactAttributes")
    assert update["InitialContactId"] == contact.contact_id
    assert update["Attributes"]["caseId"] == "C-77"
    assert world.fake.contents(contact.contact_id)[0] == "Hi"
    assert world.fake.contents(contact.contact_id)[1].startswith("[WhatsApp bridge] The customer is answering")


def test_an_outreach_on_an_open_chat_never_overwrites_the_bridges_own_attributes(world):
    """A new chat lets the bridge's attributes win over an outreach's (`channel`, the masked `customer`, the business
    number's); an open chat keeps them the same way: the flow's `attribute_customer` and `attribute_channel` are not
    applied, its other attributes are."""
    world.reply("Hi", at=T0 + 10)
    (contact,) = world.fake.services.contacts()
    bridge = {name: contact.attributes[name] for name in ("channel", "customer")}
    world.now = T0 + 20
    world.ask(**GOOD, attribute_customer="Ana Silva +15550001111", attribute_channel="SMS")

    world.reply("Thanks for the update", at=T0 + 30)

    (update,) = world.fake.calls("UpdateContactAttributes")
    assert update["Attributes"]["caseId"] == "C-77"
    assert not set(update["Attributes"]) & set(bridge)
    assert {name: contact.attributes[name] for name in bridge} == bridge


def test_a_burst_from_before_the_outreach_does_not_show_it(world):
    world.now = T0 + 100
    world.ask(**GOOD)

    world.reply("written before the template arrived", at=T0 + 50)

    (contact,) = world.fake.services.contacts()
    assert world.fake.contents(contact.contact_id) == ["written before the template arrived"]
    assert json.dumps(contact.attributes).count("C-77") == 0


def test_a_reply_after_the_outreach_record_expired_carries_neither_its_attributes_nor_its_notice(world):
    """DynamoDB's TTL deletes an expired item only eventually (botocore UpdateTimeToLive: "DynamoDB typically deletes
    expired items within two days of expiration. ... Items that have expired and not been deleted will still show up
    in reads, queries, and scans"): a record still there after its `expires_at` is read as gone, as
    `raw_messages.MessageItems.stored_message` reads an expired message."""
    world.ask(**GOOD)
    record = world.records.get(f"{META_NUMBER}#{CUSTOMER}")
    assert record is not None

    world.reply("Hello again, a week later", at=record.expires_at + 60)

    (contact,) = world.fake.services.contacts()
    assert world.fake.contents(contact.contact_id) == ["Hello again, a week later"]
    assert "caseId" not in contact.attributes


def test_settings_read_from_the_environment_name_the_allowed_numbers():
    settings = OutreachSettings.from_env(
        {
            "META_API_VERSION": "v20.0",
            "WHATSAPP_PHONE_NUMBER_IDS": f"{NUMBER},phone-number-id-b2",
            "SESSIONS_TABLE_NAME": "sessions",
        }
    )

    assert settings.whatsapp_phone_number_ids == (NUMBER, "phone-number-id-b2")


def died_while_sending(world, monkeypatch):
    """The outreach function's invocation ends mid-send (Lambda's timeout, a crash): the record stays `sending`."""
    client = world.fake.social_client
    send = client.send_whatsapp_message

    def killed(**request):
        monkeypatch.setattr(client, "send_whatsapp_message", send)
        raise SystemExit("the invocation ended before End User Messaging answered")

    monkeypatch.setattr(client, "send_whatsapp_message", killed)
    with pytest.raises(SystemExit):
        world.ask(**GOOD)


def test_a_request_whose_invocation_died_mid_send_may_be_asked_again_once_that_invocation_is_over(world, monkeypatch):
    # GIVEN the first invocation claimed the request and died before End User Messaging answered
    died_while_sending(world, monkeypatch)
    # WHEN the flow asks the same again after the outreach function's timeout (Lambda ended that invocation)
    world.now += OUTREACH_TIMEOUT_SECONDS + 1
    again = world.ask(**GOOD)
    # THEN this request takes the claim over and the template goes (in doubt, as an agent reply: twice, never none)
    assert again["result"] == "sent" and again["reason"] == "template order_update sent"
    assert len(world.templates_sent()) == 1
    assert world.records.get(f"{META_NUMBER}#{CUSTOMER}").state == "sent"


def test_a_request_still_being_sent_within_the_functions_timeout_is_not_sent_twice(world, monkeypatch):
    # GIVEN an invocation claimed the request moments ago (it may still be sending)
    died_while_sending(world, monkeypatch)
    # WHEN the same request comes within the outreach function's timeout
    world.now += OUTREACH_TIMEOUT_SECONDS
    again = world.ask(**GOOD)
    # THEN it is refused, saying when to ask again, and nothing is sent
    assert again["result"] == "refused" and "being sent" in again["reason"]
    assert f"{OUTREACH_TIMEOUT_SECONDS} seconds" in again["reason"]
    assert world.templates_sent() == []


def test_the_outreach_functions_timeout_is_the_one_the_runtime_waits_out():
    """The program deploys the function with the timeout the runtime reads (runtime/whatsapp_buffer/settings.py)."""
    from components.functions import FUNCTIONS
    from whatsapp_buffer.settings import OUTREACH

    assert FUNCTIONS[OUTREACH].timeout_seconds == OUTREACH_TIMEOUT_SECONDS
