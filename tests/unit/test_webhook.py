"""Parsing End User Messaging Social SNS messages into InboundMessages."""

import json

import pytest

from tests.fixtures import eum
from whatsapp_buffer.errors import MalformedEvent, UnsupportedEvent
from whatsapp_buffer.ingest import webhook as eum_webhook
from whatsapp_buffer.model import KINDS, Conversation

NOW = 1749416400.0


def parse(webhook, **kwargs):
    return eum_webhook.parse_sns_message(eum.sns_message(webhook, **kwargs), received_at=NOW)


def test_verbatim_eum_event_becomes_one_text_message_of_the_conversation():
    # GIVEN the SNS message End User Messaging publishes for a text
    # WHEN it is parsed
    parsed = eum_webhook.parse_sns_message(eum.verbatim_sns_message(), received_at=NOW)
    # THEN it is one message keyed by business number + customer, with the EUM ARN of that number to reply from
    (message,) = parsed.messages
    assert message.conversation == Conversation("106540352242922", "16505551234")
    assert message.message_id == "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUETEXT"
    assert message.kind == "text"
    assert message.content == {"text": "Does it come in another color?"}
    assert message.sent_at == 1749416383.0
    assert message.origination_phone_number_id == eum.PHONE_ARNS[eum.PHONE_NUMBER_ID]
    assert message.profile_name == "Sheena Nelson"
    assert message.received_at == NOW
    assert parsed.rejections == ()


@pytest.mark.parametrize(
    ("fixture", "kind", "expected"),
    [
        ("text", "text", {"text": "Does it come in another color?"}),
        ("image", "image", {"media_id": "1003383421387256", "mime_type": "image/jpeg", "caption": "This one"}),
        ("audio", "audio", {"media_id": "1003383421387257", "mime_type": "audio/mpeg"}),
        ("voice", "voice", {"media_id": "1003383421387258", "mime_type": "audio/ogg; codecs=opus"}),
        ("video", "video", {"media_id": "1003383421387259", "caption": "Unboxing"}),
        (
            "document",
            "document",
            {"media_id": "1003383421387260", "filename": "invoice-0042.pdf", "caption": "Invoice"},
        ),
        ("sticker", "sticker", {"media_id": "1003383421387261", "mime_type": "image/webp", "animated": False}),
        (
            "reaction",
            "reaction",
            {"emoji": "\U0001f44d", "reacted_to": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"},
        ),
        ("location", "location", {"latitude": 37.483307, "longitude": -122.148981, "name": "Meta Headquarters"}),
        ("interactive_button_reply", "interactive", {"title": "Change", "id": "change-button"}),
        ("interactive_list_reply", "interactive", {"title": "Express Shipping", "id": "priority_express"}),
        ("button", "button", {"title": "Unsubscribe from Promos", "payload": "Unsubscribe from Promos"}),
        ("order", "order", {"catalog_id": "194836987003835", "text": "Three of these, please"}),
        ("unsupported", "unsupported", {"original_type": "unsupported", "error": "131051: Message type unknown"}),
    ],
)
def test_every_message_kind_is_kept_with_its_content(fixture, kind, expected):
    # GIVEN a webhook entry of one kind WHEN parsed
    (message,) = parse(eum.entry(fixture)).messages
    # THEN the kind is one the runtime knows and the content carries what the bridge needs
    assert message.kind == kind
    assert kind in KINDS
    assert expected.items() <= message.content.items()


def test_contacts_message_keeps_the_shared_cards():
    (message,) = parse(eum.entry("contacts")).messages
    assert message.kind == "contacts"
    assert message.content["contacts"][0]["name"]["formatted_name"] == "Barbara J. Johnson"


def test_audio_without_voice_flag_stays_audio_and_with_it_becomes_voice():
    audio = eum.message("wamid.A", kind="audio")
    voice = eum.message("wamid.V", kind="voice")
    kinds = [m.kind for m in parse(eum.webhook_entry(audio, voice)).messages]
    assert kinds == ["audio", "voice"]


@pytest.mark.parametrize("original_type", ["system", "poll", "edit", "unknown"])
def test_unknown_types_become_unsupported_naming_the_original_type(original_type):
    raw = {"from": eum.CUSTOMER, "id": "wamid.X", "timestamp": "1749416383", "type": original_type}
    (message,) = parse(eum.webhook_entry(raw)).messages
    assert message.kind == "unsupported"
    assert message.content["original_type"] == original_type


def test_flow_reply_is_kept_as_interactive_with_a_readable_title():
    raw = {
        "from": eum.CUSTOMER,
        "id": "wamid.F",
        "timestamp": "1749416383",
        "type": "interactive",
        "interactive": {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}},
    }
    (message,) = parse(eum.webhook_entry(raw)).messages
    assert message.kind == "interactive"
    assert message.content["title"] == "Sent"
    assert message.content["interactive_type"] == "nfm_reply"


def test_statuses_only_entry_yields_no_message_and_no_error():
    parsed = parse(eum.entry("statuses_only"))
    assert parsed.messages == ()
    assert parsed.rejections == ()
    assert parsed.statuses == 1


def test_changes_of_other_fields_are_skipped():
    webhook = eum.webhook_entry(eum.message("wamid.1"))
    webhook["changes"].insert(0, {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}})
    parsed = parse(webhook)
    assert [m.message_id for m in parsed.messages] == ["wamid.1"]
    assert parsed.event.skipped_fields == ("account_update",)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [("1749416383", 1749416383.0), ("1749416383.25", 1749416383.25), (1749416383, 1749416383.0)],
)
def test_timestamp_accepts_integer_and_decimal_epoch_seconds(timestamp, expected):
    raw = eum.message("wamid.1")
    raw["timestamp"] = timestamp
    (message,) = parse(eum.webhook_entry(raw)).messages
    assert message.sent_at == expected


def test_one_entry_with_several_messages_yields_them_all_with_their_profile_names():
    webhook = eum.webhook_entry(eum.message("wamid.1", "a"), eum.message("wamid.2", "b", customer="447700900123"))
    parsed = parse(webhook, phone_number_id=eum.PHONE_NUMBER_ID)
    assert [(m.message_id, m.conversation.customer, m.profile_name) for m in parsed.messages] == [
        ("wamid.1", eum.CUSTOMER, "Sheena Nelson"),
        ("wamid.2", "447700900123", "Sheena Nelson"),
    ]


def test_each_message_keeps_its_place_in_the_webhook_across_changes_rejected_ones_counted():
    # GIVEN one webhook: a change with three messages (the middle one bad) and a second change with one more
    bad = eum.message("wamid.Bad")
    bad.pop("timestamp")
    webhook = eum.webhook_entry(eum.message("wamid.Z"), bad, eum.message("wamid.Y"))
    second = json.loads(json.dumps(webhook["changes"][0]))
    second["value"]["messages"] = [eum.message("wamid.A")]
    webhook["changes"].append(second)
    # WHEN parsed
    parsed = parse(webhook)
    # THEN each message carries its place among the webhook's messages (what orders messages of one second)
    assert [(m.message_id, m.webhook_index, m.received_at) for m in parsed.messages] == [
        ("wamid.Z", 0, NOW),
        ("wamid.Y", 2, NOW),
        ("wamid.A", 3, NOW),
    ]
    assert [m.message_id for m in sorted(parsed.messages, key=lambda m: m.order_key)] == [
        "wamid.Z",
        "wamid.Y",
        "wamid.A",
    ]


def test_a_business_number_missing_from_the_context_is_rejected_with_a_reason():
    # Nothing could reply from or fetch media for a number End User Messaging did not name (tests/corpus/README.md).
    parsed = eum_webhook.parse_sns_message(
        eum.sns_message(eum.webhook_entry(eum.message("wamid.1")), phone_number_id="999"), received_at=NOW
    )
    assert parsed.messages == ()
    assert "not among the event's context.MetaPhoneNumberIds" in parsed.rejections[0].reason


@pytest.mark.parametrize(
    ("body", "error", "fragment"),
    [
        ("{not json", MalformedEvent, "not JSON"),
        ("", MalformedEvent, "not JSON"),
        (json.dumps({"context": {}}), MalformedEvent, "no whatsAppWebhookEntry"),
        (
            json.dumps({"context": {}, "whatsAppWebhookEntry": "{oops"}),
            MalformedEvent,
            "whatsAppWebhookEntry is not JSON",
        ),
        # Python's docs, "Integer string conversion length limitation": int() (which json uses for integer literals)
        # raises ValueError past sys.get_int_max_str_digits() digits, 4300 by default; a plain ValueError, not the
        # JSONDecodeError the other bad bodies raise.
        ('{"context": ' + "9" * 5000 + "}", MalformedEvent, r"SNS message is not JSON the bridge can read \(Exceeds"),
        (
            json.dumps({"context": {}, "whatsAppWebhookEntry": '{"id": ' + "9" * 5000 + "}"}),
            MalformedEvent,
            "whatsAppWebhookEntry is not JSON the bridge can read",
        ),
        (json.dumps({"context": {}, "whatsAppWebhookEntry": {"id": "1"}}), MalformedEvent, "not a JSON string"),
        (json.dumps({"context": {}, "whatsAppWebhookEntry": "[1]"}), MalformedEvent, "not an object"),
        (
            json.dumps({"context": {}, "whatsAppWebhookEntry": '{"changes": 3}'}),
            MalformedEvent,
            "changes is not a list",
        ),
        (json.dumps({"context": "x", "whatsAppWebhookEntry": "{}"}), MalformedEvent, "context is not an object"),
        (json.dumps({"Type": "Notification", "hello": "world"}), UnsupportedEvent, "not an End User Messaging"),
        (json.dumps([1, 2, 3]), UnsupportedEvent, "not an End User Messaging"),
    ],
)
def test_unusable_envelopes_raise_a_typed_error_that_says_what_is_wrong(body, error, fragment):
    with pytest.raises(error, match=fragment):
        eum_webhook.parse_sns_message(body, received_at=NOW)


def test_non_eum_json_is_unsupported_which_is_still_a_malformed_event():
    with pytest.raises(MalformedEvent):
        eum_webhook.parse_sns_message(json.dumps({"foo": 1}), received_at=NOW)


def test_entry_with_messages_but_no_phone_number_id_is_malformed():
    webhook = eum.webhook_entry(eum.message("wamid.1"))
    del webhook["changes"][0]["value"]["metadata"]
    with pytest.raises(MalformedEvent, match="phone_number_id"):
        parse(webhook, phone_number_id=eum.PHONE_NUMBER_ID)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda m: m.pop("id"), "no id"),
        (lambda m: m.pop("from"), "neither from nor from_user_id"),
        (lambda m: m.pop("timestamp"), "no timestamp"),
        (lambda m: m.pop("type"), "no type"),
        (lambda m: m.update(id=42), "id is not a non-empty string"),
        (lambda m: m.update({"from": ["x"]}), "from is not a non-empty string"),
        (lambda m: m.update(timestamp="yesterday"), "not epoch seconds"),
        (lambda m: m.update(timestamp=True), "boolean"),
        (lambda m: m.update(timestamp="-5"), "not epoch seconds"),
        (lambda m: m.update(timestamp=10**400), "timestamp is out of range"),
        (lambda m: m.update(text="hi"), "no text object"),
        (lambda m: m.update(text={"body": 5}), "text.body"),
    ],
)
def test_a_bad_message_is_rejected_while_its_valid_sibling_is_kept(mutate, fragment):
    # GIVEN an entry with one good and one bad message
    bad = eum.message("wamid.bad", "secret body text", customer="447700900999")
    mutate(bad)
    parsed = parse(eum.webhook_entry(eum.message("wamid.good"), bad))
    # THEN the good one is parsed and the bad one is named with what is wrong, without its body or the full number
    assert [m.message_id for m in parsed.messages] == ["wamid.good"]
    (rejection,) = parsed.rejections
    assert fragment in rejection.reason
    summary = parsed.rejection_summary()
    assert "secret body text" not in summary
    assert "447700900999" not in summary


@pytest.mark.parametrize(
    ("kind", "mutate", "fragment"),
    [
        ("image", lambda m: m["image"].pop("id"), "no media id"),
        ("location", lambda m: m["location"].update(latitude="north"), "latitude"),
        ("location", lambda m: m["location"].update(latitude=10**400), "latitude is out of range"),
        ("location", lambda m: m["location"].update(longitude=-(10**400)), "longitude is out of range"),
        ("interactive_button_reply", lambda m: m["interactive"].update(type="list_reply"), "reply object"),
        ("contacts", lambda m: m.update(contacts={"a": 1}), "contacts list"),
    ],
)
def test_kind_specific_fields_are_checked(kind, mutate, fragment):
    raw = eum.message("wamid.1", kind=kind)
    mutate(raw)
    parsed = parse(eum.webhook_entry(raw))
    assert parsed.messages == ()
    assert fragment in parsed.rejections[0].reason


def test_lone_surrogates_and_control_characters_do_not_crash_and_are_replaced():
    # GIVEN a text whose JSON carries a lone UTF-16 surrogate, a NUL and a bell, next to a real emoji pair
    webhook_json = json.dumps(eum.webhook_entry(eum.message("wamid.1", "X"))).replace(
        '"body": "X"', '"body": "a\\ud800b\\u0000c\\u0007d\\ud83d\\ude00\\n\\te"'
    )
    # WHEN parsed
    (message,) = eum_webhook.parse_sns_message(
        eum.sns_message(webhook_json, eum.PHONE_NUMBER_ID), received_at=NOW
    ).messages
    # THEN what cannot be encoded or shown is replaced, the emoji and ordinary whitespace are kept
    assert message.content["text"] == "a\ufffdb\ufffdc\ufffdd\U0001f600\n\te"
    message.content["text"].encode("utf-8")


def test_error_for_a_broken_envelope_does_not_quote_the_body():
    with pytest.raises(MalformedEvent) as raised:
        eum_webhook.parse_sns_message('{"whatsAppWebhookEntry": "{\\"secret\\": 15550001111', received_at=NOW)
    assert "15550001111" not in str(raised.value)
    assert "secret" not in str(raised.value)


def test_a_system_message_without_its_system_object_stays_unsupported():
    # GIVEN a `system` message as older tests model it (no `system` object) WHEN parsed
    raw = {"from": eum.CUSTOMER, "id": "wamid.S", "timestamp": "1749416383", "type": "system", "system": "moved"}
    (message,) = parse(eum.webhook_entry(raw)).messages
    # THEN it is still shown as a type the chat cannot show
    assert (message.kind, message.content) == ("unsupported", {"original_type": "system"})


@pytest.mark.parametrize(
    ("context", "kept"),
    [
        ("not an object", None),
        ({"forwarded": "yes", "frequently_forwarded": 1}, None),
        ({"id": 42, "referred_product": "sku"}, None),
        ({"referred_product": {"product_retailer_id": 7}}, {"referred_product": {"product_retailer_id": "7"}}),
        ({"message_id": "wamid.OLD"}, {"id": "wamid.OLD"}),
    ],
)
def test_a_context_of_the_wrong_shape_keeps_only_what_is_well_formed(context, kept):
    raw = eum.message("wamid.C", "hi")
    raw["context"] = context
    (message,) = parse(eum.webhook_entry(raw)).messages
    assert message.content.get("context") == kept
    assert message.content["text"] == "hi"


def test_ad_fields_are_clipped_and_cleaned_and_unknown_ones_dropped():
    raw = eum.message("wamid.R", "hi")
    raw["referral"] = {"headline": "x" * 10_000, "body": "bell\x07", "source_url": ["no"], "tracking": "secret"}
    (message,) = parse(eum.webhook_entry(raw)).messages
    referral = message.content["referral"]
    assert len(referral["headline"]) == 2000
    assert referral["body"] == "bell\ufffd"
    assert set(referral) == {"headline", "body"}


@pytest.mark.parametrize(
    ("response_json", "expected"),
    [
        ("not json {", {"response_text": "not json {"}),
        ('["a", "b"]', {"response_text": '["a", "b"]'}),
        ({"flow_token": "t", "answer": "42"}, {"response": {"answer": "42"}}),
    ],
)
def test_a_flow_response_that_is_not_a_json_object_string_is_still_kept(response_json, expected):
    raw = {
        "from": eum.CUSTOMER,
        "id": "wamid.F",
        "timestamp": "1749416383",
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": response_json},
        },
    }
    (message,) = parse(eum.webhook_entry(raw)).messages
    assert expected.items() <= message.content.items()
    assert "response_json" not in message.content["reply"]


def test_a_flow_response_nested_too_deep_is_rejected_with_a_reason():
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["a"] = {}
        node = node["a"]
    raw = {
        "from": eum.CUSTOMER,
        "id": "wamid.D",
        "timestamp": "1749416383",
        "type": "interactive",
        "interactive": {"type": "nfm_reply", "nfm_reply": {"name": "flow", "response_json": json.dumps(deep)}},
    }
    parsed = parse(eum.webhook_entry(raw))
    assert parsed.messages == ()
    assert "nested deeper" in parsed.rejections[0].reason


def test_a_text_with_a_huge_context_is_size_checked_like_other_content():
    raw = eum.message("wamid.H", "hi")
    raw["referral"] = {key: "y" * 2000 for key in ("headline", "body", "source_url", "source_id", "ctwa_clid")}
    (message,) = parse(eum.webhook_entry(raw)).messages
    assert len(json.dumps(message.content)) < eum_webhook.MAX_CONTENT_BYTES


def test_noncharacters_sqs_refuses_are_replaced_in_texts_and_names():
    # GIVEN a text and a profile name holding U+FFFE and U+FFFF (valid JSON and UTF-8, outside the characters an SQS
    # body may hold: "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF", botocore sqs
    # SendMessage), next to the last allowed character of the plane and a supplementary one
    webhook = eum.webhook_entry(eum.message("wamid.1", "a\ufffeb\uffffc\ufffdd\U0010ffff"), profile_name="Ana\uffff")
    # WHEN parsed
    (message,) = parse(webhook).messages
    # THEN each is replaced as a control character is, the allowed ones kept
    assert message.content["text"] == "a\ufffdb\ufffdc\ufffdd\U0010ffff"
    assert message.profile_name == "Ana\ufffd"


def _failed(**fields):
    status = {"id": "wamid.sent1", "status": "failed", "timestamp": "1749416383", "recipient_id": eum.CUSTOMER}
    status.update(fields)
    (failed,) = parse(eum.webhook_entry(statuses=[status])).failed
    return failed


def test_a_failed_statuss_words_are_cleaned_like_a_messages():
    # GIVEN a failed status whose error title and details hold a lone surrogate, a NUL and U+FFFF
    error = {"code": 131026, "title": "Message\ud800 undeliverable\uffff", "error_data": {"details": "x\x00y\ufffez"}}
    # WHEN parsed
    failed = _failed(errors=[error])
    # THEN what cannot travel on is replaced, so the refusal item and the agent's notice can be written
    assert (failed.title, failed.details) == ("Message\ufffd undeliverable\ufffd", "x\ufffdy\ufffdz")
    failed.title.encode("utf-8")


@pytest.mark.parametrize(
    ("fields", "recipients"),
    [
        ({"recipient_id": "1555\ud8000001234"}, None),
        ({"recipient_id": "1555\uffff0001234"}, None),
        ({"recipient_id": "not an id"}, None),
        ({"recipient_id": "15550001234", "recipient_user_id": "US.\uffff"}, ("15550001234",)),
        ({"recipient_id": None, "recipient_user_id": "US.13491208655302741918"}, ("US.13491208655302741918",)),
    ],
)
def test_a_failed_statuss_recipients_are_kept_only_in_a_senders_shape(fields, recipients):
    # GIVEN a failed status whose recipient is, or is not, shaped as a WhatsApp number or BSUID a sender may have
    status = {"id": "wamid.sent1", "status": "failed", "timestamp": "1749416383", **fields}
    # WHEN parsed
    failed = parse(eum.webhook_entry(statuses=[status])).failed
    # THEN only such recipients are looked up (a partition key), and a status naming none is dropped
    assert (failed[0].recipients if failed else None) == recipients
