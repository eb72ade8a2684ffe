"""The bursts queue's body (`queue_text`, `Burst.to_json`): only characters an SQS body may hold, read back as it was.

botocore sqs SendMessage, MessageBody: "The following Unicode characters are allowed ... #x9 | #xA | #xD | #x20 to
#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. If a message contains characters outside the allowed set, Amazon SQS
rejects the message and returns an InvalidMessageContents error." The sandbox's copy of that rule
(sandbox.sqs_message_rules, pinned by tests/contract/test_sqs_message_rules.py) is the judge here.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from sandbox.sqs_message_rules import OUTSIDE_ALLOWED
from whatsapp_buffer.model import Burst, Conversation, OutgoingItem
from whatsapp_buffer.queue_text import queue_json

CONV = Conversation("106540352242922", "15550007001")


def burst(text: str, name: str | None = "Ana") -> Burst:
    return Burst(
        "b1",
        CONV,
        (OutgoingItem("text", ("wamid.1",), text=text),),
        display_name=name,
        referral={"headline": text},
    )


def test_a_burst_holding_characters_sqs_refuses_is_sent_escaped_and_read_back_as_it_was():
    # GIVEN a burst whose text, display name and referral hold U+FFFE, U+FFFF and a lone surrogate (stored before
    # ingest replaced them, or from a source that does not)
    refused = "a\ufffeb\uffffc\ud800d"
    original = burst(refused, name=refused)
    # WHEN it is written for the queue
    body = original.to_json()
    # THEN SQS may hold every character of it, and the inbound function reads back exactly the burst
    assert OUTSIDE_ALLOWED.search(body) is None
    assert "\\ufffe" in body and "\\uffff" in body and "\\ud800" in body
    assert Burst.from_json(body) == original


def test_a_burst_of_allowed_characters_is_written_as_before_byte_for_byte():
    # GIVEN every kind of character SQS allows, from tab to the last plane
    original = burst('tab\t nl\n cr\r é 語 \ud7ff \ue000 \ufffd 😀 \U0010ffff \x7f\x85 "quoted" back\\slash')
    # WHEN it is written for the queue
    body = original.to_json()
    # THEN nothing is escaped that plain JSON without ASCII escaping would not escape: same bytes, same size
    assert body == json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":"))
    assert Burst.from_json(body) == original


TEXTS = st.lists(st.sampled_from("\ufffe\uffff") | st.characters(blacklist_categories=("Cs",)), max_size=60).map(
    "".join
)
"""Any text DynamoDB can store (UTF-8: no surrogates), with U+FFFE and U+FFFF drawn often."""


@given(TEXTS)
def test_any_storable_text_goes_as_a_body_sqs_holds_and_comes_back_unchanged(text):
    body = burst(text, name=text).to_json()
    assert OUTSIDE_ALLOWED.search(body) is None
    assert Burst.from_json(body) == burst(text, name=text)


@given(st.recursive(TEXTS, lambda inner: st.lists(inner) | st.dictionaries(TEXTS, inner), max_leaves=20))
def test_any_json_value_is_written_sqs_safe_and_decodes_to_itself(value):
    text = queue_json(value)
    assert OUTSIDE_ALLOWED.search(text) is None
    assert json.loads(text) == value
