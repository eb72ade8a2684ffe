"""The domain model's own promises."""

import pytest

from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.model import Conversation, eum_number_suffix


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
