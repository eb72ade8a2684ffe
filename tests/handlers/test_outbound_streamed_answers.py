"""An AI agent's answer streamed in chunks reaches WhatsApp once, whole; messages sent whole are unaffected.

amazon-connect-chatjs, `src/core/PartialMessageUtil.js` (amazon-connect/amazon-connect-chatjs):

    isPartialMessage(incomingData) {
        return incomingData?.ParticipantRole === "SYSTEM"
            && incomingData?.Type === "MESSAGE"
            && incomingData?.MessageMetadata?.MessageCompleted !== null
            && incomingData?.MessageMetadata?.MessageCompleted !== undefined;
    }
    ...
    // if message is completed, replace all partials with the full completed message

Chunks share the message's `Id`, `ChunkNumber` counts from 1 (its spec: `MessageMetadata: { MessageCompleted: false,
ChunkNumber: 1 }`), and the completed item (`MessageCompleted: true`, same Id) carries the whole text. Whether Connect
publishes chunks to the SNS streaming endpoint is not documented: the records below put the fields where chatjs reads
them, in the message body's `MessageMetadata` (the body already carries `MessageMetadata` for read receipts).
"""

from __future__ import annotations

import copy
import json

import pytest
from moto import mock_aws

from tests.handlers.test_outbound import RECORDS, World
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.outbound.send_reply import SENT, STREAMED_CHUNK

ANSWER = ("Your order 4471 ", "ships on Monday ", "from Lisbon.")


def bot_record(content, *, completed, chunk=None, message_id="bot-answer-1", sns_id=None):
    """A SYSTEM message of an AI agent streaming its answer, as the out-topic delivers it."""
    record = copy.deepcopy(RECORDS["system_text"])
    body = json.loads(record["Sns"]["Message"])
    metadata = {"MessageCompleted": completed, **({"ChunkNumber": chunk} if chunk is not None else {})}
    body.update(Id=message_id, Content=content, DisplayName="BOT", MessageMetadata=metadata)
    record["Sns"]["Message"] = json.dumps(body)
    record["Sns"]["MessageId"] = sns_id or f"sns-{message_id}-{chunk or 'done'}"
    return record


def streamed(parts=ANSWER, message_id="bot-answer-1"):
    chunks = [bot_record(p, completed=False, chunk=n, message_id=message_id) for n, p in enumerate(parts, start=1)]
    return [*chunks, bot_record("".join(parts), completed=True, message_id=message_id)]


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    outbound.reset()


def texts(world):
    return [m["text"]["body"] for m in world.sent()]


def test_a_streamed_answer_reaches_the_customer_once_whole_never_as_its_chunks(world):
    world.open_session()
    outcomes = world.handle(*streamed())
    assert outcomes == [STREAMED_CHUNK] * 3 + [SENT]
    assert texts(world) == ["Your order 4471 ships on Monday from Lisbon."]


def test_a_completed_answer_delivered_twice_by_sns_is_sent_once(world):
    world.open_session()
    world.handle(*streamed())
    again = bot_record("".join(ANSWER), completed=True, sns_id="sns-redelivery")
    world.handle(again)
    assert texts(world) == ["Your order 4471 ships on Monday from Lisbon."]


def test_chunks_arriving_after_their_completed_message_send_nothing(world):
    """SNS does not order deliveries: a late chunk must neither go out nor stop a later answer."""
    world.open_session()
    *chunks, completed = streamed()
    world.handle(completed, *reversed(chunks))
    world.handle(*streamed(("Anything ", "else?"), message_id="bot-answer-2"))
    assert texts(world) == ["Your order 4471 ships on Monday from Lisbon.", "Anything else?"]


def test_a_completed_answer_without_any_chunk_before_it_is_sent(world):
    """chatjs: "should replace with completed message even if there has been no previous partial message"."""
    world.open_session()
    assert world.handle(bot_record("Hello!", completed=True)) == [SENT]
    assert texts(world) == ["Hello!"]


@pytest.mark.parametrize(("completed", "sent"), [("false", []), ("true", ["Hello!"])])
def test_message_completed_as_a_string_is_read_the_same_as_the_boolean(world, completed, sent):
    """The SNS attribute values are strings; where Connect puts the flag on SNS is unverified, so both forms count."""
    world.open_session()
    world.handle(bot_record("Hello!", completed=completed, chunk=1 if completed == "false" else None))
    assert texts(world) == sent


def test_a_message_completed_flag_that_is_neither_true_nor_false_is_refused_for_the_retry_and_dlq_path(world):
    world.open_session()
    with pytest.raises(MalformedEvent, match="MessageCompleted"):
        world.handle(bot_record("Hello!", completed="maybe"))
    assert texts(world) == []


def test_a_system_message_sent_whole_is_relayed_as_before(world):
    world.open_session()
    assert world.handle("system_text") == [SENT]
    assert texts(world) == ["Thanks for contacting us."]
