"""Which flow a chat starts in, the attributes naming its business number, and how it is tied to the previous chat
(inbound/chat_routing.py: pure)."""

from __future__ import annotations

import pytest

from whatsapp_buffer.inbound.chat_routing import (
    ChatLink,
    ContactFlows,
    business_number_attributes,
    eum_phone_number_id,
    link_to_previous,
)

ARN = "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/5f811eaa4c81499384c496b909afbb1a"
EUM_ID = "phone-number-id-5f811eaa4c81499384c496b909afbb1a"
META_ID = "106540352242922"


@pytest.mark.parametrize(
    ("origination", "expected"),
    [
        (ARN, EUM_ID),
        (EUM_ID, EUM_ID),
        ("", ""),
        ("arn:aws:sns:us-east-1:123456789012:topic/x", ""),
        ("arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/", ""),
    ],
)
def test_the_end_user_messaging_id_is_read_from_the_numbers_arn_or_id(origination, expected):
    assert eum_phone_number_id(origination) == expected


@pytest.mark.parametrize(
    ("by_number", "expected"),
    [
        ({}, "default"),
        ({EUM_ID: "by-eum"}, "by-eum"),
        ({META_ID: "by-meta"}, "by-meta"),
        ({EUM_ID: "by-eum", META_ID: "by-meta"}, "by-eum"),
        ({"phone-number-id-other": "other", "999": "other"}, "default"),
    ],
)
def test_a_number_s_flow_is_found_by_its_end_user_messaging_id_first_then_meta_s_id_else_the_default(
    by_number, expected
):
    assert ContactFlows("default", by_number).for_number(META_ID, ARN) == expected


def test_a_burst_without_an_origination_is_routed_by_meta_s_id_alone():
    flows = ContactFlows("default", {"phone-number-id-": "wrong", META_ID: "by-meta"})

    assert flows.for_number(META_ID, "") == "by-meta"


def test_the_attributes_carry_both_ids_of_the_business_number():
    assert business_number_attributes(META_ID, ARN) == {
        "whatsappPhoneNumberId": META_ID,
        "whatsappEumPhoneNumberId": EUM_ID,
    }
    assert business_number_attributes(META_ID, "") == {"whatsappPhoneNumberId": META_ID}


@pytest.mark.parametrize(
    ("previous", "refused", "expected"),
    [
        (None, False, ChatLink()),
        (None, True, ChatLink()),
        ("c-1", False, ChatLink(continue_from="c-1")),
        ("c-1", True, ChatLink(related_to="c-1")),
    ],
)
def test_a_chat_replacing_an_ended_one_continues_it_unless_connect_refused_then_it_is_related(
    previous, refused, expected
):
    link = link_to_previous(previous, persistent_refused=refused)

    assert link == expected
    assert not (link.continue_from and link.related_to)


def test_a_chat_cannot_be_both_related_to_and_continue_the_previous_one():
    """botocore StartChatContact.RelatedContactId: "You cannot provide data for both RelatedContactId and
    PersistentChat"."""
    with pytest.raises(ValueError, match="not both"):
        ChatLink(continue_from="a", related_to="a")
