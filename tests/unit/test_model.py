"""The domain model's own promises."""

import pytest

from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.model import Conversation, eum_number_suffix, is_user_id, mask_customer


def test_a_bad_conversation_key_is_rejected_without_quoting_the_phone_number():
    with pytest.raises(MalformedEvent) as raised:
        Conversation.from_key("15550001111")
    assert "15550001111" not in str(raised.value) and "1111" not in str(raised.value)


def test_a_conversation_key_round_trips():
    conversation = Conversation("106540352242922", "15550001111")
    assert Conversation.from_key(conversation.key) == conversation
    assert conversation.masked_customer == "*******1111"


@pytest.mark.parametrize(
    "number",
    [
        "phone-number-id-5f811eaa4c81499384c496b909afbb1a",
        "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/5f811eaa4c81499384c496b909afbb1a",
        "5f811eaa4c81499384c496b909afbb1a",
    ],
)
def test_an_end_user_messaging_number_named_by_its_id_its_arn_or_its_bare_id_is_the_same_number(number):
    assert eum_number_suffix(number) == "5f811eaa4c81499384c496b909afbb1a"


# Meta, "Business-scoped user IDs" (developers.facebook.com/documentation/business-messaging/whatsapp/
# business-scoped-user-ids; read through the copies of 360dialog's and Microsoft Learn's BSUID pages, which quote it):
# a BSUID is "a two-letter ISO country code, a period, and up to 128 alphanumeric characters (for example,
# BR.1502576394655843)"; a parent BSUID "includes ENT" (`US.ENT.11815799212886844830`). Microsoft Learn:
# "{ISO 3166 alpha-2 country code}.{up to 128 alphanumeric characters}".
@pytest.mark.parametrize(
    ("value", "is_bsuid"),
    [
        ("US.13491208655302741918", True),
        ("BR.1502576394655843", True),
        ("US.ENT.11815799212886844830", True),
        ("CO.OLD", True),
        ("US." + "1" * 128, True),
        ("US." + "1" * 129, False),
        ("15550001111", False),
        ("1555.0001111", False),
        ("US.", False),
        ("us.13491208655302741918", False),
        ("USA.13491208655302741918", False),
        ("US.1349 1208", False),
        ("US.1349.1208", False),
        ("US.13491208655302741918\n", False),
        (13491208655302741918, False),
        (None, False),
    ],
)
def test_a_bsuid_is_what_meta_says_one_is_and_nothing_else(value, is_bsuid):
    assert is_user_id(value) is is_bsuid


def test_a_customer_id_that_only_holds_a_period_is_masked_whole_not_as_a_bsuid():
    assert mask_customer("US.13491208655302741918") == "US.****************1918"
    assert mask_customer("15550001111.x") == "*********11.x"  # not the number in clear before its period
    assert not Conversation("106540352242922", "15550001111.x").by_user_id
