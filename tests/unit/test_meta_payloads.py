"""Meta's documented webhook payloads, end to end through ingest, merge and render: what the agent reads for each.

Each payload below is quoted from its source (the URL, and the JSON as the source shows it, with the placeholders
filled from the example values of the same page's parameter table). Where sources disagree, each shape has a test.
"""

import json

import pytest

from tests.fixtures import eum
from whatsapp_buffer import render
from whatsapp_buffer.aggregator.merge import build_burst
from whatsapp_buffer.ingest import webhook
from whatsapp_buffer.model import MEDIA_KINDS, TEXT, InboundMessage

NOW = 1749416400.0
BASE = {"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
        "timestamp": "1739321024"}  # fmt: skip


def parse(*messages: dict) -> tuple[InboundMessage, ...]:
    parsed = webhook.parse_sns_message(eum.sns_message(eum.webhook_entry(*messages)), received_at=NOW)
    assert parsed.rejections == ()
    return parsed.messages


def agent_sees(*messages: InboundMessage) -> list[str]:
    """The chat lines the inbound bridge sends for these messages (as inbound/send_burst.py builds its parts)."""
    lines: list[str] = []
    for item in build_burst(list(messages), now=NOW).items:
        if item.kind == TEXT:
            lines.append(item.text or "")
        elif item.kind in MEDIA_KINDS:
            lines.append(f"<attachment {item.kind}>")
            if item.content.get("caption"):
                lines.append(render.clip(item.content["caption"]))
        else:
            lines.append(render.item_text(item.kind, item.content))
    return lines


# --- Text messages webhook reference -------------------------------------------------------------------------------
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/text/
# ("Updated: Oct 27, 2025"; read through its public copies at
# https://support.chatarchitect.com/books/meta-whatsapp/page/text-messages-webhook-reference-developer-documentation
# and arrahmah.netlify.app/host-https-developers.facebook.com/...). The syntax, trimmed to `messages[]`:
#
#   "messages": [{ "from": "<WHATSAPP_USER_PHONE_NUMBER>", "id": "<WHATSAPP_MESSAGE_ID>",
#     "timestamp": "<WEBHOOK_TRIGGER_TIMESTAMP>", "type": "text", "text": { "body": "<MESSAGE_TEXT_BODY>" },
#     <!-- only if message originated from a "Message business" button -->
#     "context": { "from": "<BUSINESS_DISPLAY_PHONE_NUMBER>", "id": "<CONTEXTUAL_WHATSAPP_MESSAGE_ID>",
#                  "referred_product": { "catalog_id": "<PRODUCT_CATALOG_ID>", "product_retailer_id": "<PRODUCT_ID>" } },
#     <!-- only if message forwarded to business by a user -->
#     "context": { "forwarded": true, <!-- only included if forwarded 5 times or less -->
#                  "frequently_forwarded": true <!-- only included if forwarded more than 5 times --> },
#     <!-- only included if message sent via a Click to WhatsApp ad -->
#     "referral": { "source_url": "<AD_URL>", "source_id": "<AD_ID>", "source_type": "ad",
#       "body": "<AD_PRIMARY_TEXT>", "headline": "<AD_HEADLINE>", "media_type": "<AD_MEDIA_TYPE>",
#       "image_url": "<AD_IMAGE_URL>", "video_url": "<AD_VIDEO_URL>", "thumbnail_url": "<AD_VIDEO_THUMBNAIL>",
#       "ctwa_clid": "<AD_CLICK_ID>", <!-- omitted if message sent via a WhatsApp Status ad placement -->
#       "welcome_message": { "text": "<AD_GREETING_TEXT>" } } }]
#
# <AD_CLICK_ID> example value: "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0N".
# A reply to an earlier message carries `context.from` + `context.id` alone (the same `context` object without
# `referred_product`; Meta's Flows page below shows exactly that shape on a reply).

TEXT_BODY = {"type": "text", "text": {"body": "Is this in stock?"}}
REFERRAL = {
    "source_url": "https://fb.me/2ZulEu42P",
    "source_id": "120226305854810726",
    "source_type": "ad",
    "body": "Walnut desks, made to order",
    "headline": "Spring sale: 20% off",
    "media_type": "image",
    "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad.jpg",
    "ctwa_clid": "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0N",
    "welcome_message": {"text": "Hi! How can we help?"},
}


def test_forwarded_and_frequently_forwarded_texts_are_marked():
    forwarded = {**BASE, **TEXT_BODY, "context": {"forwarded": True}}
    frequently = {**BASE, **TEXT_BODY, "id": "wamid.F2", "context": {"frequently_forwarded": True}}
    first, second = parse(forwarded, frequently)
    assert first.content == {"text": "Is this in stock?", "context": {"forwarded": True}}
    assert agent_sees(first) == ["[Forwarded]\nIs this in stock?"]
    assert agent_sees(second) == ["[Forwarded many times]\nIs this in stock?"]


def test_a_message_business_button_names_the_referred_product():
    raw = {
        **BASE,
        **TEXT_BODY,
        "context": {
            "from": "15550783881",
            "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
            "referred_product": {"catalog_id": "194836987003835", "product_retailer_id": "di9ozbzfi4"},
        },
    }
    (message,) = parse(raw)
    assert message.content["context"]["referred_product"] == {
        "catalog_id": "194836987003835",
        "product_retailer_id": "di9ozbzfi4",
    }
    # The business's own number (`context.from`) is not kept: nothing needs it.
    assert "from" not in message.content["context"]
    assert agent_sees(message) == ["[About the product 'di9ozbzfi4' of catalog 194836987003835]\nIs this in stock?"]


def test_a_reply_says_it_replies_to_an_earlier_message_and_keeps_the_id():
    raw = {**BASE, "type": "text", "text": {"body": "actually the walnut one"},
           "context": {"from": "16505551234", "id": "wamid.EARLIER"}}  # fmt: skip
    (message,) = parse(raw)
    assert message.content["context"] == {"id": "wamid.EARLIER"}
    assert agent_sees(message) == ["[Replying to an earlier message]\nactually the walnut one"]


@pytest.mark.parametrize(
    ("quote", "line"),
    [
        (
            {"by": "agent", "text": "The walnut desk is 450 EUR"},
            '[Replying to the agent\'s message: "The walnut desk is 450 EUR"]',
        ),
        (
            {"by": "customer", "text": "I like the walnut one"},
            '[Replying to their earlier message: "I like the walnut one"]',
        ),
        ({"by": "customer", "text": "x" * 500}, '[Replying to their earlier message: "' + "x" * 79 + '…"]'),
    ],
)
def test_a_reply_whose_original_is_known_shows_a_short_quote_of_it(quote, line):
    raw = {**BASE, "type": "text", "text": {"body": "actually the walnut one"},
           "context": {"from": "16505551234", "id": "wamid.EARLIER"}}  # fmt: skip
    (message,) = parse(raw)
    quoted = InboundMessage(
        **{**message.__dict__, "content": {**message.content, "context": {"id": "wamid.EARLIER", "quote": quote}}}
    )
    assert agent_sees(quoted) == [f"{line}\nactually the walnut one"]


def test_a_quote_of_a_media_message_is_its_caption_or_what_it_was():
    assert render.quoted_text("image", {"caption": "the  walnut\n desk"}) == "the walnut desk"
    assert render.quoted_text("voice", {}) == "a voice note"
    assert render.quoted_text("location", {"latitude": 1}) == "a location message"


def test_a_click_to_whatsapp_ad_is_kept_and_named_before_the_message():
    (message,) = parse({**BASE, **TEXT_BODY, "referral": REFERRAL})
    assert message.content["referral"] == {
        "headline": "Spring sale: 20% off",
        "body": "Walnut desks, made to order",
        "source_url": "https://fb.me/2ZulEu42P",
        "source_type": "ad",
        "source_id": "120226305854810726",
        "ctwa_clid": "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0N",
        "media_type": "image",
    }
    assert agent_sees(message) == [
        '[The customer came from an ad: "Spring sale: 20% off" https://fb.me/2ZulEu42P]\nIs this in stock?'
    ]


def test_a_status_ad_without_click_id_or_headline_is_still_named():
    # "The ctwa_clid property is omitted entirely for messages originating from an ad in WhatsApp Status".
    referral = {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120226305854810727", "source_type": "ad",
                "body": "Walnut desks, made to order"}  # fmt: skip
    (message,) = parse({**BASE, **TEXT_BODY, "referral": referral})
    assert "ctwa_clid" not in message.content["referral"]
    assert agent_sees(message)[0].startswith(
        '[The customer came from an ad: "Walnut desks, made to order" https://fb.me/3cr4Wqqkv]'
    )


def test_an_image_from_an_ad_carries_the_ad_line_in_its_caption_with_the_file():
    # Image messages webhook reference (same site, .../messages/image/) documents the same `referral` object.
    image = eum.message("wamid.IMG", kind="image")
    image["referral"] = REFERRAL
    (message,) = parse(image)
    assert agent_sees(message) == [
        "<attachment image>",
        '[The customer came from an ad: "Spring sale: 20% off" https://fb.me/2ZulEu42P]\nThis one',
    ]


def test_the_preface_stays_with_its_message_inside_a_merged_burst():
    first = {**BASE, "type": "text", "text": {"body": "hello"}, "id": "wamid.1"}
    second = {**BASE, "type": "text", "text": {"body": "look at this"}, "id": "wamid.2", "timestamp": "1739321025",
              "context": {"forwarded": True}}  # fmt: skip
    messages = parse(first, second)
    (text,) = build_burst(list(messages), now=NOW).items
    assert text.text == "hello\n[Forwarded]\nlook at this"
    assert text.message_ids == ("wamid.1", "wamid.2")


# --- WhatsApp Flows: Response Message Webhook ----------------------------------------------------------------------
# https://developers.facebook.com/docs/whatsapp/flows/reference/responsemsgwebhook (read at
# developers.secure.facebook.com/docs/whatsapp/flows/reference/responsemsgwebhook):
#
#   { "messages": [{ "context": { "from": "16315558151", "id": "gBGGEiRVVgBPAgm7FUgc73noXjo" },
#       "from": "<USER_ACCOUNT_NUMBER>", "id": "<MESSAGE_ID>", "type": "interactive",
#       "interactive": { "type": "nfm_reply", "nfm_reply": { "name": "flow", "body": "Sent",
#         "response_json": "{\"flow_token\": \"<FLOW_TOKEN>\", \"optional_param1\": \"<value1>\",
#                            \"optional_param2\": \"<value2>\"}" } },
#       "timestamp": "<MESSAGE_SEND_TIMESTAMP>" }] }
#
# "response_json: Flow-specific data. The structure is either defined in flow JSON (see Complete action) or, if flow
# is using an endpoint, controlled by endpoint". So any JSON object may come: the docs show no nested example, the
# nested case below is ours.


def _flow(response_json: str) -> dict:
    return {
        **BASE,
        "context": {"from": "16315558151", "id": "gBGGEiRVVgBPAgm7FUgc73noXjo"},
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": response_json},
        },
    }


def test_a_flow_response_becomes_field_value_lines_without_the_flow_token():
    raw = _flow('{"flow_token": "FLOW-TOKEN-7", "optional_param1": "value1", "optional_param2": "value2"}')
    (message,) = parse(raw)
    assert message.kind == "interactive"
    assert message.content["response"] == {"optional_param1": "value1", "optional_param2": "value2"}
    assert "FLOW-TOKEN-7" not in json.dumps(message.content)
    # A Flow always answers the business's Flow message: no "replying to an earlier message" line.
    assert agent_sees(message) == ["[Form answers]\noptional_param1: value1\noptional_param2: value2"]


def test_nested_flow_answers_are_flattened():
    answers = {"flow_token": "t", "name": "Ana", "address": {"city": "Lisbon", "zip": "1100"},
               "toppings": ["walnut", "oak"], "newsletter": True, "guests": [{"name": "Bo"}, {"name": "Cy"}]}  # fmt: skip
    (message,) = parse(_flow(json.dumps(answers)))
    assert agent_sees(message) == [
        "[Form answers]\nname: Ana\naddress.city: Lisbon\naddress.zip: 1100\ntoppings: walnut, oak\n"
        "newsletter: yes\nguests.1.name: Bo\nguests.2.name: Cy"
    ]


# --- Unsupported messages webhook reference ------------------------------------------------------------------------
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/unsupported/
# ("Updated: Mar 20, 2026"; read at support.chatarchitect.com/books/meta-whatsapp/page/
# unsupported-messages-webhook-reference-developer-documentation):
#
#   "messages": [{ "from": "<WHATSAPP_USER_PHONE_NUMBER>", "id": "<WHATSAPP_MESSAGE_ID>",
#     "timestamp": "<WEBHOOK_TRIGGER_TIMESTAMP>",
#     "errors": [{ "code": <ERROR_CODE>, "title": "<ERROR_TITLE>", "message": "<ERROR_MESSAGE>",
#                  "error_data": { "details": "<ERROR_DETAILS>" } }],
#     "type": "unsupported", "unsupported": { "type": <UNSUPPORTED_TYPE> } }]
#
# Example values: 131051, "Message type unknown", "Message type is currently not supported.", "poll_update";
# 131060 "This message is currently unavailable." (a user's first message to a coexistence number). Older payloads
# (tests/fixtures/eum/entries/unsupported.json) have no `unsupported` object: both are read.


@pytest.mark.parametrize(
    ("code", "title", "details", "unsupported_type", "expected"),
    [
        (131051, "Message type unknown", "Message type is currently not supported.", "poll_update",
         "[The customer sent a message of type 'poll_update' that this chat cannot show. WhatsApp says: "
         "Message type unknown. Message type is currently not supported.]"),
        (131060, "This message is currently unavailable.", "This message is currently unavailable.", "errors",
         "[The customer sent a message of type 'errors' that this chat cannot show. WhatsApp says: "
         "This message is currently unavailable.]"),
    ],
)  # fmt: skip
def test_an_unsupported_message_shows_what_whatsapp_says_about_it(code, title, details, unsupported_type, expected):
    raw = {**BASE, "errors": [{"code": code, "title": title, "message": title, "error_data": {"details": details}}],
           "type": "unsupported", "unsupported": {"type": unsupported_type}}  # fmt: skip
    (message,) = parse(raw)
    assert message.content["original_type"] == unsupported_type
    assert message.content["error"] == f"{code}: {title}"
    assert agent_sees(message) == [expected]


def test_an_old_style_unsupported_message_still_shows_the_error_title():
    (message,) = parse(eum.message("wamid.U", kind="unsupported"))
    assert agent_sees(message) == [
        "[The customer sent a message of type 'unsupported' that this chat cannot show. WhatsApp says: "
        "Message type unknown. Message type is currently not supported.]"
    ]


# A message that names its type but carries no object of it, with WhatsApp's own error, is WhatsApp saying it could
# not pass the content on: Meta's unsupported reference above shows `errors` inside the message; its errors reference
# (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/errors,
# "Updated: Oct 22, 2025") shows them beside `metadata` instead:
#
#   "value": { "messaging_product": "whatsapp", "metadata": {...},
#     "errors": [{ "code": 130429, "title": "Rate limit hit", "message": "Rate limit hit",
#                  "error_data": { "details": "Message failed to send because there were too many messages ..." },
#                  "href": "/documentation/business-messaging/whatsapp/support/error-codes" }] }
#
# Neither page shows a `messages[]` element without its type object; both places are read. Without any error the
# message stays malformed (dead-lettered with its reason), as before.
_ERROR = {"code": 131052, "title": "Media download error", "message": "Media download error",
          "error_data": {"details": "Unable to download the media sent by the user."}}  # fmt: skip


def test_a_message_without_its_type_object_but_with_whatsapps_error_reaches_the_agent_as_unsupported():
    (message,) = parse({**BASE, "type": "image", "errors": [_ERROR]})
    assert message.kind == "unsupported"
    assert message.content == {"original_type": "image", "error": "131052: Media download error",
                               "error_details": "Unable to download the media sent by the user."}  # fmt: skip
    assert agent_sees(message) == [
        "[The customer sent a message of type 'image' that this chat cannot show. WhatsApp says: "
        "Media download error. Unable to download the media sent by the user.]"
    ]


def test_an_error_beside_the_message_at_value_errors_explains_a_message_without_its_type_object():
    entry = eum.webhook_entry({**BASE, "type": "image"})
    entry["changes"][0]["value"]["errors"] = [_ERROR]
    parsed = webhook.parse_sns_message(eum.sns_message(entry), received_at=NOW)
    assert parsed.rejections == ()
    (message,) = parsed.messages
    assert (message.kind, message.content["original_type"]) == ("unsupported", "image")
    assert message.content["error"] == "131052: Media download error"


def test_a_message_with_an_error_and_no_type_at_all_is_shown_as_of_unknown_type():
    (message,) = parse({**BASE, "errors": [_ERROR]})
    assert (message.kind, message.content["original_type"]) == ("unsupported", "unknown")


def test_a_message_without_its_type_object_and_without_an_error_is_still_rejected_as_malformed():
    parsed = webhook.parse_sns_message(eum.sns_message(eum.webhook_entry({**BASE, "type": "image"})), received_at=NOW)
    assert parsed.messages == ()
    assert [r.reason for r in parsed.rejections] == ["image message has no image object"]


# --- System messages webhook reference -----------------------------------------------------------------------------
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/system/
# ("Updated: Oct 22, 2025"; read at lobakmerak.netlify.app/host-https-developers.facebook.com/...):
#
#   "messages": [{ "from": "<WHATSAPP_USER_PHONE_NUMBER>", "id": "<WHATSAPP_MESSAGE_ID>",
#     "timestamp": "<WEBHOOK_TRIGGER_TIMESTAMP>", "type": "system",
#     "system": { "body": "User <WHATSAPP_USER_PROFILE_NAME> changed from <WHATSAPP_USER_PHONE_NUMBER> to
#                          <NEW_WHATSAPP_USER_PHONE_NUMBER>",
#                 "wa_id": "<NEW_WHATSAPP_USER_ID>", "type": "user_changed_number" } }]
#
# Example values: 16505551234 (old), 12195555358 (new), "Sheena Nelson". "System messages webhooks don't include a
# contacts array."
# A real payload in a public repository adds the old id as `customer` (netflie/whatsapp-cloud-api,
# tests/Unit/WebHook/NotificationFactoryTest.php):
#   "system": { "body": "NAME changed from PHONE_NUMBER to PHONE_NUMBER", "wa_id": "NEW_PHONE_NUMBER_ID",
#               "type": "user_changed_number", "customer": "OLD_PHONE_NUMBER_ID" }
# The older reference (webhooks v11.0 and earlier, as quoted in public client libraries) names the new id `new_wa_id`
# and the type `customer_changed_number`, and has `customer_identity_changed` (with `identity`). All are read.


def _system(system: dict) -> dict:
    return {**BASE, "type": "system", "system": system}


@pytest.mark.parametrize(
    "system",
    [
        {"body": "User Sheena Nelson changed from 16505551234 to 12195555358", "wa_id": "12195555358",
         "type": "user_changed_number"},
        {"body": "User Sheena Nelson changed from 16505551234 to 12195555358", "wa_id": "12195555358",
         "type": "user_changed_number", "customer": "16505551234"},
        {"body": "User Sheena Nelson changed from 16505551234 to 12195555358", "new_wa_id": "12195555358",
         "type": "customer_changed_number", "customer": "16505551234"},
    ],
)  # fmt: skip
def test_a_number_change_tells_the_agent_without_the_full_numbers(system):
    # System webhooks carry no contacts array: the message still parses (no profile name).
    entry = eum.webhook_entry(_system(system))
    del entry["changes"][0]["value"]["contacts"]
    parsed = webhook.parse_sns_message(eum.sns_message(entry), received_at=NOW)
    (message,) = parsed.messages
    assert message.kind == "system"
    assert message.content["new_wa_id"] == "12195555358"
    assert message.conversation.customer == "12195555358"  # with the new number's messages, in their order
    assert "12195555358" not in message.content["body"] and "16505551234" not in message.content["body"]
    (line,) = agent_sees(message)
    assert line == "[WhatsApp notice: the customer changed their phone number from *******1234 to *******5358.]"


def test_an_identity_change_is_named():
    (message,) = parse(_system({"body": "Sheena Nelson's security code changed", "identity": "acdc",
                                "type": "customer_identity_changed", "customer": "16505551234"}))  # fmt: skip
    assert agent_sees(message) == ["[WhatsApp notice: the customer's WhatsApp identity (security code) changed.]"]


def test_another_system_notice_is_shown_with_its_numbers_masked():
    (message,) = parse(_system({"body": "User moved from +1 650-555-1234 to a username", "type": "something_new"}))
    assert agent_sees(message) == ["[WhatsApp notice (something_new): User moved from +* ***-***-1234 to a username]"]


# --- Usernames and business-scoped user ids (BSUID) ----------------------------------------------------------------
# https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/ ("Updated: Mar
# 31, 2026"; "Any changes described in this document are subject to change"): "BSUID will be assigned to the user_id
# parameter and appear in all messages webhooks, regardless of whether or not the user has enabled the username
# feature" (example `US.13491208655302741918`). Every messages webhook reference now shows the contact as
# (.../webhooks/reference/messages/order.md):
#
#   "contacts": [{ "profile": { "name": "<WHATSAPP_USER_PROFILE_NAME>",
#                               "username": "<USERNAME>" <!-- only included if user has adopted a username --> },
#                  "wa_id": "<WHATSAPP_USER_ID>", <!-- omitted if user's phone number is unavailable -->
#                  "user_id": "<BSUID>",
#                  "parent_user_id": "<PARENT_BSUID>" <!-- only included if parent BSUIDs enabled --> }],
#   "messages": [{ "from": "<WHATSAPP_USER_PHONE_NUMBER>", ... }]
#
# and the message itself carries the BSUID as `from_user_id` — a real webhook from a public repository (2026):
#   "contacts": [{"profile": {"name": "Krish Thakur"}, "wa_id": "919810218674", "user_id": "IN.1410018717833190",
#                 "country_code": "IN"}],
#   "messages": [{"from": "919810218674", "from_user_id": "IN.1410018717833190", "id": "wamid.HBgM…",
#                 "timestamp": "1779372805", "text": {"body": "Hey"}, "from_logical_id": "95000398405635", "type": "text"}]
# Meta's usernames page also shows a message beside `contacts[].user_id` with neither `from` nor `from_user_id`.

BSUID = "US.13491208655302741918"


def _username_entry(message: dict, contact: dict) -> dict:
    entry = eum.webhook_entry(message)
    entry["changes"][0]["value"]["contacts"] = [contact]
    return entry


def _parse_entry(entry: dict) -> webhook.ParsedEvent:
    return webhook.parse_sns_message(eum.sns_message(entry), received_at=NOW)


def test_a_username_customer_without_a_phone_number_is_keyed_by_the_bsuid_and_named_with_the_username():
    message = {"from_user_id": BSUID, "id": BASE["id"], "timestamp": BASE["timestamp"], **TEXT_BODY}
    contact = {"profile": {"name": "Sheena Nelson", "username": "@sheena.desks"}, "user_id": BSUID}
    parsed = _parse_entry(_username_entry(message, contact))
    assert parsed.rejections == ()
    (stored,) = parsed.messages
    assert (stored.conversation.customer, stored.user_id) == (BSUID, BSUID)
    assert stored.conversation.by_user_id and stored.conversation.masked_customer == "US.****************1918"
    assert stored.profile_name == "Sheena Nelson (@sheena.desks)"
    assert build_burst([stored], now=NOW).display_name == "Sheena Nelson (@sheena.desks)"


def test_a_message_with_both_the_phone_number_and_the_bsuid_is_keyed_by_the_phone_number_and_keeps_the_bsuid():
    message = {"from": "919810218674", "from_user_id": "IN.1410018717833190", "id": "wamid.HBgMOTE5",
               "timestamp": "1779372805", "text": {"body": "Hey"}, "from_logical_id": "95000398405635", "type": "text"}  # fmt: skip
    contact = {"profile": {"name": "Krish Thakur"}, "wa_id": "919810218674", "user_id": "IN.1410018717833190",
               "country_code": "IN"}  # fmt: skip
    (stored,) = _parse_entry(_username_entry(message, contact)).messages
    assert (stored.conversation.customer, stored.user_id, stored.profile_name) == (
        "919810218674", "IN.1410018717833190", "Krish Thakur"
    )  # fmt: skip
    assert not stored.conversation.by_user_id
    assert build_burst([stored], now=NOW).user_id == "IN.1410018717833190"


def test_a_message_without_from_or_from_user_id_takes_its_only_contacts_bsuid():
    message = {"id": BASE["id"], "timestamp": BASE["timestamp"], **TEXT_BODY}
    contact = {"profile": {"name": "Sheena Nelson", "username": "sheena.desks"}, "user_id": BSUID}
    (stored,) = _parse_entry(_username_entry(message, contact)).messages
    assert stored.conversation.customer == BSUID and stored.profile_name == "Sheena Nelson (@sheena.desks)"


def test_a_parent_bsuid_keys_the_conversation_too():
    parent = "US.ENT.11815799212886844830"
    message = {"from_user_id": parent, "id": BASE["id"], "timestamp": BASE["timestamp"], **TEXT_BODY}
    (stored,) = _parse_entry(_username_entry(message, {"profile": {"name": "A"}, "user_id": parent})).messages
    assert (
        stored.conversation.customer == parent and stored.conversation.masked_customer == "US.ENT.****************4830"
    )


@pytest.mark.parametrize(
    ("identity", "reason"),
    [
        ({}, "message has neither from nor from_user_id"),
        ({"from_user_id": "13491208655302741918"}, "from_user_id is not a business-scoped user id"),
        ({"from_user_id": 1349120865}, "from_user_id is not a business-scoped user id"),
        ({"from_user_id": "US." + "1" * 129}, "from_user_id is not a business-scoped user id"),
        ({"from_user_id": "US.ENT." + "1" * 129}, "from_user_id is not a business-scoped user id"),
        ({"from": "1555.0001111"}, "message from is not a short printable id"),
    ],
)
def test_a_message_no_one_could_answer_is_rejected_with_a_reason_that_names_no_id(identity, reason):
    entry = eum.webhook_entry({"id": BASE["id"], "timestamp": BASE["timestamp"], **identity, **TEXT_BODY})
    entry["changes"][0]["value"].pop("contacts", None)
    parsed = _parse_entry(entry)
    (rejection,) = parsed.rejections
    assert reason in rejection.reason and "1349120865" not in rejection.reason


def test_a_malformed_bsuid_beside_a_phone_number_is_dropped_and_the_message_kept():
    (stored,) = parse({**BASE, "from_user_id": "not a bsuid", **TEXT_BODY})
    assert (stored.conversation.customer, stored.user_id) == (BASE["from"], None)


# --- Edits and revokes (WhatsApp Business app users, "Coexistence") -----------------------------------------------
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/edit
# ("Updated: Jul 20, 2026"): "The edit webhook is only available to WhatsApp Business app users (aka "Coexistence")";
# triggers: "A WhatsApp user edits a previously sent message (text, media with caption)" "within 15 minutes". Syntax:
#   "messages": [{ "from": "<WHATSAPP_USER_PHONE_NUMBER>", "id": "<WHATSAPP_MESSAGE_ID>",
#     "timestamp": "<WEBHOOK_TRIGGER_TIMESTAMP>", "type": "edit",
#     "edit": { "original_message_id": "<ORIGINAL_WHATSAPP_MESSAGE_ID>", "message": { "context": { …
# (the copy read stops inside `message`; it is read tolerantly: `text.body`, else a media object's `caption`).
# .../reference/messages/revoke ("Updated: May 21, 2026"): "A WhatsApp user revokes (deletes) a previously sent
# message" "within two days"; "type": "revoke", "revoke": { "original_message_id": "<ORIGINAL_WHATSAPP_MESSAGE_ID>" }.


def test_an_edit_shows_the_new_words_and_what_they_replace_when_known():
    raw = {**BASE, "type": "edit", "edit": {"original_message_id": "wamid.ORIG",
                                            "message": {"type": "text", "text": {"body": "the oak one, sorry"}}}}  # fmt: skip
    (message,) = parse(raw)
    assert (message.kind, message.content) == ("edit", {"original_id": "wamid.ORIG", "text": "the oak one, sorry"})
    assert agent_sees(message) == ["[The customer edited an earlier message]\nthe oak one, sorry"]
    quoted = InboundMessage(**{**message.__dict__, "content": {**message.content, "quote": "the walnut one"}})
    assert agent_sees(quoted) == [
        '[The customer edited an earlier message (it said: "the walnut one")]\nthe oak one, sorry'
    ]


def test_an_edited_image_keeps_its_picture_with_the_new_caption_and_the_edit_line():
    raw = {**BASE, "type": "edit", "edit": {"original_message_id": "wamid.ORIG",
                                            "message": {"type": "image", "image": {"id": "1", "mime_type": "image/jpeg",
                                                                                   "caption": "new caption"}}}}  # fmt: skip
    (message,) = parse(raw)
    assert (message.kind, message.content["media_id"], message.content["edit_of"]) == ("image", "1", "wamid.ORIG")
    (item,) = build_burst([message], now=NOW).items
    assert (item.kind, item.content["media_id"]) == ("image", "1")
    assert item.content["caption"] == "[The customer edited an earlier message]\nnew caption"
    quoted = InboundMessage(**{**message.__dict__, "content": {**message.content, "quote": "[photo] old caption"}})
    (item,) = build_burst([quoted], now=NOW).items
    assert item.content["caption"].startswith(
        '[The customer edited an earlier message (it said: "[photo] old caption")]'
    )


def test_an_edited_caption_without_its_media_id_is_read_as_the_new_words():
    raw = {**BASE, "type": "edit", "edit": {"original_message_id": "wamid.ORIG",
                                            "message": {"type": "image", "image": {"caption": "new caption"}}}}  # fmt: skip
    (message,) = parse(raw)
    assert (message.kind, message.content["text"]) == ("edit", "new caption")


def test_a_revoke_says_the_customer_deleted_a_message():
    (message,) = parse({**BASE, "type": "revoke", "revoke": {"original_message_id": "wamid.ORIG"}})
    assert (message.kind, message.content) == ("revoke", {"original_id": "wamid.ORIG"})
    assert agent_sees(message) == ["[The customer deleted an earlier message]"]


# --- Contacts and orders -------------------------------------------------------------------------------------------
# https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/contacts
# ("Updated: Jun 17, 2026"): "Many contact properties may be omitted if the WhatsApp user chooses not to share them or
# if their device prevents sharing"; a card's `phones`, `emails`, `addresses` and `urls` are arrays of objects.
# .../webhooks/reference/messages/order/ ("Updated: Oct 22, 2025"):
#   "order": { "catalog_id": "<PRODUCT_CATALOG_ID>", "text": "<ORDER_TEXT>",
#              "product_items": [ { "product_retailer_id": "<PRODUCT_ID>", "quantity": <PRODUCT_QUANTITY>,
#                                   "item_price": <PRODUCT_PRICE>, "currency": "<CURRENCY_CODE>" } ] }

CARD = {"name": {"formatted_name": "Barbara J. Johnson"}, "phones": [{"phone": "+1 (940) 555-1234", "type": "HOME"}]}
CARD_SEEN_WITHOUT = {
    "phones": "b@example.com",
    "emails": "+1 (940) 555-1234",
    "addresses": "+1 (940) 555-1234, b@example.com",
    "urls": "+1 (940) 555-1234, b@example.com",
}


@pytest.mark.parametrize("field", ["phones", "emails", "addresses", "urls"])
@pytest.mark.parametrize("value", [5, 1.5, True, "+1 555", {"phone": "+1 555"}])
def test_a_contact_card_property_that_is_not_the_list_meta_documents_is_dropped_and_the_card_kept(field, value):
    """An optional property of the wrong type is dropped, the message kept (as a caption that is not a string is)."""
    card = {**CARD, "emails": [{"email": "b@example.com"}], field: value}
    (stored,) = parse({**BASE, "type": "contacts", "contacts": [card]})

    assert field not in stored.content["contacts"][0]
    assert stored.content["contacts"][0]["name"] == {"formatted_name": "Barbara J. Johnson"}
    assert agent_sees(stored) == [f"[Shared contact]\n- Barbara J. Johnson: {CARD_SEEN_WITHOUT[field]}"]


@pytest.mark.parametrize("value", [1.5, 5, True, "sku-1", {"product_retailer_id": "sku-1"}])
def test_an_order_whose_product_items_is_not_a_list_is_rejected_naming_the_field(value):
    """The product items are what an order is: without their list there is nothing to show (as a contacts message
    without its contacts list is rejected)."""
    order = {"catalog_id": "194836987003835", "text": "Three, please", "product_items": value}
    parsed = webhook.parse_sns_message(
        eum.sns_message(eum.webhook_entry({**BASE, "type": "order", "order": order})), received_at=NOW
    )
    assert parsed.messages == ()
    assert [r.reason for r in parsed.rejections] == ["order message has no product_items list"]
