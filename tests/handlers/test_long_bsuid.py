"""A customer known only by a long business-scoped user id (BSUID) goes through ingest and the aggregator like any
other: Meta's BSUID is "a two-letter ISO country code, a period, and up to 128 alphanumeric characters" (`model.USER_ID`),
so beside a 15-digit business number the conversation key passes the 128 characters an SQS FIFO group id may have.

botocore SQS SendMessage, MessageGroupId: "The length of MessageGroupId is 128 characters. Valid values: alphanumeric
characters and punctuation (!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~)". moto does not apply that length, so the tests check
what was sent. DynamoDB keeps the key as it is ("The maximum length [of a partition key value] is 2048 bytes",
DynamoDB Developer Guide, "Constraints in Amazon DynamoDB").
"""

import re

import boto3
import pytest

from tests.fixtures import eum
from tests.handlers.conftest import T0, drain_bursts
from tests.handlers.test_aggregator import run_windows
from whatsapp_buffer.adapters.bursts_queue import BurstsFifoQueue, message_group_id
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.model import Burst, Conversation, OutgoingItem, TypingSignal, is_user_id

GROUP_ID = re.compile(r"[A-Za-z0-9!-/:-@\[-`{-~]{1,128}")
"""The botocore model's MessageGroupId: up to 128 alphanumeric characters and punctuation."""
LONGEST = "US." + "7" * 128
PARENT = "US.ENT." + "Ab3" * 42 + "xy"


def username_message(message_id, bsuid, text, sent_at):
    """A username customer's message: no `from`, only `from_user_id` (and the contact's `user_id`)."""
    raw = {"from_user_id": bsuid, "id": message_id, "timestamp": str(sent_at), "type": "text", "text": {"body": text}}
    entry = eum.webhook_entry(raw)
    entry["changes"][0]["value"]["contacts"] = [{"profile": {"name": "Long Id"}, "user_id": bsuid}]
    return entry


@pytest.mark.parametrize("bsuid", [LONGEST, PARENT])
def test_a_customer_with_the_longest_bsuid_reaches_the_bursts_queue_in_a_valid_group_of_its_own(
    bsuid, ingest, window, virtual_clock, queue_url
):
    assert is_user_id(bsuid) and len(f"{eum.PHONE_NUMBER_ID}#{bsuid}") > 128
    for i, text in enumerate(["Hello", "it is me"]):
        virtual_clock.set(T0 + 1 + i)
        webhook = username_message(f"wamid.{i}", bsuid, text, T0 + 1 + i)
        assert ingest_module.handler(eum.sns_event(eum.sns_message(webhook)), None)["stored"] == 1
    virtual_clock.set(T0 + 3)
    arrive_short = eum.webhook_entry(eum.message("wamid.9", "another customer", sent_at=T0 + 3))
    ingest_module.handler(eum.sns_event(eum.sns_message(arrive_short)), None)

    run_windows(window, T0 + 40)

    bursts = {burst.conversation.customer: (burst, attributes) for burst, attributes in drain_bursts(queue_url)}
    burst, attributes = bursts[bsuid]
    assert burst.message_ids == ("wamid.0", "wamid.1")
    assert [item.text for item in burst.items] == ["Hello\nit is me"]
    assert burst.conversation == Conversation(eum.PHONE_NUMBER_ID, bsuid)
    assert GROUP_ID.fullmatch(attributes["MessageGroupId"])
    assert attributes["MessageGroupId"] == message_group_id(burst.conversation)
    assert (
        attributes["MessageGroupId"]
        != bursts[eum.CUSTOMER][1]["MessageGroupId"]
        == f"{eum.PHONE_NUMBER_ID}#{eum.CUSTOMER}"
    )


def test_a_typing_signal_goes_to_the_same_group_as_its_conversations_bursts(queue_url):
    conversation = Conversation(eum.PHONE_NUMBER_ID, LONGEST)
    queue = BurstsFifoQueue(queue_url, boto3.client("sqs"))
    queue.send_typing(TypingSignal(conversation, T0), slot="1")
    queue.send(Burst("b1", conversation, (OutgoingItem("text", ("wamid.1",), text="hi"),)))

    sqs = boto3.client("sqs")
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    groups = [m["Attributes"]["MessageGroupId"] for m in received]
    assert groups == [message_group_id(conversation)] * 2
    assert GROUP_ID.fullmatch(groups[0])
    assert TypingSignal.from_json(received[0]["Body"]) == TypingSignal(conversation, T0)


@pytest.mark.parametrize(
    "conversation",
    [
        Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER),
        Conversation("1" * 63, "2" * 63),
        Conversation(eum.PHONE_NUMBER_ID, LONGEST),
        Conversation("1" * 63, "US.ENT." + "z" * 128),
    ],
)
def test_a_group_id_is_the_key_while_it_fits_and_a_stable_digest_beyond(conversation):
    group = message_group_id(conversation)
    assert GROUP_ID.fullmatch(group)
    assert group == message_group_id(Conversation(conversation.phone_number_id, conversation.customer))
    if len(conversation.key) <= 128:
        assert group == conversation.key
    else:
        assert "#" not in group  # never the key of another conversation: every key holds "#"
        assert group != message_group_id(Conversation(conversation.phone_number_id, conversation.customer[:-1] + "0"))
