"""Merging a conversation's pending messages into a burst's items."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatsapp_buffer.aggregator.merge import build_burst, merge_burst, ordered_unique, refused_notice
from whatsapp_buffer.model import CONNECT_TEXT_LIMIT, Conversation, InboundMessage, burst_id_for
from whatsapp_buffer.text_split import split_text

CONV = Conversation("106540352242922", "16505551234")
T0 = 1_749_416_383.0


def text(message_id, body, sent_at=T0, received_at=T0 + 1, **kwargs):
    return InboundMessage(message_id, CONV, "text", sent_at, {"text": body}, received_at=received_at, **kwargs)


def other(message_id, kind, sent_at=T0, content=None):
    return InboundMessage(message_id, CONV, kind, sent_at, content or {"media_id": f"m-{message_id}"})


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def test_consecutive_texts_are_joined_with_newlines_in_whatsapp_order():
    # GIVEN texts delivered out of order
    messages = [text("b", "How", T0 + 1), text("d", "you?", T0 + 3), text("a", "Hello", T0), text("c", "are", T0 + 2)]
    # WHEN merged
    items = merge_burst(messages, T0 + 30)
    # THEN one text in WhatsApp-timestamp order carrying every id
    assert len(items) == 1
    assert items[0].kind == "text"
    assert items[0].text == "Hello\nHow\nare\nyou?"
    assert items[0].message_ids == ("a", "b", "c", "d")


def test_same_timestamp_and_arrival_is_ordered_by_message_id():
    items = merge_burst([text("wamid.2", "second", T0), text("wamid.1", "first", T0)])
    assert items[0].text == "first\nsecond"


def test_same_second_is_ordered_by_arrival_not_by_the_random_id():
    # GIVEN "Hello" then "How are you?" in one WhatsApp second, ingested 0.6 s apart; the first's id sorts last
    hello = text("wamid.HBgLMTU1NTAwMDcwMDEVAgASGBQzRUIwQzY", "Hello", T0, received_at=T0 + 1.0)
    how = text("wamid.HBgLMTU1NTAwMDcwMDEVAgASGBQzQTRBNjU", "How are you?", T0, received_at=T0 + 1.6)
    # THEN the agent reads them as typed, whatever order they are handed in
    assert merge_burst([how, hello])[0].text == "Hello\nHow are you?"
    assert merge_burst([hello, how])[0].text == "Hello\nHow are you?"


def test_messages_of_one_webhook_and_second_keep_their_place_in_it():
    # GIVEN an album's photos in one webhook (one timestamp, one arrival), ids against their order in messages[]
    photos = [
        other("wamid.Z", "image", T0, {"media_id": "m1"}),
        other("wamid.M", "image", T0, {"media_id": "m2"}),
        other("wamid.A", "image", T0, {"media_id": "m3"}),
    ]
    placed = [InboundMessage(**{**vars(p), "webhook_index": i, "received_at": T0 + 1}) for i, p in enumerate(photos)]
    # THEN they keep that order, and a later webhook of the same second still comes after them
    late = text("wamid.0", "these three", T0, received_at=T0 + 1.2)
    assert [item.message_ids for item in merge_burst([late, *reversed(placed)])] == [
        ("wamid.Z",),
        ("wamid.M",),
        ("wamid.A",),
        ("wamid.0",),
    ]


def test_other_kinds_keep_their_position_between_texts():
    messages = [
        text("1", "look", T0),
        text("2", "at this", T0 + 1),
        other("3", "image", T0 + 2, {"media_id": "m3", "caption": "the red one"}),
        text("4", "and this", T0 + 3),
        other("5", "location", T0 + 4, {"latitude": 1.0, "longitude": 2.0}),
        other("6", "reaction", T0 + 5, {"emoji": "x", "reacted_to": "w"}),
    ]
    items = merge_burst(messages, T0)
    assert [(i.kind, i.message_ids) for i in items] == [
        ("text", ("1", "2")),
        ("image", ("3",)),
        ("text", ("4",)),
        ("location", ("5",)),
        ("reaction", ("6",)),
    ]
    assert items[1].content == {"media_id": "m3", "caption": "the red one"}
    assert items[0].text == "look\nat this"


def test_redelivered_copies_are_merged_once():
    items = merge_burst([text("a", "hi"), text("a", "hi"), text("b", "there", T0 + 1)])
    assert items[0].text == "hi\nthere"
    assert items[0].message_ids == ("a", "b")


def test_empty_input_gives_no_items():
    assert merge_burst([], T0) == ()


@pytest.mark.parametrize(
    ("body", "parts"),
    [
        ("a" * 1024, ["a" * 1024]),
        ("a" * 1025, ["a" * 1024, "a"]),
        ("x" * 600 + "\n" + "b" * 600, ["x" * 600 + "\n", "b" * 600]),
        ("line one\n" + "b" * 1020, ["line one\n" + "b" * 1015, "b" * 5]),
        ("word " * 300, ["word " * 204, "word " * 96]),
        ("\n" + "c" * 1100, ["\n" + "c" * 1023, "c" * 77]),
    ],
)
def test_a_part_ends_at_1024_units_after_a_newline_or_a_space_in_its_second_half_else_at_the_limit(body, parts):
    assert split_text(body) == parts


def test_oversized_text_is_split_at_line_boundaries_first():
    body = "\n".join(f"line {i:04d} " + "x" * 40 for i in range(60))
    parts = split_text(body)
    assert len(parts) > 1
    assert all(p.endswith("\n") for p in parts[:-1])
    assert "".join(parts) == body


def test_without_newlines_the_split_is_at_a_word_boundary():
    body = " ".join(["lorem"] * 400)
    parts = split_text(body)
    assert all(p.endswith(" ") for p in parts[:-1])
    assert all(utf16_len(p) <= CONNECT_TEXT_LIMIT for p in parts)


def test_emoji_outside_the_bmp_count_as_two_units_and_are_never_cut():
    body = "\U0001f600" * 700  # 700 characters, 1,400 UTF-16 units
    parts = split_text(body)
    assert [len(p) for p in parts] == [512, 188]
    assert "".join(parts) == body


def test_hard_cut_does_not_break_a_zwj_family_emoji_or_a_combining_accent():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 5 characters, 8 UTF-16 units
    body = "a" * 1020 + family + "e\u0301" * 10
    parts = split_text(body)
    assert parts[0] == "a" * 1020
    assert parts[1].startswith(family)
    accents = "a" * 1023 + "e\u0301" + "b"
    assert split_text(accents)[0] == "a" * 1023


def test_flag_pairs_stay_together():
    flag = "\U0001f1f5\U0001f1f9"
    body = "a" * 1021 + flag + "b"
    parts = split_text(body)
    assert parts[0] == "a" * 1021
    assert parts[1] == flag + "b"


def test_each_split_part_carries_the_ids_of_the_messages_whose_text_it_contains():
    long_body = "y" * 1500
    items = merge_burst([text("a", "short", T0), text("b", long_body, T0 + 1), text("c", "tail", T0 + 2)])
    assert all(i.kind == "text" for i in items)
    assert [i.message_ids for i in items] == [("a", "b"), ("b", "c")]
    assert "".join(i.text for i in items) == "short\n" + long_body + "\ntail"


def test_build_burst_takes_names_and_times_from_the_messages():
    messages = [
        text("a", "1", T0, received_at=T0 + 5, origination_phone_number_id="arn:one", profile_name="Old"),
        text("b", "2", T0 + 1, received_at=T0 + 3, origination_phone_number_id="arn:two", profile_name="New"),
        text("c", "3", T0 + 2, received_at=T0 + 9),
    ]
    burst = build_burst(messages, now=T0 + 40)
    assert burst.burst_id == burst_id_for(["a", "b", "c"])
    assert burst.origination_phone_number_id == "arn:two"
    assert burst.display_name == "New"
    assert (burst.first_received_at, burst.last_received_at, burst.flushed_at) == (T0 + 3, T0 + 9, T0 + 40)
    assert burst.message_ids == ("a", "b", "c")


def test_build_burst_keeps_a_given_burst_id_for_a_resend():
    assert build_burst([text("a", "x")], now=T0, burst_id="claimed-id").burst_id == "claimed-id"


# Property tests

bodies = st.text(
    alphabet=st.one_of(
        st.sampled_from(["a", "b", " ", "\n", "\u200d", "\u0301", "\U0001f600", "\U0001f1f5", "é"]),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=1500,
)


@given(bodies, st.integers(min_value=2, max_value=1024))
def test_split_parts_are_within_the_limit_and_join_back_to_the_text(body, limit):
    parts = split_text(body, limit)
    assert "".join(parts) == body
    assert all(utf16_len(p) <= limit for p in parts)
    assert all(parts) or parts == [""]


kinds = st.sampled_from(["text", "text", "text", "image", "audio", "location", "reaction", "sticker", "contacts"])
message_specs = st.lists(
    st.tuples(st.integers(min_value=0, max_value=30), kinds, st.integers(min_value=0, max_value=40), bodies),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150)
@given(message_specs, st.randoms(use_true_random=False), st.integers(min_value=1, max_value=8))
def test_any_arrival_order_and_redelivery_gives_every_message_once_in_whatsapp_order(specs, rnd, max_messages):
    # GIVEN messages (ids unique per spec index), each delivered 1-3 times, in a random arrival order
    originals = {}
    for index, (offset, kind, _, body) in enumerate(specs):
        mid = f"wamid.{index:03d}"
        msg = text(mid, body, T0 + offset) if kind == "text" else other(mid, kind, T0 + offset)
        originals[mid] = msg
    deliveries = [m for m in originals.values() for _ in range(rnd.randint(1, 3))]
    rnd.shuffle(deliveries)
    # WHEN they are flushed max_messages at a time, the way the aggregator takes them from the table
    table = {}
    for msg in deliveries:
        table.setdefault(msg.message_id, msg)  # the conditional put: a redelivery is a no-op
    pending = ordered_unique(table.values())
    bursts = []
    while pending:
        batch, pending = pending[:max_messages], pending[max_messages:]
        bursts.append(merge_burst(batch, T0))
    # THEN every accepted id is in exactly one burst, in (sent_at, id) order, and no text part is too long
    seen = []
    for items in bursts:
        burst_ids = list(dict.fromkeys(mid for item in items for mid in item.message_ids))
        assert burst_ids == sorted(burst_ids, key=lambda m: originals[m].order_key)
        seen.extend(burst_ids)
        for item in items:
            if item.kind == "text":
                assert utf16_len(item.text) <= CONNECT_TEXT_LIMIT
    assert sorted(seen) == sorted(originals)
    assert len(seen) == len(set(seen))


@given(st.lists(bodies, min_size=1, max_size=6))
def test_split_text_items_join_back_to_the_newline_joined_texts(texts):
    messages = [text(f"m{i}", body, T0 + i) for i, body in enumerate(texts)]
    items = merge_burst(messages, T0)
    assert "".join(i.text for i in items) == "\n".join(texts)
    assert set().union(*(i.message_ids for i in items)) == {m.message_id for m in messages}


def test_a_refused_bursts_notice_keeps_its_id_and_message_ids_and_carries_none_of_the_customers_words():
    # GIVEN the messages of a burst the queue refused, with a profile name and an ad, all the customer's
    ad = {"headline": "secret ad"}
    messages = [
        text("wamid.2", "secret two", sent_at=T0 + 1, profile_name="Secret Name"),
        InboundMessage("wamid.1", CONV, "text", T0, {"text": "secret one", "referral": ad}, received_at=T0 + 1),
    ]
    # WHEN the notice that goes in its place is built
    notice = refused_notice(messages, T0 + 60, "burst-1", "InvalidMessageContents")
    # THEN it is one line under the burst's id and message ids (in WhatsApp order), naming the count and the code
    assert (notice.burst_id, notice.message_ids, notice.flushed_at) == ("burst-1", ("wamid.1", "wamid.2"), T0 + 60)
    (item,) = notice.items
    assert item.text.startswith("[WhatsApp bridge] The customer sent 2 message(s)")
    assert "(InvalidMessageContents)" in item.text
    assert "secret" not in notice.to_json().lower()
    assert (notice.display_name, notice.referral) == (None, None)
