"""The in-topic corpus through the ingest handler (moto raw table): what is stored, what is rejected and why.

A poison event raises a typed error (SNS invokes ingest asynchronously, so Lambda's two retries and then the ingest
dead-letter queue keep it with that reason); the good messages next to it are stored first, once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests import corpus
from tests.fixtures import eum
from whatsapp_buffer import render
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.errors import MalformedEvent, UnsupportedEvent
from whatsapp_buffer.ingest.webhook import MAX_TEXT_CHARS
from whatsapp_buffer.model import Conversation

GOOD = Conversation(corpus.PHONE_NUMBER_ID, corpus.GOOD_CUSTOMER)
NOT_EUM = "not an End User Messaging Social event"


@dataclass(frozen=True)
class Expect:
    stored: frozenset[str] = frozenset()
    error: type[Exception] | None = None
    reason: str = ""


def ids(*suffixes: str) -> frozenset[str]:
    return frozenset(f"wamid.CORPUS.{s}" for s in suffixes)


EXPECTED = {
    "another_business_number.txt": Expect(
        ids("ab.good"), MalformedEvent, "business number 109999999999999 is not among the event's context"
    ),
    "change_not_an_object.txt": Expect(ids("co.good"), MalformedEvent, "changes[0] is not an object"),
    "cloudwatch_alarm.txt": Expect(error=UnsupportedEvent, reason=NOT_EUM),
    "control_characters.txt": Expect(ids("cc.1", "cc.2")),
    "empty_body.txt": Expect(error=MalformedEvent, reason="SNS message is not JSON"),
    "hostile_ids.txt": Expect(ids("hi.good"), MalformedEvent, "message from is not a short printable id"),
    "huge_integers.txt": Expect(ids("hn.good"), MalformedEvent, "message timestamp is out of range"),
    "json_null.txt": Expect(error=UnsupportedEvent, reason=NOT_EUM),
    "json_string.txt": Expect(error=UnsupportedEvent, reason=NOT_EUM),
    "lone_surrogates.txt": Expect(ids("ls.text"), MalformedEvent, "message id is not printable ASCII"),
    "messages_not_a_list.txt": Expect(
        ids("nl.good"), MalformedEvent, "changes[0].value.messages/statuses is not a list"
    ),
    "missing_ids.txt": Expect(ids("mi.good"), MalformedEvent, "message has no id"),
    "nan_and_infinity.txt": Expect(ids("ni.good"), MalformedEvent, "location message has no numeric latitude"),
    "noncharacters.txt": Expect(ids("nc.1", "nc.2")),
    "no_context.txt": Expect(error=MalformedEvent, reason="not among the event's context.MetaPhoneNumberIds"),
    "s3_event_notification.txt": Expect(error=UnsupportedEvent, reason=NOT_EUM),
    "sns_subscription_confirmation.txt": Expect(error=UnsupportedEvent, reason=NOT_EUM),
    "statuses_with_garbage.txt": Expect(),
    "surrogate_business_number.txt": Expect(
        ids("sb.good"), MalformedEvent, "phone_number_id is missing or not a short"
    ),
    "truncated_envelope.txt": Expect(error=MalformedEvent, reason="SNS message is not JSON"),
    "truncated_webhook_entry.txt": Expect(error=MalformedEvent, reason="whatsAppWebhookEntry is not JSON"),
    "unknown_fields.txt": Expect(),
    "unknown_message_kind.txt": Expect(ids("uk.good", "uk.hologram", "uk.errors")),
    "webhook_entry_not_a_string.txt": Expect(error=MalformedEvent, reason="whatsAppWebhookEntry is a dict"),
    "wrong_content_shapes.txt": Expect(
        ids("ws.good", "ws.card"), MalformedEvent, "order message has no product_items list"
    ),
    "wrong_types.txt": Expect(ids("wt.good"), MalformedEvent, "message timestamp is a boolean"),
    "huge_text_300kb": Expect(ids("ht.good", "ht.huge")),
    "deeply_nested_envelope": Expect(error=MalformedEvent, reason="SNS message is nested too deeply"),
    "deeply_nested_webhook_entry": Expect(error=MalformedEvent, reason="whatsAppWebhookEntry is nested too deeply"),
    "deeply_nested_contact_card": Expect(ids("dc.good"), MalformedEvent, "nested deeper than 16 levels"),
    "huge_contact_list": Expect(ids("hc.good"), MalformedEvent, "KiB, over the 64 KiB kept"),
}

BODIES = {**corpus.files("eum"), **corpus.generated_eum()}
THOUSAND = "thousand_messages_in_one_entry"
"""Checked against a recording store: moto copies the table on every transaction, so 1,000 stores take minutes."""


def stored(store) -> dict[str, dict]:
    items = store.client.scan(TableName=store.table_name)["Items"]
    return {s.message.message_id: s.message.content for c in _conversations(items) for s in store.unsent_messages(c)}


def _conversations(items) -> set[Conversation]:
    return {Conversation.from_key(i["pk"]["S"].removeprefix("CONV#")) for i in items if i["sk"]["S"] == "CONTROL"}


def deliver(body: str):
    return ingest_module.handler(eum.sns_event(body), None)


def test_every_corpus_input_has_an_expected_outcome():
    assert set(BODIES) == set(EXPECTED) | {THOUSAND}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_input_is_stored_or_rejected_with_a_reason_that_quotes_no_body_or_number(ingest, store, capsys, name):
    expect = EXPECTED[name]
    # GIVEN one corpus body WHEN the in-topic delivers it to ingest
    if expect.error is None:
        deliver(BODIES[name])
    else:
        with pytest.raises(expect.error) as raised:
            deliver(BODIES[name])
        # THEN the typed error names the problem ...
        assert expect.reason in str(raised.value)
        # ... without quoting the poison's body or its sender's full number
        assert corpus.POISON_TEXT not in str(raised.value)
        assert corpus.BAD_CUSTOMER not in str(raised.value)
    # AND exactly the good messages are stored
    assert set(stored(store)) == expect.stored
    logged = capsys.readouterr()
    assert corpus.POISON_TEXT not in logged.out + logged.err
    assert corpus.BAD_CUSTOMER not in logged.out + logged.err


def test_a_contact_card_whose_lists_are_not_lists_is_stored_without_them_and_reaches_the_agent(ingest, store):
    with pytest.raises(MalformedEvent):
        deliver(BODIES["wrong_content_shapes.txt"])
    card = stored(store)["wamid.CORPUS.ws.card"]
    assert card == {"contacts": [{"name": {"formatted_name": "Corpus Card"}}]}
    assert render.item_text("contacts", card) == "[Shared contact]\n- Corpus Card"


def test_integers_too_big_for_a_float_are_each_rejected_with_their_own_reason(ingest, store):
    # GIVEN a good message beside a 401-digit timestamp, latitude and longitude (JSON reads them; float() cannot)
    # WHEN the in-topic delivers them
    with pytest.raises(MalformedEvent) as raised:
        deliver(BODIES["huge_integers.txt"])
    # THEN each bad one is rejected, naming its position and what is out of range, and the good one is stored
    reason = str(raised.value)
    assert reason.startswith("3 message(s) rejected")
    assert "messages[1] (wamid.CORPUS.hn.ts): message timestamp is out of range" in reason
    assert "messages[2] (wamid.CORPUS.hn.lat): location message's latitude is out of range" in reason
    assert "messages[3] (wamid.CORPUS.hn.lon): location message's longitude is out of range" in reason
    assert set(stored(store)) == ids("hn.good")


def test_the_lambda_retries_of_a_poison_event_store_its_good_neighbour_once(ingest, store):
    # GIVEN an event with a good message and one for a business number this account does not own
    body = BODIES["another_business_number.txt"]
    # WHEN Lambda runs it three times (the first attempt and its two async retries)
    for _ in range(3):
        with pytest.raises(MalformedEvent):
            deliver(body)
    # THEN the good message is pending once
    assert store.read_control(GOOD).pending == 1


class RecordingStore:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.reads = 0

    def last_arrival(self, conversation) -> float | None:
        self.reads += 1
        return None

    def store_message(self, message, now, retention_hours, cue=None) -> bool:
        self.ids.append(message.message_id)
        return True


def test_a_thousand_messages_in_one_entry_are_all_stored_in_order(ingest_settings, virtual_clock):
    recording = RecordingStore()
    ingest_module.build(ingest_settings, store=recording)
    try:
        result = deliver(BODIES[THOUSAND])
    finally:
        ingest_module.installed.reset()
    assert result["stored"] == 1000
    assert recording.ids == [f"wamid.CORPUS.th.{i:04d}" for i in range(1000)]
    # One conversation: its previous arrival is read once, then known from the messages stored before it
    assert recording.reads == 1


def test_a_text_longer_than_whatsapp_allows_is_cut_with_a_readable_note(ingest, store):
    deliver(BODIES["huge_text_300kb"])
    text = stored(store)["wamid.CORPUS.ht.huge"]["text"]
    assert len(text) <= MAX_TEXT_CHARS + 100
    assert text.startswith("z" * 1000)
    assert text.endswith("more characters not shown: over WhatsApp's text limit]")
    assert "295,984 more characters" in text


def test_control_characters_and_lone_surrogates_are_replaced_and_the_rest_kept(ingest, store):
    deliver(BODIES["control_characters.txt"])
    with pytest.raises(MalformedEvent):
        deliver(BODIES["lone_surrogates.txt"])
    texts = {k: v["text"] for k, v in stored(store).items()}
    assert texts["wamid.CORPUS.cc.1"] == "bell\ufffd nul\ufffd esc\ufffd[31m csi\ufffd ok\ttab\nline"
    assert texts["wamid.CORPUS.cc.2"] == "\u202eRTL override and zero\u200bwidth stay"
    assert texts["wamid.CORPUS.ls.text"] == "high \ufffd low \ufffd pair \U0001f600 reversed \ufffd\ufffd"
    (message,) = [s.message for s in store.unsent_messages(GOOD) if s.message.message_id == "wamid.CORPUS.cc.1"]
    assert message.profile_name == "Corpus\ufffd\ufffdCustomer"


def test_noncharacters_sqs_refuses_are_replaced_in_texts_and_names(ingest, store):
    # U+FFFE/U+FFFF: outside the characters an SQS body may hold (botocore sqs SendMessage: "#x9 | #xA | #xD | #x20 to
    # #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"), so replaced like a control character
    deliver(BODIES["noncharacters.txt"])
    texts = {k: v["text"] for k, v in stored(store).items()}
    assert texts["wamid.CORPUS.nc.1"] == "reversed bom \ufffd noncharacter \ufffd last allowed \ufffd\U0010ffff"
    assert texts["wamid.CORPUS.nc.2"] == "\ufffd\ufffd"
    (message, _) = [s.message for s in store.unsent_messages(GOOD)]
    assert message.profile_name == "Corpus\ufffdCustomer"


def test_an_unknown_message_kind_is_kept_as_unsupported_for_the_agent_to_see(ingest, store):
    deliver(BODIES["unknown_message_kind.txt"])
    contents = stored(store)
    assert contents["wamid.CORPUS.uk.hologram"] == {"original_type": "hologram"}
    assert contents["wamid.CORPUS.uk.errors"] == {"original_type": "unknown", "error": "131051: Message type unknown"}
