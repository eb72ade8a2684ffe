"""Ingest handler: real-shaped SNS events in, raw-table items out (moto)."""

import json

import pytest
from botocore.exceptions import ClientError

from tests.fixtures import eum
from tests.fixtures.dynamodb_limits import apply_key_size_limits
from tests.fixtures.fakes import LambdaContext
from tests.fixtures.log_lines import log_lines
from tests.handlers.conftest import T0, emitted
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.entrypoints import ingest as ingest_module
from whatsapp_buffer.environment import IngestSettings
from whatsapp_buffer.errors import MalformedEvent, UnsupportedEvent
from whatsapp_buffer.model import Conversation

CONV = Conversation(eum.PHONE_NUMBER_ID, eum.CUSTOMER)


def deliver(*webhooks):
    return ingest_module.handler(eum.sns_event(*(eum.sns_message(w) for w in webhooks)), None)


def stored_items(store, conversation=CONV):
    return [(s.message.message_id, s.message.kind) for s in store.unsent_messages(conversation)]


@pytest.mark.parametrize("fixture", eum.KINDS)
def test_every_message_kind_is_stored_pending(ingest, store, fixture):
    # GIVEN a real-shaped EUM event of one kind WHEN delivered
    result = deliver(eum.entry(fixture))
    # THEN one message is stored pending and counted on its conversation
    assert result["stored"] == 1
    assert len(stored_items(store)) == 1
    assert store.read_control(CONV).pending == 1


def test_redelivered_message_is_stored_once(ingest, store, virtual_clock):
    deliver(eum.entry("text"))
    virtual_clock.set(T0 + 30)
    result = deliver(eum.entry("text"))
    assert result == {"stored": 0, "duplicates": 1, "ignored": 0, "statuses": 0}
    control = store.read_control(CONV)
    assert (control.pending, control.last_arrival) == (1, T0)


def test_statuses_only_event_stores_nothing_and_succeeds(ingest, store):
    result = deliver(eum.entry("statuses_only"))
    assert result == {"stored": 0, "duplicates": 0, "ignored": 0, "statuses": 1}
    assert store.client.scan(TableName=store.table_name)["Items"] == []


def test_two_business_numbers_with_one_customer_are_separate_conversations(ingest, store):
    deliver(eum.webhook_entry(eum.message("wamid.1", "to sales")))
    deliver(eum.webhook_entry(eum.message("wamid.2", "to support"), phone_number_id="107000000000001"))
    other = Conversation("107000000000001", eum.CUSTOMER)
    assert stored_items(store) == [("wamid.1", "text")]
    assert stored_items(store, other) == [("wamid.2", "text")]
    (support,) = store.unsent_messages(other)
    assert support.message.origination_phone_number_id == eum.PHONE_ARNS["107000000000001"]


def test_one_event_with_several_messages_stores_them_all(ingest, store):
    deliver(eum.webhook_entry(eum.message("wamid.2", "b", sent_at=T0 + 1), eum.message("wamid.1", "a", sent_at=T0)))
    assert stored_items(store) == [("wamid.1", "text"), ("wamid.2", "text")]
    assert store.read_control(CONV).pending == 2


def test_malformed_json_raises_and_stores_nothing(ingest, store):
    with pytest.raises(MalformedEvent, match="not JSON"):
        ingest_module.handler(eum.sns_event("{this is not json"), None)
    assert store.client.scan(TableName=store.table_name)["Items"] == []


def test_non_eum_body_raises_unsupported_event(ingest):
    with pytest.raises(UnsupportedEvent):
        ingest_module.handler(eum.sns_event(json.dumps({"Type": "Notification", "Message": "hi"})), None)


def test_valid_siblings_of_a_message_with_missing_fields_are_stored_before_the_event_fails(ingest, store):
    # GIVEN an entry whose second message has no timestamp
    bad = eum.message("wamid.bad", "x")
    del bad["timestamp"]
    # WHEN delivered THEN the event fails (so retries and the DLQ keep it) naming what is wrong
    with pytest.raises(MalformedEvent, match="no timestamp"):
        deliver(eum.webhook_entry(eum.message("wamid.good"), bad))
    # AND the good message is stored; a retry stores it no second time
    assert stored_items(store) == [("wamid.good", "text")]
    with pytest.raises(MalformedEvent):
        deliver(eum.webhook_entry(eum.message("wamid.good"), bad))
    assert store.read_control(CONV).pending == 1


def test_a_bad_record_does_not_stop_the_other_records_of_the_invocation(ingest, store):
    event = eum.sns_event("nope", eum.sns_message(eum.webhook_entry(eum.message("wamid.ok"))))
    with pytest.raises(MalformedEvent):
        ingest_module.handler(event, None)
    assert stored_items(store) == [("wamid.ok", "text")]


def test_oversized_text_is_stored_whole_for_the_aggregator_to_split(ingest, store):
    deliver(eum.webhook_entry(eum.message("wamid.long", "z" * 4096)))
    (stored,) = store.unsent_messages(CONV)
    assert stored.message.content["text"] == "z" * 4096


@pytest.mark.parametrize(("flags", "fixture"), [((True, False), "reaction"), ((False, True), "sticker")])
def test_ignored_reactions_and_stickers_are_counted_not_stored(store, virtual_clock, capsys, flags, fixture):
    # GIVEN ingest configured to ignore reactions or stickers
    settings = IngestSettings(
        store.table_name, retention_hours=1, ignore_reactions=flags[0], ignore_stickers=flags[1], max_wait_seconds=60
    )
    ingest_module.build(settings, store=store)
    try:
        # WHEN one arrives
        result = deliver(eum.entry(fixture))
    finally:
        ingest_module.installed.reset()
    # THEN nothing is stored, and it is counted in the MessagesIgnored metric
    assert result["ignored"] == 1
    assert store.client.scan(TableName=store.table_name)["Items"] == []
    assert emitted(capsys) == {"MessagesIgnored": [1.0]}


def test_stored_and_redelivered_messages_are_counted_as_stored_and_duplicates_dropped(ingest, capsys):
    # GIVEN a message already stored
    deliver(eum.webhook_entry(eum.message("wamid.1")))
    assert emitted(capsys) == {"MessagesStored": [1.0]}
    # WHEN it is redelivered next to a new one
    deliver(eum.webhook_entry(eum.message("wamid.1"), eum.message("wamid.2")))
    # THEN one is stored and one counted as a duplicate dropped
    # (the new one follows the first with no gap: the clock stands still)
    assert emitted(capsys) == {"MessagesStored": [1.0], "DuplicatesDropped": [1.0], "FollowUpGap": [0.0]}


def test_rejected_inputs_are_counted_even_when_the_invocation_fails(ingest, capsys):
    # GIVEN an event with one unreadable record and one message without a timestamp
    bad = eum.message("wamid.bad")
    del bad["timestamp"]
    event = eum.sns_event("nope", eum.sns_message(eum.webhook_entry(eum.message("wamid.ok"), bad)))
    # WHEN delivered (the invocation fails so the DLQ keeps it)
    with pytest.raises(MalformedEvent):
        ingest_module.handler(event, None)
    # THEN both rejections and the stored sibling are counted
    assert emitted(capsys) == {"MessagesStored": [1.0], "InputsRejected": [2.0]}


def test_logs_carry_ids_and_kinds_but_never_bodies_or_full_numbers(ingest, caplog):
    bad = eum.message("wamid.bad", "second secret")
    bad["timestamp"] = "soon"
    with caplog.at_level("INFO"), pytest.raises(MalformedEvent):
        deliver(eum.webhook_entry(eum.message("wamid.1", "my secret text"), bad))
    out = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "wamid.1" in out
    assert "*******1234" in out
    assert "my secret text" not in out
    assert "second secret" not in out
    assert eum.CUSTOMER not in out


def test_handler_builds_itself_from_the_environment_on_first_call(store, monkeypatch, virtual_clock):
    # GIVEN the variables the Pulumi program sets, and no service built yet
    monkeypatch.setenv("RAW_TABLE_NAME", store.table_name)
    monkeypatch.setenv("RETENTION_HOURS", "24")
    monkeypatch.setenv("IGNORE_REACTIONS", "false")
    monkeypatch.setenv("IGNORE_STICKERS", "true")
    monkeypatch.setenv("MAX_WAIT_SECONDS", "60")
    ingest_module.installed.reset()
    try:
        result = deliver(eum.entry("text"))
        assert isinstance(ingest_module.installed.current.store, RawTable)
        assert ingest_module.installed.current.settings.ignore_stickers is True
    finally:
        ingest_module.installed.reset()
    assert result["stored"] == 1


def test_every_log_line_names_the_invocation_and_its_sns_message_never_the_full_number(ingest, store):
    # GIVEN an SNS delivery WHEN Lambda invokes the function with its context
    event = eum.sns_event(eum.sns_message(eum.entry("text")))
    with log_lines() as lines:
        ingest_module.handler(event, LambdaContext())
    # THEN its lines carry the request id and, as correlation id, the SNS message id; the customer only masked
    (stored,) = [line for line in lines if line["message"] == "message stored"]
    assert stored["correlation_id"] == event["Records"][0]["Sns"]["MessageId"]
    assert stored["function_request_id"] == LambdaContext.aws_request_id
    assert stored["customer"] == CONV.masked_customer and eum.CUSTOMER not in json.dumps(lines)


def test_a_username_customer_without_a_phone_number_is_stored_under_the_bsuid_and_logged_masked(ingest, store):
    # GIVEN Meta's username shape: no `from`, the BSUID in `from_user_id` and `contacts[].user_id`
    bsuid = "US.13491208655302741918"
    entry = eum.webhook_entry({"from_user_id": bsuid, "id": "wamid.U1", "timestamp": "1749416383", "type": "text",
                               "text": {"body": "Hi"}})  # fmt: skip
    entry["changes"][0]["value"]["contacts"] = [
        {"profile": {"name": "Sheena", "username": "@sheena"}, "user_id": bsuid}
    ]
    # WHEN delivered
    with log_lines() as lines:
        result = deliver(entry)
    # THEN it is stored pending on the BSUID's conversation (no dead letter), and no line names the full BSUID
    assert result["stored"] == 1
    conversation = Conversation(eum.PHONE_NUMBER_ID, bsuid)
    assert stored_items(store, conversation) == [("wamid.U1", "text")]
    (stored,) = store.unsent_messages(conversation)
    assert stored.message.profile_name == "Sheena (@sheena)" and stored.message.user_id == bsuid
    assert bsuid not in json.dumps(lines)


def _reply(message_id, text, replied_to):
    return {**eum.message(message_id, text), "context": {"from": eum.CUSTOMER, "id": replied_to}}


def _quote_of(store, message_id, conversation=CONV):
    (stored,) = [s for s in store.unsent_messages(conversation) if s.message.message_id == message_id]
    return stored.message.content["context"].get("quote")


def test_a_reply_to_an_earlier_message_is_stored_with_a_short_quote_of_it(ingest, store, virtual_clock):
    deliver(eum.webhook_entry(eum.message("wamid.ORIG", "I like the walnut desk and the oak one, " + "very " * 40)))
    virtual_clock.set(T0 + 30)
    deliver(eum.webhook_entry(_reply("wamid.RE", "actually the walnut one", "wamid.ORIG")))
    quote = _quote_of(store, "wamid.RE")
    assert quote["by"] == "customer" and quote["text"].startswith("I like the walnut desk and the oak one, very")
    assert len(quote["text"]) == 80 and quote["text"].endswith("…")


def test_a_reply_to_what_the_agent_said_is_quoted_from_what_the_relay_kept(ingest, store, virtual_clock):
    store.remember_said(CONV, "wamid.AGENT1", "The walnut desk is 450 EUR", T0, retention_hours=24)
    deliver(eum.webhook_entry(_reply("wamid.RE", "in stock?", "wamid.AGENT1")))
    assert _quote_of(store, "wamid.RE") == {"by": "agent", "text": "The walnut desk is 450 EUR"}


def test_a_reply_whose_original_expired_or_is_unknown_is_stored_without_a_quote(ingest, store, virtual_clock):
    store.remember_said(CONV, "wamid.AGENT1", "old news", T0, retention_hours=1)
    virtual_clock.set(T0 + 2 * 3600)
    deliver(
        eum.webhook_entry(_reply("wamid.RE1", "about that", "wamid.AGENT1"), _reply("wamid.RE2", "?", "wamid.GONE"))
    )
    assert _quote_of(store, "wamid.RE1") is None and _quote_of(store, "wamid.RE2") is None


def test_a_failed_lookup_never_holds_the_reply_back(ingest, store, monkeypatch):
    from whatsapp_buffer.errors import TransientAwsError

    def fail(*args, **kwargs):
        raise TransientAwsError("throttled")

    monkeypatch.setattr(store, "said", fail)
    result = deliver(eum.webhook_entry(_reply("wamid.RE", "hello?", "wamid.X")))
    assert result["stored"] == 1 and _quote_of(store, "wamid.RE") is None


def test_a_revoke_is_stored_with_what_the_deleted_message_said_while_it_is_kept(ingest, store, virtual_clock):
    deliver(eum.webhook_entry(eum.message("wamid.ORIG", "send it to my old address")))
    virtual_clock.set(T0 + 60)
    revoke = {"from": eum.CUSTOMER, "id": "wamid.REV", "timestamp": "1749416443", "type": "revoke",
              "revoke": {"original_message_id": "wamid.ORIG"}}  # fmt: skip
    deliver(eum.webhook_entry(revoke))
    (stored,) = [s for s in store.unsent_messages(CONV) if s.message.message_id == "wamid.REV"]
    assert stored.message.content == {"original_id": "wamid.ORIG", "quote": "send it to my old address"}


NOT_A_MESSAGE_ID = "\U0001f600" * 256
"""256 four-byte characters: kept (cut to 256 characters) as the id a reply names, never a WhatsApp message id, and
as a DynamoDB sort key ("SAID#" + it) 1,029 bytes, over DynamoDB's 1,024."""


@pytest.mark.parametrize(
    "original",
    [
        pytest.param(lambda: _reply("wamid.RE", "see above", NOT_A_MESSAGE_ID), id="reply"),
        pytest.param(
            lambda: {**eum.message("wamid.RE", "x"), "type": "edit", "text": None,
                     "edit": {"original_message_id": NOT_A_MESSAGE_ID, "message": {"text": {"body": "fixed"}}}},
            id="edit",
        ),
        pytest.param(
            lambda: {**eum.message("wamid.RE", "x"), "type": "revoke", "text": None,
                     "revoke": {"original_message_id": NOT_A_MESSAGE_ID}},
            id="revoke",
        ),
    ],
)  # fmt: skip
def test_a_message_naming_an_id_no_whatsapp_message_has_is_stored_unquoted_with_its_siblings(ingest, store, original):
    # GIVEN a table that refuses reads of oversized keys as DynamoDB does, and a reply (edit, revoke) naming an id that
    # is not printable ASCII, beside a later message
    apply_key_size_limits(store.client)
    lookups = []
    store.client.meta.events.register("before-parameter-build.dynamodb", lambda **kw: lookups.append(kw))
    # WHEN both are delivered
    result = deliver(eum.webhook_entry(original(), eum.message("wamid.LATER", "later sibling")))
    # THEN both are stored, the first without a quote, and nothing was looked up for it
    assert result["stored"] == 2
    assert {i for i, _ in stored_items(store)} == {"wamid.RE", "wamid.LATER"}
    (stored,) = [s for s in store.unsent_messages(CONV) if s.message.message_id == "wamid.RE"]
    assert "quote" not in stored.message.content and "quote" not in stored.message.content.get("context", {})
    reads = [kw["params"] for kw in lookups if kw["model"].name in ("GetItem", "Query")]
    assert reads and not [r for r in reads if NOT_A_MESSAGE_ID in json.dumps(r, ensure_ascii=False)]


def test_a_lookup_dynamodb_refuses_as_invalid_leaves_the_reply_unquoted_and_says_why(ingest, store):
    # GIVEN DynamoDB refusing the read of what the bridge said as invalid (ValidationException)
    def refuse(params, **_):
        if params["Key"]["sk"]["S"].startswith("SAID#"):
            raise ClientError(
                {
                    "Error": {"Code": "ValidationException", "Message": "invalid"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "GetItem",
            )

    store.client.meta.events.register("before-parameter-build.dynamodb.GetItem", refuse)
    # WHEN a reply and a later message are delivered
    with log_lines() as lines:
        result = deliver(
            eum.webhook_entry(_reply("wamid.RE", "hello?", "wamid.X"), eum.message("wamid.LATER", "later"))
        )
    # THEN both are stored, the reply unquoted, and a warning names the refusal
    assert result["stored"] == 2 and _quote_of(store, "wamid.RE") is None
    (warning,) = [line for line in lines if line["message"] == "reply original not looked up"]
    assert warning["reason"] == "ReadRefused" and warning["level"] == "WARNING"
