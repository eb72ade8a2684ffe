"""The outbound relay's one addition for reply quotes: what the agent said is kept, as a short clip under
the WhatsApp id SendWhatsAppMessage returned, for as long as raw messages are kept; keeping it never fails the relay.
The world is test_outbound's, with the relay given the raw table hook the composition root gives it."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from moto import mock_aws

from tests.fixtures.tables import create_raw_table
from tests.handlers.test_outbound import CONVERSATION, T0, World
from whatsapp_buffer import bootstrap
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.entrypoints import outbound
from whatsapp_buffer.errors import TransientAwsError
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.outbound.send_reply import SENT


class QuotingWorld(World):
    def __init__(self, remember):
        super().__init__()
        relay = outbound.installed.get().sender
        relay._remember_said = remember
        outbound.build(
            sender=relay, persistence=DynamoDBPersistenceLayer(table_name="idempotency", boto3_client=self.dynamodb)
        )


@pytest.fixture
def raw():
    with mock_aws():
        store = RawTable("raw", None)
        create_raw_table(store.client, "raw")
        yield store
    outbound.installed.reset()


def test_what_the_agent_said_is_kept_as_a_short_clip_under_its_whatsapp_id(raw, monkeypatch):
    monkeypatch.setattr("whatsapp_buffer.clock.now", lambda: T0 + 60)
    world = QuotingWorld(bootstrap.remember_said(raw, retention_hours=24))
    world.open_session()
    assert world.handle("agent_text") == [SENT]
    (sent,) = world.fake.services.whatsapp_sent
    assert raw.said(Conversation.from_key(CONVERSATION), sent.message_id, T0 + 120) == "Hi, I'm Ana. How can I help?"
    assert raw.said(Conversation.from_key(CONVERSATION), sent.message_id, T0 + 60 + 25 * 3600) is None


def test_failing_to_keep_the_quote_does_not_fail_or_repeat_the_relay(raw):
    def broken(*args):
        raise TransientAwsError("throttled")

    world = QuotingWorld(broken)
    world.open_session()
    assert world.handle("agent_text") == [SENT]
    assert len(world.sent()) == 1
