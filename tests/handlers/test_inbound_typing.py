"""The inbound function shows "the customer is typing" only in an open chat, and drops stale signals; a typing
signal never fails the batch. test_inbound's world (moto, the project's one fake)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from tests.handlers.test_inbound import MARIA, World, text_burst
from whatsapp_buffer.entrypoints import inbound
from whatsapp_buffer.model import TypingSignal


@pytest.fixture
def world():
    with mock_aws():
        yield World()
    inbound.installed.reset()


def signal(world, conversation=MARIA, age=0.0):
    body = TypingSignal(conversation, world.now - age).to_json()
    world.enqueue((body, conversation.key, f"typing-{world.now}-{age}"))
    return world.run()


def typing_events(world):
    return world.fake.calls("SendEvent")


def test_typing_in_an_open_chat_is_sent_as_connects_typing_event(world):
    world.deliver(text_burst("Hello"))
    world.now += 30
    _, failed = signal(world)
    assert failed == set()
    (event,) = typing_events(world)
    assert event["ContentType"] == "application/vnd.amazonaws.connect.event.typing"
    assert event["ConnectionToken"] == world.session().connection_token


@pytest.mark.parametrize("situation", ["no chat", "chat ended", "stale"])
def test_no_typing_without_an_open_chat_or_for_a_stale_signal_and_the_batch_still_succeeds(world, situation):
    if situation != "no chat":
        world.deliver(text_burst("Hello"))
    if situation == "chat ended":
        world.fake.services.end_chat(world.session().contact_id)
        world.sessions.end(MARIA.key, world.session().contact_id, world.now)
    _, failed = signal(world, age=20.0 if situation == "stale" else 0.0)
    assert failed == set() and typing_events(world) == []
    # a typing signal never opens a chat
    assert len(world.calls("StartChatContact")) == (0 if situation == "no chat" else 1)


def test_a_typing_signal_whose_session_lookup_fails_is_dropped_not_retried(world, monkeypatch):
    from whatsapp_buffer.errors import TransientAwsError

    world.deliver(text_burst("Hello"))

    def throttled(*args, **kwargs):
        raise TransientAwsError("throttled")

    monkeypatch.setattr(world.sessions, "get", throttled)
    _, failed = signal(world)
    assert failed == set() and typing_events(world) == []
