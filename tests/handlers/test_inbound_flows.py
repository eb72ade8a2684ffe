"""A flow per business number, and the past conversation: the inbound function starts each chat in its number's flow,
names the number in the contact attributes, and continues a customer's ended chat as a persistent chat, or, when
Connect refuses, relates the new chat to it. test_inbound's world (moto DynamoDB, the project's one fake)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from moto import mock_aws

from tests.handlers.conftest import emitted
from tests.handlers.test_inbound import MARIA, ORIGIN, World, text_burst
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.model import Conversation

DEFAULT_FLOW = "7d3e0a55-1111-4222-8333-444455556666"
SALES_FLOW = "8e4f1b66-2222-4333-8444-555566667777"
SUPPORT_FLOW = "9f5a2c77-3333-4444-8555-666677778888"
SALES_EUM_ID = "phone-number-id-" + ORIGIN.rsplit("/", 1)[1]
SUPPORT_META_ID = "999888777"
SUPPORT_ORIGIN = "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/0a1b2c3d4e5f60718293a4b5c6d7e8f9"
FLOWS = {SALES_EUM_ID: SALES_FLOW, SUPPORT_META_ID: SUPPORT_FLOW}


@pytest.fixture
def world(request):
    options = getattr(request, "param", {})
    with mock_aws():
        yield World(contact_flows=FLOWS, contact_flow_ids=[DEFAULT_FLOW, SALES_FLOW, SUPPORT_FLOW], **options)
    inbound.installed.reset()


def started(world):
    return world.calls("StartChatContact")


def test_each_business_number_starts_its_chats_in_its_own_flow_and_others_in_the_default(world):
    # GIVEN contactFlows naming one number by its End User Messaging id and another by Meta's id
    by_eum_id = text_burst("sales question")
    by_meta_id = dataclasses.replace(
        text_burst("support question", conversation=Conversation(SUPPORT_META_ID, "15550001111")),
        origination_phone_number_id=SUPPORT_ORIGIN,
    )
    unlisted = dataclasses.replace(
        text_burst("other question", conversation=Conversation("444555666", "15550001111")),
        origination_phone_number_id=SUPPORT_ORIGIN.replace("0a1b", "ffff"),
    )
    # WHEN a customer writes to each of three numbers
    for burst in (by_eum_id, by_meta_id, unlisted):
        _, failed = world.deliver(burst)
        assert not failed
    # THEN each chat started in its number's flow, the unlisted number's in contactFlowId
    assert [call["ContactFlowId"] for call in started(world)] == [SALES_FLOW, SUPPORT_FLOW, DEFAULT_FLOW]


def test_the_chat_attributes_name_the_business_number_by_both_ids_so_one_flow_can_branch_on_it(world):
    world.deliver(text_burst("hello"))

    (call,) = started(world)
    assert call["Attributes"]["whatsappPhoneNumberId"] == MARIA.phone_number_id
    assert call["Attributes"]["whatsappEumPhoneNumberId"] == SALES_EUM_ID
    assert "15550001111" not in json.dumps(call["Attributes"])


def test_a_customer_back_after_their_chat_ended_continues_it_as_a_persistent_chat(world, capsys):
    # GIVEN a chat the agent ended two minutes ago (its transcript is written 60 s after the end)
    world.deliver(text_burst("first visit"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 120
    capsys.readouterr()
    # WHEN the customer writes again
    _, failed = world.deliver(text_burst("I'm back"))
    # THEN the new chat continues the old one's whole past session, with no RelatedContactId beside it
    assert not failed
    call = started(world)[1]
    assert call["PersistentChat"] == {"RehydrationType": "ENTIRE_PAST_SESSION", "SourceContactId": old}
    assert "RelatedContactId" not in call
    new = world.session().contact_id
    assert world.fake.services.contact(new).continued_from_contact_id == old
    assert world.fake.contents(new) == ["I'm back"]
    assert emitted(capsys)["PersistentChatsStarted"] == [1.0]


def test_a_customer_back_before_the_transcript_is_written_gets_a_related_chat_and_the_refusal_is_counted(
    world, capsys, caplog
):
    # GIVEN a chat the agent ended 10 s ago: Connect refuses to rehydrate from it yet
    world.deliver(text_burst("first visit"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 10
    capsys.readouterr()
    # WHEN the customer writes again
    _, failed = world.deliver(text_burst("one more thing"))
    # THEN the persistent start was refused and the burst went to a chat related to the old one, not held back
    assert not failed
    refused, fallback = started(world)[1:]
    assert refused["PersistentChat"]["SourceContactId"] == old
    assert fallback["RelatedContactId"] == old and "PersistentChat" not in fallback
    assert refused["ClientToken"] == fallback["ClientToken"]
    assert world.fake.contents(world.session().contact_id) == ["one more thing"]
    assert emitted(capsys)["PersistentChatsRefused"] == [1.0]
    (line,) = [r for r in caplog.records if "persistent chat refused" in r.getMessage()]
    assert "InvalidRequestException" in line.reason and line.contact_id == old


@pytest.mark.parametrize("world", [{"chat_transcripts": False}], indirect=True)
def test_an_instance_that_keeps_no_chat_transcripts_still_gets_every_returning_customer_a_related_chat(world, capsys):
    world.deliver(text_burst("first visit"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 3600
    capsys.readouterr()

    _, failed = world.deliver(text_burst("hello again"))

    assert not failed
    assert started(world)[-1]["RelatedContactId"] == old
    assert emitted(capsys)["PersistentChatsRefused"] == [1.0]


def test_a_burst_retried_after_the_fallback_chat_started_finds_that_chat_instead_of_starting_another(world):
    # GIVEN a refused persistent start whose fallback chat started, then the delivery died before the session was
    # written (the first connection to the fallback chat fails once)
    world.deliver(text_burst("first visit"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 10
    world.fake.services.inject("CreateParticipantConnection", "InternalServerException", times=1)
    _, failed = world.deliver(text_burst("still there?"))
    assert failed
    # WHEN the queue hands the burst back after the transcript became available
    world.now += 120
    _, failed = world.retry()
    # THEN the retry's start found the fallback chat by its ClientToken: one new chat, the burst in it once
    assert not failed
    new = world.session().contact_id
    assert [c.contact_id for c in world.fake.services.contacts()] == [old, new]
    assert world.fake.contents(new) == ["still there?"]


def test_a_connect_that_holds_the_token_against_the_refused_start_gets_the_fallback_under_a_token_of_its_own(world):
    """Undocumented either way: whether Connect remembers a ClientToken against a refused request. If it does, the
    fallback under the same token is refused too, and goes again under its own token rather than failing the burst."""
    world.deliver(text_burst("first visit"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 120
    world.fake.services.inject("StartChatContact", "InvalidRequestException", times=2)

    _, failed = world.deliver(text_burst("hello again"))

    assert not failed
    persistent, same_token, own_token = started(world)[1:]
    assert "PersistentChat" in persistent
    assert same_token["ClientToken"] == persistent["ClientToken"] != own_token["ClientToken"]
    assert own_token["RelatedContactId"] == old
    assert world.fake.contents(world.session().contact_id) == ["hello again"]


def test_a_related_start_connect_keeps_refusing_ends_in_a_chat_without_a_link_so_the_burst_still_arrives(world):
    """Should Connect also refuse the related start (e.g. it no longer has a contact remembered for 90 days), the
    burst goes to a chat with no link rather than back to the queue until it is dead-lettered."""
    world.deliver(text_burst("first visit"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 120
    world.fake.services.inject("StartChatContact", "ResourceNotFoundException", times=3)

    _, failed = world.deliver(text_burst("hello again"))

    assert not failed
    last = started(world)[-1]
    assert "RelatedContactId" not in last and "PersistentChat" not in last
    assert world.fake.contents(world.session().contact_id) == ["hello again"]


def test_a_customer_back_after_their_session_item_expired_still_continues_the_chat_remembered_for_them(world):
    # GIVEN a chat that ended days ago, whose session item DynamoDB's TTL has removed
    world.deliver(text_burst("first visit"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 5 * 86_400
    world.dynamodb.delete_item(TableName="sessions", Key={"conversation": {"S": MARIA.key}})
    # WHEN the customer writes again
    _, failed = world.deliver(text_burst("me again, about the desks"))
    # THEN the new chat continues the remembered one
    assert not failed
    assert started(world)[-1]["PersistentChat"]["SourceContactId"] == old
    assert world.sessions.past_chat(MARIA.key) == world.session().contact_id
