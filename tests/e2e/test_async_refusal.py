"""A refusal WhatsApp reports after accepting the send, through the whole pipeline: the fake End User
Messaging accepts the agent's reply, then reports a `failed` status with error 131047 on the in-topic (its default
`service_window="status"` mode; Meta: errors come "synchronously … asynchronously via Webhook, or sometimes through
both"); ingest records the refusal, the inbound function reads it off the raw table's stream and the agent reads the
bridge's notice in the same chat, within seconds. The customer's message arrives as a `raw` in-topic event, so the
fake WhatsApp never saw the customer write: the bridge believes the window open, WhatsApp does not."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TRACES, replay


@pytest.fixture(scope="module")
def refused_later():
    return replay(TRACES / "async_refusal.jsonl")


def test_the_agent_reads_within_seconds_that_whatsapp_did_not_deliver_the_reply_and_why(refused_later):
    _, transcript, _ = refused_later
    (notice,) = [m for m in transcript["connect"] if m["sender"] == "bridge"]
    assert notice["content"].startswith('[WhatsApp bridge] Not delivered (your message "Yes, it left this morning")')
    assert "(131047) Re-engagement message" in notice["content"]
    assert 60 <= notice["at"] <= 70
    (customer_line,) = [m for m in transcript["connect"] if m["sender"] == "customer"]
    assert customer_line["contact_id"] == notice["contact_id"]


def test_the_refused_reply_is_listed_once_and_nothing_goes_back_to_whatsapp(refused_later):
    _, transcript, _ = refused_later
    (refused,) = transcript["whatsapp_refused"]
    assert refused["to"] == "15550002222" and refused["kind"] == "text"
    assert refused["reason"].startswith("131047 Re-engagement message")
    assert transcript["whatsapp_out"] == []
    assert transcript["rejected"] == []
