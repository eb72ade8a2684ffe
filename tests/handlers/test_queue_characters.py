"""A character SQS refuses in a message body (sandbox.sqs_message_rules: botocore's SendMessage documentation allows
only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF) never keeps a customer's messages from the
agent, wherever it came from: the customer's text, their WhatsApp profile name, or an agent's words quoted back.

The bursts queue's client is a function's, its calls checked by the sandbox's SDK hooks as in a worker; virtual
time as in test_aggregator (windows of 10 s, bufferSeconds 20).
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from sandbox.sdk_events import SdkHooks, WorkerFaults
from tests.fixtures import eum
from tests.handlers.conftest import POLICY, T0, TABLE, drain_bursts
from tests.handlers.test_aggregator import arrive, run_windows
from whatsapp_buffer.adapters.bursts_queue import BurstsFifoQueue
from whatsapp_buffer.aggregator.flush import Aggregator
from whatsapp_buffer.entrypoints import aggregator as aggregator_module
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.environment import AggregatorSettings
from whatsapp_buffer.model import Conversation

CONV = Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER)
OUTSIDE_SQS_SET = ["\ufffe", "\uffff", "\x0b"]


@pytest.fixture
def hooks() -> Iterator[SdkHooks]:
    hooks = SdkHooks(WorkerFaults([], "test"))
    with hooks.installed():
        yield hooks


@pytest.fixture
def aggregator(store, queue_url, virtual_clock, hooks) -> Iterator[Aggregator]:
    """The aggregator with a queue client made after the hooks were installed (boto3's default session was not)."""
    settings = AggregatorSettings(raw_table_name=TABLE, bursts_queue_url=queue_url, policy=POLICY)
    client = boto3.session.Session().client("sqs")
    yield aggregator_module.build(settings, store=store, queue=BurstsFifoQueue(queue_url, client))
    aggregator_module.installed.reset()


def sent_bursts(hooks: SdkHooks) -> list[str | None]:
    return [call.error for call in hooks.take() if call.operation == "SendMessage"]


@pytest.mark.parametrize("character", OUTSIDE_SQS_SET)
def test_a_character_sqs_refuses_in_a_text_does_not_block_the_conversation(
    ingest, window, virtual_clock, queue_url, hooks, character
):
    # GIVEN a customer whose text holds a character SQS refuses, and who writes again a minute later
    arrive(virtual_clock, T0 + 1, eum.message("wamid.1", f"my code is 12{character}34", sent_at=T0 + 1))
    run_windows(window, T0 + 60)
    arrive(virtual_clock, T0 + 61, eum.message("wamid.2", "hello? anyone there?", sent_at=T0 + 61))
    # WHEN the windows end
    run_windows(window, T0 + 120)
    # THEN both reach the queue, in order, the character replaced as a control character is
    bursts = drain_bursts(queue_url)
    assert [burst.message_ids for burst, _ in bursts] == [("wamid.1",), ("wamid.2",)]
    assert bursts[0][0].items[0].text == "my code is 12\ufffd34"
    assert "InvalidMessageContents" not in sent_bursts(hooks)


def test_a_character_sqs_refuses_in_the_profile_name_does_not_block_the_customer(
    window, ingest, virtual_clock, queue_url, hooks
):
    # GIVEN a customer whose WhatsApp profile name holds U+FFFF (every burst carries it as the display name)
    virtual_clock.set(T0 + 1)
    webhook = eum.webhook_entry(eum.message("wamid.1", "hi", sent_at=T0 + 1), profile_name="Ana\uffff")
    ingest_module.handler(eum.sns_event(eum.sns_message(webhook)), None)
    # WHEN the windows end
    run_windows(window, T0 + 60)
    # THEN the burst is on the queue, under the name with the character replaced
    ((burst, _),) = drain_bursts(queue_url)
    assert burst.message_ids == ("wamid.1",)
    assert burst.display_name == "Ana\ufffd"
    assert "InvalidMessageContents" not in sent_bursts(hooks)


def test_an_agent_clip_with_a_character_sqs_refuses_quoted_by_the_customer_does_not_block_the_reply(
    window, ingest, virtual_clock, queue_url, store, hooks
):
    # GIVEN an agent's message the bridge relayed, whose kept clip holds U+FFFF, and the customer's reply to it
    store.remember_said(CONV, "wamid.agent", "your code is 12\uffff34", T0, 24)
    reply = eum.message("wamid.1", "thanks", sent_at=T0 + 1)
    reply["context"] = {"from": "15550783881", "id": "wamid.agent"}
    arrive(virtual_clock, T0 + 1, reply)
    # WHEN the windows end
    run_windows(window, T0 + 60)
    # THEN the reply is on the queue, quoting the clip with the character replaced
    ((burst, _),) = drain_bursts(queue_url)
    assert burst.message_ids == ("wamid.1",)
    assert "your code is 12\ufffd34" in burst.items[0].text
    assert "\uffff" not in burst.to_json()
    assert "InvalidMessageContents" not in sent_bursts(hooks)
