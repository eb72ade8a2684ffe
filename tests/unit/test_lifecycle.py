"""The burst lifecycle of one conversation: which messages the next burst claims, the transitions, the settlement."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from whatsapp_buffer.aggregator.lifecycle import (
    CLAIMED,
    MAX_BURST_CONTENT_BYTES,
    PENDING,
    BufferedMessage,
    Claim,
    ConversationBuffer,
    Settlement,
)
from whatsapp_buffer.model import Conversation, InboundMessage, burst_id_for
from whatsapp_buffer.queue_text import queue_json

CONV = Conversation("106540352242922", "16505551234")
T0 = 1_749_416_383.0


def buffered(i, status=PENDING, burst_id=None, text="hi", received_at=None):
    message = InboundMessage(
        f"wamid.{i:03d}",
        CONV,
        "text",
        T0 + i,
        {"text": text},
        received_at=T0 + i if received_at is None else received_at,
    )
    return BufferedMessage(message, f"MSG#{i:03d}", status, burst_id)


def ids(messages):
    return [m.message.message_id for m in messages]


def content_bytes(messages):
    """The content's bytes as the queue body holds it (`queue_text`: a character SQS refuses goes as its escape)."""
    return sum(len(queue_json(m.message.content).encode()) for m in messages)


# which messages the next burst claims


P = (PENDING, None)
B1 = (CLAIMED, "b1")
B2 = (CLAIMED, "b2")


@pytest.mark.parametrize(
    ("states", "max_messages", "expected", "resend"),
    [
        ([], 10, None, False),
        ([P], 10, [0], False),
        ([P] * 3, 10, [0, 1, 2], False),
        ([P] * 12, 10, list(range(10)), False),
        ([P] * 3, 1, [0], False),
        # a claimed-but-unsent burst is resent first, even behind earlier pending messages, and without the cap
        ([P, B1, B1, P], 1, [1, 2], True),
        # two unsent bursts: the first in WhatsApp order goes alone, exactly as it was claimed
        ([B1, B2, B1], 10, [0, 2], True),
    ],
)
def test_next_claim_takes_an_unsent_burst_first_else_pending_messages_up_to_the_cap(
    states, max_messages, expected, resend
):
    # GIVEN a buffer of messages in these states
    messages = [buffered(i, status, burst_id) for i, (status, burst_id) in enumerate(states)]
    # WHEN the next burst is chosen
    claim = ConversationBuffer.of(7, messages).next_claim(max_messages)
    # THEN it holds exactly these messages, under the id they were claimed with or the id of their ordered ids
    if expected is None:
        assert claim is None
        return
    assert ids(claim.messages) == ids([messages[i] for i in expected])
    assert claim.resend is resend
    if resend:
        assert claim.burst_id == messages[expected[0]].burst_id
    else:
        assert claim.burst_id == burst_id_for(ids(claim.messages))
    assert claim.inbound == [m.message for m in claim.messages]


def test_a_burst_takes_the_longest_prefix_that_fits_and_never_nothing():
    # the default maxMessages of the longest texts ingest keeps
    fifty = [buffered(i, text="語" * 4096) for i in range(50)]
    batch = ConversationBuffer.of(1, fifty).next_claim(50).messages
    assert 0 < len(batch) < 50 and list(batch) == fifty[: len(batch)]
    assert content_bytes(batch) <= MAX_BURST_CONTENT_BYTES
    huge = [buffered(0, text="x" * 400_000)]
    assert list(ConversationBuffer.of(1, huge).next_claim(50).messages) == huge


def test_a_burst_counts_a_character_sqs_refuses_as_the_escape_the_queue_body_holds():
    # GIVEN texts stored before ingest replaced U+FFFF: three bytes each in UTF-8, six as the escape SQS is sent
    ten = [buffered(i, text="\uffff" * 4000) for i in range(10)]
    assert sum(len(json.dumps(m.message.content, ensure_ascii=False).encode()) for m in ten) < MAX_BURST_CONTENT_BYTES
    # WHEN the next burst is chosen
    batch = ConversationBuffer.of(1, ten).next_claim(10).messages
    # THEN it fits as sent, escapes included, and the rest follow
    assert 0 < len(batch) < 10
    assert content_bytes(batch) <= MAX_BURST_CONTENT_BYTES


# transitions


def test_claimed_then_sent_leaves_only_the_rest_unsent():
    buffer = ConversationBuffer.of(3, [buffered(i) for i in range(4)])
    claim = buffer.next_claim(2)
    claimed = buffer.claimed(claim)
    assert [(m.status, m.burst_id) for m in claimed.messages] == [(CLAIMED, claim.burst_id)] * 2 + [(PENDING, None)] * 2
    after = claimed.sent(claim)
    assert ids(after.messages) == ["wamid.002", "wamid.003"]
    assert after.version == 3


def test_a_resent_burst_is_claimed_already_and_leaves_when_sent():
    buffer = ConversationBuffer.of(3, [buffered(0, CLAIMED, "b1"), buffered(1)])
    claim = buffer.next_claim(10)
    assert buffer.claimed(claim) == buffer
    assert ids(buffer.claimed(claim).sent(claim).messages) == ["wamid.001"]


@pytest.mark.parametrize(
    ("message", "claim", "transition"),
    [
        # claim only what is pending (the raw table's `#status = :from` condition)
        (buffered(0, CLAIMED, "b1"), Claim("b2", (buffered(0),)), "claimed"),
        # a resend only of what that burst claimed
        (buffered(0), Claim("b1", (buffered(0),), resend=True), "claimed"),
        # mark sent only what this burst claimed (the `burst_id = :burst` condition)
        (buffered(0), Claim("b1", (buffered(0),)), "sent"),
        (buffered(0, CLAIMED, "b1"), Claim("b2", (buffered(0),)), "sent"),
        # never a message the buffer does not hold
        (buffered(0), Claim("b1", (buffered(1),)), "claimed"),
        (buffered(0, CLAIMED, "b1"), Claim("b1", (buffered(1),)), "sent"),
    ],
)
def test_transitions_out_of_order_are_refused(message, claim, transition):
    buffer = ConversationBuffer.of(1, [message])
    with pytest.raises(ValueError):
        getattr(buffer, transition)(claim)


# settlement


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], Settlement(5, 0, None, ())),
        ([buffered(0)], Settlement(5, 1, T0, ("MSG#000",))),
        # counted: pending and claimed-unsent alike; first pending: the earliest arrival, not the first in order;
        # the store keys of all of them (where the store's next read of unsent messages may start)
        (
            [buffered(0, received_at=T0 + 9), buffered(1, CLAIMED, "b1", received_at=T0 + 4), buffered(2)],
            Settlement(5, 3, T0 + 2, ("MSG#000", "MSG#001", "MSG#002")),
        ),
    ],
)
def test_settlement_counts_what_is_unsent_at_the_version_read(messages, expected):
    assert ConversationBuffer.of(5, messages).settlement() == expected


# properties


@st.composite
def buffers(draw):
    sizes = draw(st.lists(st.integers(min_value=0, max_value=60_000), min_size=0, max_size=40))
    unsent_burst = draw(st.integers(min_value=0, max_value=min(3, len(sizes))))
    arrivals = draw(st.lists(st.floats(min_value=0, max_value=600), min_size=len(sizes), max_size=len(sizes)))
    state = [(CLAIMED, "earlier")] * unsent_burst + [(PENDING, None)] * (len(sizes) - unsent_burst)
    messages = [
        buffered(i, status, burst_id, "é" * size, T0 + arrival)
        for i, ((status, burst_id), size, arrival) in enumerate(zip(state, sizes, arrivals, strict=True))
    ]
    return ConversationBuffer.of(draw(st.integers(min_value=0, max_value=10**6)), messages), unsent_burst


@given(buffers(), st.integers(min_value=1, max_value=50))
def test_draining_a_buffer_sends_every_message_once_in_order_within_both_caps(case, max_messages):
    buffer, unsent_burst = case
    original = buffer
    bursts = []
    while (claim := buffer.next_claim(max_messages)) is not None:
        # every flush settles on what it leaves unsent
        after = buffer.claimed(claim).sent(claim)
        assert after.settlement() == Settlement(
            original.version,
            len(after.messages),
            min((m.message.received_at for m in after.messages), default=None),
            tuple(m.store_key for m in after.messages),
        )
        bursts.append(claim)
        buffer = after
    # THEN all messages went, each once, in WhatsApp order, and nothing is left to count
    assert [i for c in bursts for i in ids(c.messages)] == ids(original.messages)
    assert buffer.settlement() == Settlement(original.version, 0, None, ())
    # AND an unsent burst went first, as it was; every new one within max_messages and one queue message (or alone)
    if unsent_burst:
        assert (bursts[0].burst_id, len(bursts[0].messages), bursts[0].resend) == ("earlier", unsent_burst, True)
        bursts = bursts[1:]
    for claim in bursts:
        assert not claim.resend
        assert 1 <= len(claim.messages) <= max_messages
        assert len(claim.messages) == 1 or content_bytes(claim.messages) <= MAX_BURST_CONTENT_BYTES
        assert claim.burst_id == burst_id_for(ids(claim.messages))


@given(buffers(), st.integers(min_value=1, max_value=50))
def test_a_new_burst_is_as_large_as_both_caps_allow(case, max_messages):
    buffer, unsent_burst = case
    claim = buffer.next_claim(max_messages)
    if claim is None or claim.resend:
        return
    pending = list(buffer.pending)
    taken = len(claim.messages)
    # the next pending message would break one of the caps
    if taken < len(pending):
        assert taken == max_messages or content_bytes(pending[: taken + 1]) > MAX_BURST_CONTENT_BYTES


def placed(i, index, size, burst_id="b1"):
    return BufferedMessage(buffered(i).message, f"MSG#{i:03d}", CLAIMED, burst_id, index, size)


def test_a_burst_whose_marks_stopped_half_way_is_only_marked_never_sent_again():
    # GIVEN burst b1 of 4 whose first two places were marked sent before the flush died (marks go in burst order)
    buffer = ConversationBuffer.of(3, [placed(2, 2, 4), placed(3, 3, 4), buffered(4)])
    # THEN the next claim is b1's rest, to be marked sent without a send
    claim = buffer.next_claim(max_messages=10)
    assert (claim.burst_id, ids(claim.messages), claim.resend, claim.sent_already) == (
        "b1",
        ["wamid.002", "wamid.003"],
        True,
        True,
    )
    # AND once marked, the pending message is the next burst
    assert ids(buffer.sent(claim).next_claim(max_messages=10).messages) == ["wamid.004"]


@pytest.mark.parametrize(
    "group",
    [
        [(0, 4), (1, 4)],  # a claim that stopped half-way: the burst was never sent
        [(0, 2), (1, 2)],  # the whole burst claimed, maybe sent: resent under its id, deduplicated
        [(None, None), (None, None)],  # claimed before places were recorded (one transaction: all or nothing)
        [(1, 4), (3, 4)],  # not the burst's last places: not what a mark in burst order leaves
    ],
)
def test_a_claimed_burst_is_sent_again_unless_its_marks_had_begun(group):
    buffer = ConversationBuffer.of(1, [placed(i, index, size) for i, (index, size) in enumerate(group)])
    claim = buffer.next_claim(max_messages=10)
    assert claim.resend and not claim.sent_already


def test_a_claim_that_stopped_half_way_is_completed_into_the_same_burst_under_its_id():
    """Two aggregators may flush one conversation at once (a tick landing in another stream shard after a split;
    flush.py): the other one may be claiming the rest of this burst right now and will send it whole under its id.
    SQS FIFO keeps the first copy of a deduplication id, so the resend must carry the very same messages."""
    whole = burst_id_for(["wamid.000", "wamid.001", "wamid.002"])
    # GIVEN a burst of 3 whose claim stopped after its first place, its other two messages still pending
    buffer = ConversationBuffer.of(4, [placed(0, 0, 3, whole), buffered(1), buffered(2), buffered(3)])
    # THEN the next claim is the whole burst again, to be claimed (the first place already is) and sent
    claim = buffer.next_claim(max_messages=10)
    assert (claim.burst_id, ids(claim.messages), claim.resend) == (
        whole,
        ["wamid.000", "wamid.001", "wamid.002"],
        False,
    )
    after = buffer.claimed(claim).sent(claim)
    assert ids(after.messages) == ["wamid.003"]


def test_a_half_claimed_burst_whose_rest_no_longer_makes_its_id_is_sent_as_claimed():
    # GIVEN a burst of 3 (wamid.000, .002, .003) whose claim stopped after place 0, then a message with an earlier
    # WhatsApp timestamp (wamid.001) arrived: the next pending ones no longer make the burst's id
    first = burst_id_for(["wamid.000", "wamid.002", "wamid.003"])
    buffer = ConversationBuffer.of(4, [placed(0, 0, 3, first), buffered(1), buffered(2), buffered(3)])
    # THEN the prefix goes alone under its id, as claimed (it was never sent: the send follows the whole claim)
    claim = buffer.next_claim(max_messages=10)
    assert (ids(claim.messages), claim.resend, claim.sent_already) == (["wamid.000"], True, False)
