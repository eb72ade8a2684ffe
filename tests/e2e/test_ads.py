"""A customer who came from a click-to-WhatsApp ad and then answers a WhatsApp Flow: the agent reads which ad, the
Connect contact carries its ids as attributes for flows and reports, and the Flow's answers read as field lines.

Meta, Text messages webhook reference: `referral` is "only included if message sent via a Click to WhatsApp ad":
`source_url`, `source_id` ("<AD_ID>"), `source_type` ("ad"), `body`, `headline`, `media_type`, `ctwa_clid`
("<AD_CLICK_ID>", "omitted if message sent via a WhatsApp Status ad placement"). botocore StartChatContact.Attributes:
"The attributes are standard Connect Customer attributes. They can be accessed in flows just like any other contact
attributes. There can be up to 32,768 UTF-8 bytes across all key-value pairs per contact. Attribute keys can include
only alphanumeric, dash, and underscore characters." Setting them there needs no permission beyond
connect:StartChatContact, which the inbound function has.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import TRACES, replay


@pytest.fixture(scope="module")
def ad_run():
    return replay(TRACES / "ad_and_flow.jsonl")


def test_the_first_burst_names_the_ad_the_customer_came_from(ad_run):
    _, transcript, _ = ad_run
    assert transcript["connect"][0]["content"] == (
        '[The customer came from an ad: "Spring sale: 20% off" https://fb.me/2ZulEu42P]\nHi! Is the spring sale still on?'
    )


def test_the_contact_carries_the_ad_id_source_type_and_click_id_as_attributes(ad_run):
    _, transcript, rep = ad_run
    (contact,) = transcript["contacts"]
    attributes = rep.services.fake.chats.contacts[contact["contact_id"]].attributes
    assert {k: attributes[k] for k in ("adSourceId", "adSourceType", "adClickId", "adSourceUrl", "adHeadline")} == {
        "adSourceId": "120226305854810726",
        "adSourceType": "ad",
        "adClickId": "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0N",
        "adSourceUrl": "https://fb.me/2ZulEu42P",
        "adHeadline": "Spring sale: 20% off",
    }
    assert [(m["to"], m["text"]) for m in transcript["whatsapp_out"]][0] == ("15550004444", "Yes, until Sunday!")


def test_the_agent_reads_a_flows_answers_and_can_answer_them(ad_run):
    """Meta, Flows Response Message Webhook: `interactive.nfm_reply.response_json`, a JSON string of the Flow's data
    with the `flow_token` (see tests/unit/test_meta_payloads.py for the quoted shape)."""
    _, transcript, _ = ad_run
    flow = transcript["connect"][1]["content"]
    assert (
        "desk_size: 160x80" in flow
        and "Lisbon" in flow
        and "flow_token" not in flow
        and "sandbox-flow-token" not in flow
    )
    assert transcript["whatsapp_out"][-1]["text"] == "Got your answers: 160x80 to Lisbon"


def test_a_customer_back_from_another_ad_in_an_open_chat_moves_the_contacts_ad_attributes_through_the_iam_check():
    """UpdateContactAttributes on the open chat, authorised (Service Authorization Reference, resource type `contact*`)
    on `instance/<id>/contact/<InitialContactId>`, which the inbound role's grant on the instance's contacts allows:
    the replay runs through instead of stopping at the IAM check (tests/infra/test_connect_iam_reference.py)."""
    _, transcript, rep = replay(TRACES / "ad_again_in_an_open_chat.jsonl")
    (contact,) = transcript["contacts"]
    attributes = rep.services.fake.chats.contacts[contact["contact_id"]].attributes
    assert (attributes["adSourceId"], attributes["adClickId"]) == ("120226305854819999", "Bqq-LampClick")
    assert [item["contact_id"] for item in transcript["connect"]] == [contact["contact_id"]] * 2
    assert transcript["connect"][1]["content"].endswith("This lamp too")
