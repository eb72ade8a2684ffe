"""One customer, one chat, whatever WhatsApp calls them: a phone number, a BSUID (usernames), or a new number after
`user_changed_number`. The inbound function against test_inbound's world (moto DynamoDB, the project's one fake)."""

from __future__ import annotations

import dataclasses

import pytest
from moto import mock_aws

from tests.handlers.test_inbound import (
    MARIA,
    T0,
    World,
    make_burst,
    outbound_writes_during_the_next_renewal,
    text_burst,
)
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.model import Conversation, OutgoingItem

BSUID = "US.13491208655302741918"
MARIA_BY_USER_ID = Conversation(MARIA.phone_number_id, BSUID)
NEW_NUMBER = "15550009999"


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    inbound.installed.reset()


def with_user_id(burst, user_id=BSUID):
    return dataclasses.replace(burst, user_id=user_id)


def contact_of(world, conversation):
    session = world.sessions.get(conversation.key)
    return session.contact_id if session else None


def test_a_customer_whose_number_disappears_stays_in_the_chat_the_number_opened(world):
    # GIVEN Maria's chat opened by a burst keyed by her number that carried her BSUID
    world.deliver(with_user_id(text_burst("Hello, a desk question")))
    # WHEN her next burst comes without the number (keyed by the BSUID)
    world.deliver(with_user_id(text_burst("is the walnut one in stock?", conversation=MARIA_BY_USER_ID)))
    # THEN both reach the one chat, and the BSUID's key finds the number's session
    (contact,) = world.fake.live_contact_ids()
    assert world.fake.contents(contact) == ["Hello, a desk question", "is the walnut one in stock?"]
    assert contact_of(world, MARIA_BY_USER_ID) == contact_of(world, MARIA) == contact
    assert len(world.calls("StartChatContact")) == 1


def test_a_customer_who_first_wrote_without_a_number_keeps_that_chat_when_the_number_appears(world):
    world.deliver(with_user_id(text_burst("hi from my username", conversation=MARIA_BY_USER_ID)))
    world.deliver(with_user_id(text_burst("and now with my number")))
    (contact,) = world.fake.live_contact_ids()
    assert world.fake.contents(contact) == ["hi from my username", "and now with my number"]
    assert len(world.calls("StartChatContact")) == 1


def test_a_bsuid_with_its_own_live_chat_is_never_hidden_behind_an_alias(world):
    # GIVEN a live chat keyed by the BSUID
    world.deliver(text_burst("keyed by user id", conversation=MARIA_BY_USER_ID))
    own = contact_of(world, MARIA_BY_USER_ID)
    # WHEN the number opens a chat (a burst without the BSUID: nothing links them)
    world.deliver(text_burst("keyed by number"))
    # THEN the BSUID's session is untouched
    assert contact_of(world, MARIA_BY_USER_ID) == own != contact_of(world, MARIA)
    assert (
        world.sessions.alias(MARIA_BY_USER_ID.key, of=MARIA.key, expires_at=int(world.now) + 60, now=world.now) is False
    )


def number_change(old=MARIA.customer, new=NEW_NUMBER, conversation=MARIA):
    notice = OutgoingItem(
        kind="system",
        message_ids=("wamid.SYS1",),
        content={"system_type": "user_changed_number", "new_wa_id": new, "previous_wa_id": old,
                 "body": "User Maria changed from ****1111 to ****9999"},
    )  # fmt: skip
    return make_burst((notice,), conversation)


def test_a_number_change_moves_the_open_session_to_the_new_number_and_the_old_number_still_finds_it(world):
    # GIVEN Maria's open chat
    world.deliver(text_burst("Hello"))
    contact = contact_of(world, MARIA)
    # WHEN WhatsApp tells of her new number
    world.deliver(number_change())
    # THEN the agent was told in the same chat, and both numbers now find that chat, the session keyed by the new one
    assert "changed" in (world.fake.contents(contact)[-1] or "")
    new = Conversation(MARIA.phone_number_id, NEW_NUMBER)
    assert world.sessions.get(new.key).conversation == new.key
    assert contact_of(world, new) == contact_of(world, MARIA) == contact
    # AND her next message from the new number lands in that chat too
    world.deliver(text_burst("this is my new number", conversation=new))
    assert world.fake.contents(contact)[-1] == "this is my new number"
    assert world.fake.live_contact_ids() == [contact]


def test_a_number_change_keyed_by_the_new_number_joins_the_old_numbers_chat_and_moves_it_there(world):
    # GIVEN Maria's open chat under her old number
    world.deliver(text_burst("Hello"))
    contact = contact_of(world, MARIA)
    # WHEN the notice comes keyed by her new number (ingest keys it so, with the new number's messages)
    new = Conversation(MARIA.phone_number_id, NEW_NUMBER)
    _, failed = world.deliver(number_change(conversation=new))
    # THEN it is shown in the old number's chat, which is now the new number's, and no other chat was started
    assert not failed and "changed" in (world.fake.contents(contact)[-1] or "")
    assert world.sessions.get(new.key).conversation == new.key
    assert contact_of(world, new) == contact_of(world, MARIA) == contact
    assert world.fake.live_contact_ids() == [contact] and len(world.calls("StartChatContact")) == 1


def test_a_number_change_keyed_by_the_new_number_continues_the_old_numbers_ended_chat(world):
    # GIVEN Maria's chat under her old number, over by the time the notice comes
    world.deliver(text_burst("Hello"))
    old = world.session().contact_id
    world.fake.services.end_chat(old)
    world.now += 3601
    # WHEN the notice comes keyed by her new number
    new = Conversation(MARIA.phone_number_id, NEW_NUMBER)
    _, failed = world.deliver(number_change(conversation=new))
    # THEN the chat it starts continues the old number's (persistent chat) and is the new number's, found by both
    assert not failed
    assert world.calls("StartChatContact")[1]["PersistentChat"]["SourceContactId"] == old
    assert contact_of(world, new) == contact_of(world, MARIA) == world.fake.live_contact_ids()[0] != old


def test_a_number_change_after_both_sessions_expired_continues_the_customers_past_chat_not_the_numbers(world):
    # GIVEN the new number's previous owner (a recycled number) and Maria each had a chat, both ended long ago: only
    # the chats remembered for a later persistent chat are left (their session items gone with TTL)
    new = Conversation(MARIA.phone_number_id, NEW_NUMBER)
    world.deliver(text_burst("Bob here", conversation=new, name="Bob"))
    bobs = contact_of(world, new)
    world.deliver(text_burst("Hello"))
    marias = contact_of(world, MARIA)
    for conversation, contact in ((new, bobs), (MARIA, marias)):
        world.fake.services.end_chat(contact)
        world.sessions._client.delete_item(
            TableName=world.sessions._table, Key={"conversation": {"S": conversation.key}}
        )
    world.now += 3601
    # WHEN Maria's number change notice comes, keyed by the new number
    _, failed = world.deliver(number_change(conversation=new))
    # THEN the chat it starts continues Maria's chat, never the previous owner's
    assert not failed
    assert world.calls("StartChatContact")[-1]["PersistentChat"]["SourceContactId"] == marias


def test_a_number_change_never_continues_the_previous_owners_ended_chat_still_kept_under_the_new_number(world):
    # GIVEN Maria's chat, ended long ago (its session item gone with TTL, the chat remembered for a persistent chat)
    new = Conversation(MARIA.phone_number_id, NEW_NUMBER)
    world.deliver(text_burst("Hello"))
    marias = contact_of(world, MARIA)
    world.fake.services.end_chat(marias)
    world.sessions._client.delete_item(TableName=world.sessions._table, Key={"conversation": {"S": MARIA.key}})
    world.now += 3601
    # AND the previous owner of the number Maria now has: his chat ended, its session item still kept
    world.deliver(text_burst("Bob here", conversation=new, name="Bob"))
    bobs = contact_of(world, new)
    world.fake.services.end_chat(bobs)
    assert world.sessions.end(new.key, bobs, world.now)
    world.now += 60
    # WHEN Maria's number change notice comes, keyed by the new number
    _, failed = world.deliver(number_change(conversation=new))
    # THEN the chat it starts continues Maria's past chat, never Bob's, and is the new number's
    assert not failed
    assert world.calls("StartChatContact")[-1]["PersistentChat"]["SourceContactId"] == marias
    assert contact_of(world, new) == world.fake.live_contact_ids()[0] not in (bobs, marias)


def test_a_number_change_moves_the_template_claim_and_the_end_the_outbound_function_wrote_meanwhile(world):
    # GIVEN Maria's chat whose connection is about to expire when WhatsApp tells of her new number
    before, wrote = outbound_writes_during_the_next_renewal(world, "Hello")
    # WHEN the delivery renews the connection and moves the session to the new number
    _, failed = world.deliver(number_change())
    # THEN the session under the new number has the new connection and still what the outbound function wrote
    assert not failed and wrote == [True, True]
    moved = world.sessions.get(Conversation(MARIA.phone_number_id, NEW_NUMBER).key)
    assert moved.contact_id == before.contact_id and moved.connection_token != before.connection_token
    assert (moved.template_sent_at, moved.template_event, moved.ended_at) == (T0 + 7, "reply-1", T0 + 8)


# Meta's changelog (2026-08-11): "A phone number change also regenerates the user's business-scoped user ID (BSUID)",
# so the old BSUID's key is written to only by what the customer sent before the change: a burst flushed after the move.
def test_a_burst_by_bsuid_sent_before_a_number_change_reaches_the_chat_the_change_moved(world):
    # GIVEN Maria's chat opened under her number by a burst carrying her BSUID, then moved to her new number
    # (BSUID -> old number -> new number)
    world.deliver(with_user_id(text_burst("Hello")))
    contact = contact_of(world, MARIA)
    world.deliver(number_change())
    # WHEN a burst she sent with her username before the change (keyed by the BSUID alone) is delivered after the move
    _, failed = world.deliver(with_user_id(text_burst("still there?", conversation=MARIA_BY_USER_ID)))
    # THEN her words reach the one chat, and no second chat is started
    assert not failed and world.fake.contents(contact)[-1] == "still there?"
    assert world.fake.live_contact_ids() == [contact] and len(world.calls("StartChatContact")) == 1
    assert contact_of(world, MARIA_BY_USER_ID) == contact


def test_a_number_change_leaves_the_session_alone_when_the_new_number_already_has_a_live_chat(world):
    new = Conversation(MARIA.phone_number_id, NEW_NUMBER)
    world.deliver(text_burst("old number"))
    world.deliver(text_burst("new number, before the notice", conversation=new))
    old_contact, new_contact = contact_of(world, MARIA), contact_of(world, new)
    world.deliver(number_change())
    assert (contact_of(world, MARIA), contact_of(world, new)) == (old_contact, new_contact)


def test_an_alias_whose_chat_is_gone_gives_way_to_a_new_chat_of_its_own(world):
    # GIVEN a BSUID alias pointing at a session that no longer exists (removed by TTL)
    world.sessions.alias(
        MARIA_BY_USER_ID.key, of="111222333#15550007777", expires_at=int(world.now) + 3600, now=world.now
    )
    # WHEN a burst keyed by the BSUID arrives
    _, failed = world.deliver(text_burst("still here", conversation=MARIA_BY_USER_ID))
    # THEN it opens a chat of its own instead of failing on the alias
    assert failed == set()
    assert world.sessions.get(MARIA_BY_USER_ID.key).conversation == MARIA_BY_USER_ID.key


def user_id_change(new):
    notice = OutgoingItem(
        kind="system",
        message_ids=("wamid.SYSUID1",),
        content={"system_type": "user_changed_user_id", "previous_user_id": BSUID, "user_id": new},
    )
    return make_burst((notice,), MARIA_BY_USER_ID)


# A BSUID (Meta, "Business-scoped user IDs", as 360dialog's and Microsoft Learn's BSUID pages quote it): "a two-letter
# ISO country code, a period, and up to 128 alphanumeric characters". The chat follows a new BSUID only when it is one:
# a value that merely holds a period would become a conversation key no customer ever writes from.
@pytest.mark.parametrize(("new", "moves"), [("US.20771234567890123456", True), ("US.2077 1234", False), ("x.", False)])
def test_a_bsuid_change_moves_the_chat_only_to_a_well_formed_bsuid(world, new, moves):
    world.deliver(text_burst("Hello", conversation=MARIA_BY_USER_ID))
    contact = contact_of(world, MARIA_BY_USER_ID)
    world.deliver(user_id_change(new))
    assert world.fake.live_contact_ids() == [contact]
    moved = world.sessions.get(Conversation(MARIA.phone_number_id, new).key)
    assert (moved is not None and moved.contact_id == contact) is moves


NEW_BSUID = "US.20771234567890123456"
MARIA_BY_NEW_USER_ID = Conversation(MARIA.phone_number_id, NEW_BSUID)


def test_a_number_change_that_regenerates_the_bsuid_leaves_one_chat_the_new_bsuid_finds(world):
    # Meta's changelog (Aug 11, 2026): "A phone number change also regenerates the user's business-scoped user ID
    # (BSUID)"; ingest gives the notice's burst the new one (`system.user_id`) as its user id.
    # GIVEN Maria's chat, opened by a burst keyed by her number that carried her BSUID
    world.deliver(with_user_id(text_burst("Hello")))
    contact = contact_of(world, MARIA)
    # WHEN she changes her number (new BSUID), writes from the new number, then by username only (number hidden)
    new = Conversation(MARIA.phone_number_id, NEW_NUMBER)
    world.deliver(with_user_id(number_change(conversation=new), NEW_BSUID))
    world.deliver(with_user_id(text_burst("from the new number", conversation=new), NEW_BSUID))
    _, failed = world.deliver(with_user_id(text_burst("by username", conversation=MARIA_BY_NEW_USER_ID), NEW_BSUID))
    # THEN every burst reached the one chat, and the new BSUID's key finds it
    assert not failed and world.fake.live_contact_ids() == [contact]
    assert world.fake.contents(contact)[-2:] == ["from the new number", "by username"]
    assert contact_of(world, MARIA_BY_NEW_USER_ID) == contact_of(world, new) == contact
    assert len(world.calls("StartChatContact")) == 1


def test_a_bsuid_change_of_a_customer_keyed_by_number_leaves_one_chat_the_new_bsuid_finds(world):
    # GIVEN Maria's chat, keyed by her number (shared), with her BSUID
    world.deliver(with_user_id(text_burst("Hello")))
    contact = contact_of(world, MARIA)
    # WHEN WhatsApp tells of her new BSUID (ingest keys the notice by `system.wa_id`, the number), then she writes by
    # username only
    notice = OutgoingItem(
        kind="system",
        message_ids=("wamid.SYSUID2",),
        content={"system_type": "user_changed_user_id", "previous_user_id": BSUID, "user_id": NEW_BSUID},
    )
    world.deliver(with_user_id(make_burst((notice,), MARIA), NEW_BSUID))
    _, failed = world.deliver(with_user_id(text_burst("by username", conversation=MARIA_BY_NEW_USER_ID), NEW_BSUID))
    # THEN that burst reached the one chat
    assert not failed and world.fake.live_contact_ids() == [contact]
    assert world.fake.contents(contact)[-1] == "by username"
    assert contact_of(world, MARIA_BY_NEW_USER_ID) == contact


def test_a_number_change_that_moved_nothing_leaves_the_new_bsuid_with_the_new_numbers_chat(world):
    # GIVEN Maria's chat under her old number, and one her new number (with her new BSUID) opened before the notice
    new = Conversation(MARIA.phone_number_id, NEW_NUMBER)
    world.deliver(with_user_id(text_burst("old number")))
    world.deliver(with_user_id(text_burst("new number, before the notice", conversation=new), NEW_BSUID))
    new_contact = contact_of(world, new)
    # WHEN the notice, keyed by the old number, moves nothing (the new number has a live chat of its own)
    world.deliver(with_user_id(number_change(), NEW_BSUID))
    # THEN the new BSUID still finds the new number's chat, not the old number's
    assert contact_of(world, MARIA_BY_NEW_USER_ID) == new_contact


def _marias_chat_by_username_then_number_ended(world) -> str:
    """Maria writes by username (BSUID), then with her number and BSUID; her chat ends and its items stay until TTL."""
    world.deliver(with_user_id(text_burst("hi from my username", conversation=MARIA_BY_USER_ID)))
    world.deliver(with_user_id(text_burst("and now with my number")))
    marias = contact_of(world, MARIA_BY_USER_ID)
    world.fake.services.end_chat(marias)
    assert world.sessions.end(MARIA_BY_USER_ID.key, marias, world.now)
    world.now += 3601
    return marias


def test_the_next_owner_of_a_number_never_continues_or_takes_over_the_previous_owners_username_chat(world):
    """A recycled number's next owner (his own BSUID) gets a chat of his own: not a continuation of the previous
    owner's, not kept under her BSUID (where agent replies would go to her), and her next words stay out of it."""
    marias = _marias_chat_by_username_then_number_ended(world)

    world.deliver(with_user_id(text_burst("Bob here", name="Bob"), user_id="US.99999999999999999999"))
    start = world.calls("StartChatContact")[-1]
    bob = world.sessions.get(MARIA.key)
    world.deliver(with_user_id(text_burst("Maria again", conversation=MARIA_BY_USER_ID)))

    assert (start.get("PersistentChat") or {}).get("SourceContactId") != marias
    assert bob is not None and bob.conversation == MARIA.key
    assert contact_of(world, MARIA_BY_USER_ID) != bob.contact_id


def test_a_number_change_onto_a_recycled_number_never_lands_under_the_previous_owners_username(world):
    """Bob changes his number to the one Maria had: his chat is kept under that number, and Maria's BSUID still
    finds only her own chats."""
    marias = _marias_chat_by_username_then_number_ended(world)

    world.deliver(number_change(old="15550007777", new=MARIA.customer, conversation=MARIA))
    start = world.calls("StartChatContact")[-1]
    bob = world.sessions.get(MARIA.key)

    assert (start.get("PersistentChat") or {}).get("SourceContactId") != marias
    assert bob is not None and bob.conversation == MARIA.key
    assert contact_of(world, MARIA_BY_USER_ID) != bob.contact_id
