"""The domain model's own promises."""

import pytest

from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.model import Conversation


def test_a_bad_conversation_key_is_rejected_without_quoting_the_phone_number():
    with pytest.raises(MalformedEvent) as raised:
        Conversation.from_key("15550001111")
    assert "15550001111" not in str(raised.value) and "1111" not in str(raised.value)


def test_a_conversation_key_round_trips():
    conversation = Conversation("106540352242922", "15550001111")
    assert Conversation.from_key(conversation.key) == conversation
    assert conversation.masked_customer == "*******1111"
