"""Two business numbers routed to two flows, and customers coming back after an ended chat, through the replay contract
v3 (`--set contactFlows=<JSON object>`; transcript `contacts[]` with `contact_flow_id`, `attributes`,
`continued_from`, `related_to`).

The trace (traces/flows_and_past_conversation.jsonl): Maria writes to the sales number (Meta's id 106540352242922,
named in contactFlows by its End User Messaging id), Joao to the support number (named by Meta's id 222333444555666).
The agent ends both chats. Joao writes again 20 s after his chat ended, before Connect has his transcript: the
persistent start is refused and his new chat is related to the old one. Maria writes again well after: her new chat
continues the old one as a persistent chat.
"""

from __future__ import annotations

import json

import pytest

from sandbox import trace
from tests.e2e.conftest import TRACES, replay

SALES, SUPPORT = "106540352242922", "222333444555666"
SALES_FLOW = "5a1e5a1e-0000-4000-8000-000000000001"
SUPPORT_FLOW = "5a1e5a1e-0000-4000-8000-000000000002"
DEFAULT_FLOW = "00000000-0000-0000-0000-000000000000"
"""contactFlowId of the sandbox stack (Pulumi.dev.yaml)."""
FLOWS = {f"phone-number-id-{trace.eum_phone_number_id(SALES)}": SALES_FLOW, SUPPORT: SUPPORT_FLOW}


@pytest.fixture(scope="module")
def flows():
    return replay(TRACES / "flows_and_past_conversation.jsonl", contactFlows=json.dumps(FLOWS))


def _chats_of(transcript, customer):
    return [c for c in transcript["contacts"] if c["customer"] == customer]


def test_each_business_number_s_chats_start_in_its_own_flow(flows):
    _, transcript, _ = flows

    maria, joao = _chats_of(transcript, "15550001111"), _chats_of(transcript, "15550002222")

    assert [c["contact_flow_id"] for c in maria] == [SALES_FLOW, SALES_FLOW]
    assert [c["contact_flow_id"] for c in joao] == [SUPPORT_FLOW, SUPPORT_FLOW]


def test_the_contact_attributes_name_the_business_number_by_both_ids(flows):
    _, transcript, _ = flows

    (first_joao, *_) = _chats_of(transcript, "15550002222")

    assert first_joao["attributes"]["whatsappPhoneNumberId"] == SUPPORT
    assert first_joao["attributes"]["whatsappEumPhoneNumberId"] == (
        f"phone-number-id-{trace.eum_phone_number_id(SUPPORT)}"
    )
    assert "15550002222" not in json.dumps(first_joao["attributes"])


def test_a_customer_back_after_the_transcript_is_written_continues_the_past_conversation(flows):
    _, transcript, _ = flows

    first, second = _chats_of(transcript, "15550001111")

    assert (first["continued_from"], first["related_to"]) == (None, None)
    assert second["continued_from"] == first["contact_id"]
    assert second["related_to"] is None
    (back,) = [m for m in transcript["connect"] if m["contact_id"] == second["contact_id"]]
    assert back["content"] == "Got the quote, can we talk about delivery?"


def test_a_customer_back_too_soon_gets_a_related_chat_and_the_refusal_is_counted(flows):
    _, transcript, _ = flows

    first, second = _chats_of(transcript, "15550002222")

    assert second["continued_from"] is None
    assert second["related_to"] == first["contact_id"]
    (back,) = [m for m in transcript["connect"] if m["contact_id"] == second["contact_id"]]
    assert back["content"] == "Wait, which courier?"
    assert transcript["metrics"]["inbound"]["PersistentChatsRefused"] == 1
    assert transcript["metrics"]["inbound"]["PersistentChatsStarted"] == 1
    assert transcript["rejected"] == []


def test_without_contact_flows_every_chat_starts_in_the_default_flow(tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"at": 0, "type": "whatsapp", "from": "15550003333", "text": "hello"}) + "\n")

    _, transcript, _ = replay(path)

    assert [c["contact_flow_id"] for c in transcript["contacts"]] == [DEFAULT_FLOW]
