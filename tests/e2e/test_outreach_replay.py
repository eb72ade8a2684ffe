"""Outreach by template end to end through the replay contract v3 (`template` and `outreach` lines): the flow's
answers, the template on WhatsApp, and the customer's reply reaching a chat that carries the outreach."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import EXAMPLES, replay

CUSTOMER = "15550001111"


@pytest.fixture(scope="module")
def run():
    return replay(EXAMPLES / "outreach.jsonl")


def test_each_flow_gets_sent_or_refused_with_its_reason(run):
    _, transcript, _ = run

    assert [(o["at"], o["to"], o["template"], o["result"], o["reason"]) for o in transcript["outreach"]] == [
        (5.0, CUSTOMER, "order_update", "sent", "template order_update sent"),
        (6.0, "15550002222", "spring_sale", "refused", "template spring_sale is PENDING, not APPROVED"),
        (
            7.0,
            "15550002222",
            "order_update",
            "refused",
            "template order_update takes 2 body parameter(s), the flow gave 1",
        ),
        (8.0, None, "order_update", "refused", "missing parameter 'to' (the customer's WhatsApp number)"),
        (
            9.0,
            "15550003333",
            "no_such_template",
            "refused",
            "unknown template no_such_template (en_US) in the number's account",
        ),
    ]


def test_only_the_sent_template_reaches_whatsapp(run):
    _, transcript, _ = run

    templates = [w for w in transcript["whatsapp_out"] if w["kind"] == "template"]
    assert templates == [
        {"at": 5.0, "to": CUSTOMER, "kind": "template", "template": "order_update", "language": "en_US"}
    ]
    assert transcript["whatsapp_refused"] == []


def test_the_reply_starts_a_chat_carrying_the_outreach_attributes(run):
    _, transcript, rep = run

    (contact,) = transcript["contacts"]
    (view,) = rep.services.fake.contacts()
    assert contact["customer"] == CUSTOMER
    assert {k: view.attributes[k] for k in ("caseId", "topic", "outreachTemplate")} == {
        "caseId": "C-77",
        "topic": "shipping",
        "outreachTemplate": "order_update",
    }


def test_the_agent_reads_what_the_customer_answers_before_their_words(run):
    _, transcript, _ = run

    notice, words = transcript["connect"][:2]
    assert notice["sender"] == "bridge" and notice["message_ids"] == [] and notice["customer"] == CUSTOMER
    assert notice["content"] == (
        "[WhatsApp bridge] The customer is answering the WhatsApp template order_update (en_US) sent 2026-01-01 "
        "00:00 UTC: Hello Ana, your order A-1042 has shipped. Reply here if anything is wrong."
    )
    assert words["sender"] == "customer" and words["content"] == "Hi, where is it now?\nIt is not at the door"
    assert len(transcript["connect"]) == 2
