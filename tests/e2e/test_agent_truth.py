"""Nothing an agent sends fails silently, through the whole pipeline: a reply 25 hours after the customer's last
message is not sent, the agent reads the bridge's notice in the chat, and the notice never reaches WhatsApp."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import TRACES, replay


@pytest.fixture(scope="module")
def late_replies():
    # A chat kept open for two days, so the agent can still write into it a day later.
    return replay(TRACES / "agent_truth.jsonl", chatDurationMinutes=2880)


def test_the_reply_within_the_window_reaches_the_customer_and_the_later_ones_are_refused(late_replies):
    _, transcript, _ = late_replies
    assert [m["at"] // 1 for m in transcript["whatsapp_out"]] == [60, 120, 180, 180, 180, 180]
    refused = transcript["whatsapp_refused"]
    assert [(r["to"], r["kind"]) for r in refused] == [("15550001111", "text")] * 2
    assert all(r["reason"].startswith("131047 Re-engagement message") for r in refused)


def test_the_agents_rich_text_arrives_in_whatsapps_formatting(late_replies):
    _, transcript, _ = late_replies
    assert transcript["whatsapp_out"][1]["text"] == (
        "*Order 123* left the depot _today_:\n- carrier: ~DHL~ UPS\n- track it (https://example.com/t/123)"
    )


def test_a_10000_character_reply_arrives_whole_in_several_messages(late_replies):
    events, transcript, _ = late_replies
    (long_reply,) = [e.data["text"] for e in events if len(e.data.get("text", "")) > 4096]
    parts = [m["text"] for m in transcript["whatsapp_out"] if 180 <= m["at"] < 190]
    assert len(long_reply) == 10_000 and len(parts) == 4  # whole paragraphs, two to a message
    assert all(len(p) <= 4096 for p in parts)
    assert "\n\n".join(parts).split() == long_reply.split()


def test_the_agent_sees_the_bridges_notice_in_the_same_chat_within_seconds(late_replies):
    _, transcript, _ = late_replies
    (contact,) = transcript["contacts"]
    notices = [m for m in transcript["connect"] if m["sender"] == "bridge"]
    assert [n["at"] for n in notices] == pytest.approx([90000, 90030], abs=5)
    for notice in notices:
        assert notice["contact_id"] == contact["contact_id"] and notice["message_ids"] == []
        assert notice["content"].startswith("[WhatsApp bridge] Not delivered")
    # Whole hours from when the customer's message (at 0) reached the bridge, a moment after 0, to when the agent
    # wrote (90000 s and 90030 s), however late the bridge handles the reply: just under 25 h, then just over.
    assert [re.search(r"last wrote (\d+) h ago", n["content"]).group(1) for n in notices] == ["24", "25"]


def test_notices_are_never_relayed_to_whatsapp_nor_counted_as_the_customers_words(late_replies):
    events, transcript, _ = late_replies
    notice_texts = {m["content"] for m in transcript["connect"] if m["sender"] == "bridge"}
    assert notice_texts and not notice_texts & {m.get("text") for m in transcript["whatsapp_out"]}
    customer_items = [m for m in transcript["connect"] if m["sender"] == "customer"]
    assert [i for m in customer_items for i in m["message_ids"]] == [
        f"wamid.SBX{e.line - 1:08d}" for e in events if e.type == "whatsapp"
    ]


def test_refusals_are_counted_by_reason_and_nothing_is_dead_lettered(late_replies):
    _, transcript, _ = late_replies
    outbound = transcript["metrics"]["outbound"]
    assert outbound["RepliesRefused"] == outbound["RepliesRefused[Reason=window_closed]"] == 2
    assert transcript["rejected"] == []


@pytest.fixture(scope="module")
def late_replies_with_template():
    return replay(
        TRACES / "agent_truth.jsonl",
        chatDurationMinutes=2880,
        reengagementTemplate="order_followup",
        reengagementTemplateLanguage="en_GB",
    )


def test_with_a_template_configured_it_goes_out_once_and_the_agent_is_told(late_replies_with_template):
    _, transcript, _ = late_replies_with_template
    kinds = [(m["kind"], m.get("template"), m.get("language")) for m in transcript["whatsapp_out"]]
    assert kinds == [("text", None, None)] * 6 + [("template", "order_followup", "en_GB")]
    first, second = [m["content"] for m in transcript["connect"] if m["sender"] == "bridge"]
    assert 'template "order_followup" was sent instead' in first
    assert 'template "order_followup" was already sent' in second


@pytest.fixture(scope="module")
def agent_files():
    return replay(TRACES / "agent_files.jsonl")


def test_an_agents_heic_mov_and_wav_arrive_converted_and_a_pdf_as_it_is(agent_files):
    _, transcript, replay_ = agent_files
    out = transcript["whatsapp_out"]
    assert [(m["at"] // 1, m["kind"]) for m in out] == [(60, "image"), (70, "video"), (80, "audio"), (100, "document")]
    posted = [replay_.services.fake.media(m["media_id"])[1] for m in out]
    assert posted == ["image/jpeg", "video/mp4", "audio/mp4", "application/pdf"]
    assert transcript["metrics"]["outbound"]["AgentFilesConverted"] == 3


def test_an_agents_oversized_png_is_told_to_the_agent(agent_files):
    _, transcript, _ = agent_files
    notices = [m["content"] for m in transcript["connect"] if m["sender"] == "bridge"]
    assert notices == [
        "[WhatsApp bridge] Not delivered (your file diagram.png): it is 5.7 MB; WhatsApp takes image/png files up to "
        "5 MB.",
    ]
    assert [(r["at"] // 1, r["kind"]) for r in transcript["whatsapp_refused"]] == [(90, "image")]
    assert transcript["rejected"] == []
