"""The example traces replayed through the whole pipeline: what reaches Connect, and what comes back."""

from __future__ import annotations

import json
import re

import pytest

from sandbox import trace, verify
from tests.e2e.conftest import EXAMPLES, TRACES, replay


def texts_for(transcript, customer):
    return [m["content"] for m in transcript["connect"] if m["customer"] == customer and m["kind"] == "text"]


@pytest.fixture(scope="module")
def burst():
    return replay(TRACES / "burst.jsonl")


@pytest.fixture(scope="module")
def two_customers():
    return replay(TRACES / "two_customers_media.jsonl")


@pytest.fixture(scope="module")
def redelivery():
    return replay(TRACES / "redelivery_and_bad_input.jsonl")


@pytest.fixture(scope="module")
def morning_rush():
    return replay(EXAMPLES / "morning_rush.jsonl")


def test_a_burst_reaches_connect_as_one_message_with_its_five_lines_in_order(burst):
    _, transcript, _ = burst
    assert len(transcript["connect"]) == 1
    message = transcript["connect"][0]
    assert message["kind"] == "text"
    assert message["content"] == "Hello\nHow\nare\nyou?\n✌️"
    assert len(message["message_ids"]) == 5
    assert transcript["stats"]["whatsapp_in"] == 5 and transcript["stats"]["connect_messages"] == 1


def test_a_burst_is_flushed_after_the_quiet_period_and_within_one_window_of_it(burst):
    events, transcript, _ = burst
    last_typed = max(e.at for e in events if e.type == "whatsapp")
    delivered = transcript["connect"][0]["at"]
    # Quiet for bufferSeconds (20), looked at every windowSeconds (5): 20 <= delay < 25 (+ delivery hops).
    assert 20.0 <= delivered - last_typed < 25.0 + 1.0


def test_the_agent_reply_reaches_the_customer_on_whatsapp(burst):
    _, transcript, _ = burst
    assert [(m["to"], m["kind"], m["text"]) for m in transcript["whatsapp_out"]] == [
        ("15550001111", "text", "Hi! I'm Ana, how can I help?")
    ]


def test_the_customers_own_messages_are_not_echoed_back_to_whatsapp(burst, two_customers, morning_rush):
    for _, transcript, _ in (burst, two_customers, morning_rush):
        typed_by_customers = {m["content"] for m in transcript["connect"]}
        assert not [m for m in transcript["whatsapp_out"] if m.get("text") in typed_by_customers]


def test_two_customers_get_two_contacts(two_customers):
    _, transcript, _ = two_customers
    first_contacts = {c["customer"]: c["contact_id"] for c in transcript["contacts"] if c["started_at"] < 60}
    assert set(first_contacts) == {"15550002222", "15550003333"}
    assert first_contacts["15550002222"] != first_contacts["15550003333"]
    assert texts_for(transcript, "15550003333") == ["hi"]


def test_the_image_and_its_caption_stay_in_sequence(two_customers):
    _, transcript, _ = two_customers
    before_end = [m for m in transcript["connect"] if m["customer"] == "15550002222" and m["at"] < 60]
    assert [(m["kind"], m["content"] if m["kind"] == "text" else "<file>") for m in before_end] == [
        ("text", "My order arrived broken"),
        ("attachment", "<file>"),
        ("text", "see the box"),
        ("text", "what can you do?"),
    ]
    attachment, caption = before_end[1], before_end[2]
    assert re.fullmatch(r".+\.jpg", attachment["content"])
    assert attachment["message_ids"] == caption["message_ids"]


def test_an_ignored_reaction_reaches_nobody_and_is_counted(two_customers):
    _, transcript, _ = two_customers
    delivered = {mid for m in transcript["connect"] for mid in m["message_ids"]}
    assert len(delivered) == 5  # 6 customer messages, the 👍 reaction ignored (ignoreReactions defaults to true)
    assert transcript["stats"]["ignored"] == 1


def test_after_end_chat_the_next_message_opens_a_new_contact(two_customers):
    _, transcript, _ = two_customers
    contacts = [c for c in transcript["contacts"] if c["customer"] == "15550002222"]
    assert len(contacts) == 2
    thanks = next(m for m in transcript["connect"] if m["content"] == "thanks!")
    assert thanks["contact_id"] == contacts[1]["contact_id"] != contacts[0]["contact_id"]
    assert transcript["whatsapp_out"][0]["text"] == "Sorry about that, sending a new one."


def test_a_redelivered_message_is_dropped_and_counted(redelivery):
    _, transcript, _ = redelivery
    ids = [mid for m in transcript["connect"] for mid in m["message_ids"]]
    assert ids.count("wamid.A1") == 1
    assert transcript["stats"]["duplicates_dropped"] == 1


def test_a_malformed_raw_body_is_rejected_with_a_reason_and_nothing_else_is_lost(redelivery):
    _, transcript, _ = redelivery
    assert len(transcript["rejected"]) == 1
    rejected = transcript["rejected"][0]
    assert rejected["at"] == 1.0
    assert "not JSON" in rejected["reason"]
    delivered = sorted(mid for m in transcript["connect"] for mid in m["message_ids"])
    assert delivered == ["wamid.A1", "wamid.A2", "wamid.A3"]


def test_an_out_of_order_pair_is_delivered_in_whatsapp_timestamp_order(redelivery):
    # A2 was sent a WhatsApp second before A3 but reaches the bridge after it (the webhook's timestamp is whole seconds)
    events, transcript, _ = redelivery
    assert texts_for(transcript, "15550004444") == ["first\nsecond\nthird"]
    assert transcript["connect"][0]["message_ids"] == ["wamid.A1", "wamid.A2", "wamid.A3"]
    assert verify.audit(events, transcript).reordered == 0


@pytest.mark.parametrize("fixture", ["burst", "two_customers", "redelivery", "morning_rush"])
def test_every_accepted_message_reaches_connect_exactly_once(fixture, request):
    events, transcript, _ = request.getfixturevalue(fixture)
    sent = {e.data.get("id") for e in events if e.type == "whatsapp" and e.data.get("id")}
    per_id: dict[str, list[str]] = {}
    for message in transcript["connect"]:
        for message_id in message["message_ids"]:
            per_id.setdefault(message_id, []).append(message["kind"])
    for message_id, kinds in per_id.items():
        # A media message appears twice: its attachment and its caption. Everything else exactly once.
        assert kinds in (["text"], ["attachment"], ["attachment", "text"]), (message_id, kinds)
    ids = trace.assign_message_ids(events)
    accepted = {
        ids[e.line] for e in events if e.type == "whatsapp" and e.data.get("kind") not in ("reaction", "sticker")
    }
    assert set(per_id) == accepted
    assert sent - set(per_id) <= {ids[e.line] for e in events if e.data.get("kind") in ("reaction", "sticker")}


def test_no_log_line_carries_a_message_body_or_a_full_phone_number(morning_rush, two_customers):
    for events, _, rep in (morning_rush, two_customers):
        phone_numbers = {e.customer for e in events if e.type in ("whatsapp", "agent")}
        bodies = {str(e.data["text"]) for e in events if len(str(e.data.get("text", ""))) >= 8}
        logged = [(function, line) for function, lines in rep.pipeline.logs.items() for line in lines]
        assert phone_numbers and bodies and logged, (len(phone_numbers), len(bodies), len(logged))
        for function, line in logged:
            for secret in phone_numbers | bodies:
                assert secret not in line, f"{function} logged {secret[:4]}…: {line[:120]}"


def test_every_line_the_functions_log_is_a_json_record_when_no_invocation_fails(two_customers):
    # Functions that record no metric in an invoke are normal here (a sweep that finds nothing, a status event);
    # Powertools warns of that in plain text unless told not to (Metrics docs, "Suppressing warning messages on empty
    # metrics": "If you expect your function to execute without publishing metrics every time, you can suppress the
    # warning with warnings.filterwarnings(\"ignore\", \"No application metrics to publish*\")").
    _, transcript, rep = two_customers
    assert transcript["rejected"] == []
    logged = [(function, line) for function, lines in rep.pipeline.logs.items() for line in lines]
    assert len(logged) > 20
    for function, line in logged:
        assert isinstance(_json_or_none(line), dict), (
            f"{function} logged a line that is not a JSON record: {line[:120]}"
        )


def _json_or_none(line: str) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None


def test_the_transcript_is_json_with_the_contract_fields(morning_rush):
    _, transcript, _ = morning_rush
    document = json.loads(json.dumps(transcript))
    assert {"connect", "whatsapp_out", "contacts", "rejected", "stats"} <= set(document)
    assert document["connect"]
    for message in document["connect"]:
        assert {"at", "contact_id", "customer", "kind", "content", "message_ids"} <= set(message)
        assert message["kind"] in ("text", "attachment")
    assert {"whatsapp_in", "connect_messages", "duplicates_dropped"} <= set(document["stats"])


def test_a_redelivery_that_arrives_seconds_later_is_recognised_and_shown_once(morning_rush):
    # wamid.LAMP0007 comes again 1.2 s later (WhatsApp resends it with its original timestamp)
    _, transcript, _ = morning_rush
    assert transcript["stats"]["duplicates_dropped"] == 1
    shown = [m for m in transcript["connect"] if "wamid.LAMP0007" in m["message_ids"]]
    assert len(shown) == 1 and shown[0]["content"].count("the shade is cracked") == 1
