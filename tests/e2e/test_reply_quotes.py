"""A customer's reply shows the agent a short quote of what it replies to, when that is still known.

Meta, Text messages webhook reference: a reply carries `context` with `from` and `id` ("<CONTEXTUAL_WHATSAPP_MESSAGE_ID>",
the WhatsApp id of the message replied to). The originals the bridge can know: an earlier message of the conversation
still in the raw table (for `retentionHours`), or an agent message it relayed (the id SendWhatsAppMessage returned,
kept with a short clip for as long). Anything else — an expired original — is "replying to an earlier message".
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TRACES, replay


@pytest.fixture(scope="module")
def quotes():
    return replay(TRACES / "reply_quotes.jsonl", retentionHours=1, chatDurationMinutes=60)


def contents(transcript):
    return [m["content"] for m in transcript["connect"]]


def test_a_reply_to_the_agents_message_quotes_a_short_clip_of_it(quotes):
    _, transcript, _ = quotes
    assert '[Replying to the agent\'s message: "The walnut desk is 450 EUR, the oak one 390 EUR. Both ship in a week."]' \
        "\nis the 450 one in stock?" in contents(transcript)  # fmt: skip


def test_a_reply_to_an_earlier_customer_message_quotes_it(quotes):
    _, transcript, _ = quotes
    assert '[Replying to their earlier message: "I like the walnut desk and the oak one"]\nactually the walnut one' in (
        contents(transcript)
    )


def test_a_reply_whose_original_expired_says_it_replies_to_an_earlier_message(quotes):
    # wamid.DESK0002 was stored at 3 s with retentionHours=1: by 7,400 s it has expired
    _, transcript, _ = quotes
    assert "[Replying to an earlier message]\nstill thinking about it" in contents(transcript)
    assert transcript["rejected"] == []
