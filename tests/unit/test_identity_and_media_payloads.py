"""What the agent reads for three payloads other WhatsApp libraries' fixtures carry: a BSUID change (no `from`),
media with WhatsApp's own error, and a location with the place's page.

Sources are quoted at each test. `parse` and `agent_sees` are tests/unit/test_meta_payloads.py's (ingest, merge and
render as the inbound function composes them).
"""

from __future__ import annotations

import pytest

from tests.fixtures import eum
from tests.unit.test_meta_payloads import BASE, NOW, agent_sees, parse
from whatsapp_buffer import render
from whatsapp_buffer.ingest import webhook

OLD_BSUID, NEW_BSUID = "CO.13491208655302741918", "CO.20771234567890123456"


def _without_sender(system: dict) -> dict:
    return {"id": BASE["id"], "timestamp": BASE["timestamp"], "type": "system", "system": system}


# --- user_changed_user_id --------------------------------------------------------------------------------------------
# Meta's system messages reference ("Updated: Oct 22, 2025") documents only `user_changed_number`; its
# business-scoped user ids page: a BSUID "becomes invalid if the user changes their WhatsApp phone number". Real
# payloads in public repositories name the customer only inside `system`:
#   {id, timestamp, type: "system", system: {type: "user_changed_user_id", previous_user_id: "CO.OLD",
#                                            user_id: "CO.NEW"}}                    (a TypeScript webhook's test)
#   {id, timestamp, type: "system", system: {body, wa_id: <phone number>, user_id, type: "user_changed_user_id"}}
#                                                                                    (a TypeScript webhook's fixture)


def test_a_bsuid_change_without_from_is_the_new_bsuids_customer_and_reaches_the_agent_as_a_line():
    system = {"type": "user_changed_user_id", "previous_user_id": OLD_BSUID, "user_id": NEW_BSUID}
    (message,) = parse(_without_sender(system))
    assert message.conversation.customer == NEW_BSUID  # whose messages follow it; the chat is found by the old one
    assert message.user_id == NEW_BSUID
    assert message.content == {"system_type": "user_changed_user_id", "user_id": NEW_BSUID,
                               "previous_user_id": OLD_BSUID}  # fmt: skip
    assert agent_sees(message) == [
        "[WhatsApp notice: the customer's WhatsApp user id (BSUID) changed from CO.****************1918 to "
        "CO.****************3456.]"
    ]


def test_a_number_change_is_the_new_numbers_conversation_with_the_new_bsuid_and_names_the_old_number():
    """Meta, System messages webhook reference ("Updated: Aug 11, 2026"): `"from": "<WHATSAPP_USER_PHONE_NUMBER>"`,
    `"wa_id": "<NEW_WHATSAPP_USER_PHONE_NUMBER>"`; changelog, Aug 11, 2026: "Added system.previous_user_id and
    system.previous_parent_user_id to user_changed_number system messages webhooks. A phone number change also
    regenerates the user's business-scoped user ID (BSUID), so the previous values are now reported alongside the new
    ones". Meta is silent on whether the notice comes before the new number's messages: keyed by the new number, it is
    in their conversation, ordered with them."""
    system = {"body": "User Maria changed from 16505551234 to 12195555358", "wa_id": "12195555358",
              "type": "user_changed_number", "user_id": NEW_BSUID, "previous_user_id": OLD_BSUID}  # fmt: skip
    (message,) = parse({**_without_sender(system), "from": "16505551234", "from_user_id": OLD_BSUID})
    assert (message.conversation.customer, message.user_id) == ("12195555358", NEW_BSUID)
    assert message.content["previous_wa_id"] == "16505551234"


def test_a_bsuid_change_naming_the_customers_number_is_that_numbers_conversation():
    system = {
        "body": "User Maria changed",
        "wa_id": "16505551234",
        "user_id": NEW_BSUID,
        "type": "user_changed_user_id",
    }
    (message,) = parse(_without_sender(system))
    assert (message.conversation.customer, message.user_id) == ("16505551234", NEW_BSUID)
    assert agent_sees(message) == [
        "[WhatsApp notice: the customer's WhatsApp user id (BSUID) changed to CO.****************3456.]"
    ]


def test_a_bsuid_change_naming_no_customer_at_all_is_rejected_with_its_reason():
    parsed = webhook.parse_sns_message(
        eum.sns_message(eum.webhook_entry(_without_sender({"type": "user_changed_user_id"}))), received_at=NOW
    )
    assert parsed.messages == ()
    assert [r.reason for r in parsed.rejections] == [
        "user_changed_user_id notice names no customer (system.wa_id, previous_user_id, user_id)"
    ]


# What a BSUID is (Meta, "Business-scoped user IDs", as 360dialog's and Microsoft Learn's BSUID pages quote it): "a
# two-letter ISO country code, a period, and up to 128 alphanumeric characters (for example, BR.1502576394655843)".
# A notice whose new `user_id` is anything else cannot move the chat to it: without a number it is rejected, as a
# `from_user_id` that would key the conversation is; beside a number it is dropped, as a `from_user_id` beside `from` is.


@pytest.mark.parametrize("malformed", ["CO.2077 1234", "2077123456", "CO.", "co.20771234567890123456"])
def test_a_bsuid_change_to_a_malformed_user_id_without_a_number_is_rejected_with_its_reason(malformed):
    system = {"type": "user_changed_user_id", "previous_user_id": OLD_BSUID, "user_id": malformed}
    parsed = webhook.parse_sns_message(eum.sns_message(eum.webhook_entry(_without_sender(system))), received_at=NOW)
    assert parsed.messages == ()
    assert [r.reason for r in parsed.rejections] == [
        "user_changed_user_id notice's user_id is not a business-scoped user id (CC.alphanumerics)"
    ]


def test_a_bsuid_change_to_a_malformed_user_id_beside_the_number_keeps_the_notice_without_it():
    system = {
        "body": "User Maria changed",
        "wa_id": "16505551234",
        "user_id": "CO.2077 1234",
        "type": "user_changed_user_id",
    }
    (message,) = parse(_without_sender(system))
    assert (message.conversation.customer, message.user_id) == ("16505551234", None)
    assert "user_id" not in message.content
    assert agent_sees(message) == ["[WhatsApp notice: the customer's WhatsApp user id (BSUID) changed.]"]


def test_a_malformed_previous_user_id_is_neither_the_customer_nor_shown():
    system = {"type": "user_changed_user_id", "previous_user_id": "15550001111.x", "user_id": NEW_BSUID}
    (message,) = parse(_without_sender(system))
    assert (message.conversation.customer, message.user_id) == (NEW_BSUID, NEW_BSUID)
    assert message.content == {"system_type": "user_changed_user_id", "user_id": NEW_BSUID}


def test_another_system_notice_without_from_is_still_rejected():
    parsed = webhook.parse_sns_message(
        eum.sns_message(eum.webhook_entry(_without_sender({"type": "something_new", "user_id": NEW_BSUID}))),
        received_at=NOW,
    )
    assert [r.reason for r in parsed.rejections] == ["message has neither from nor from_user_id"]


# --- media with WhatsApp's errors --------------------------------------------------------------------------------------
# A real fixture in a public repository (a Python webhook parser's tests):
#   {"type": "image", "image": {"id": "I1"}, "errors": [{"code": 131052, "title": "Media download error"}]}
# Meta's error codes page: 131052 "Media download error" — "Unable to download the media sent by the user."

MEDIA_ERROR = {"code": 131052, "title": "Media download error"}


def test_media_carrying_whatsapps_error_keeps_it_for_the_agent():
    (message,) = parse({**BASE, "type": "image", "image": {"id": "I1", "mime_type": "image/jpeg"},
                        "errors": [MEDIA_ERROR]})  # fmt: skip
    assert (message.kind, message.content["media_id"]) == ("image", "I1")
    assert message.content["error"] == "131052: Media download error"
    reason = render.unavailable_reason(message.content)
    assert render.media_notice("image", reason, "image-1.jpg") == (
        "[The customer sent an image (image-1.jpg) that cannot be shown here: WhatsApp says: Media download error.]"
    )


def test_media_without_whatsapps_error_keeps_the_bridges_own_reason():
    (message,) = parse({**BASE, "type": "image", "image": {"id": "I1", "mime_type": "image/jpeg"}})
    assert "error" not in message.content
    assert "could not be downloaded from WhatsApp" in render.media_notice(
        "image", render.unavailable_reason(message.content), "image-1.jpg"
    )


def test_media_with_whatsapps_error_and_no_media_id_is_shown_as_unsupported_not_dead_lettered():
    (message,) = parse({**BASE, "type": "video", "video": {"mime_type": "video/mp4"}, "errors": [MEDIA_ERROR]})
    assert agent_sees(message) == [
        "[The customer sent a message of type 'video' that this chat cannot show. WhatsApp says: Media download error.]"
    ]


# --- a location's url -------------------------------------------------------------------------------------------------
# Meta, Location messages webhook reference ("Updated: Oct 22, 2025"):
#   "location": { "address": "<LOCATION_ADDRESS>", "latitude": <LOCATION_LATITUDE>, "longitude": <LOCATION_LONGITUDE>,
#                 "name": "<LOCATION_NAME>", "url": "<LOCATION_URL>" }
# tests/fixtures/eum/entries/location.json (a real-shaped payload) carries "url": "https://www.facebook.com".


@pytest.mark.parametrize("url", ["https://www.facebook.com", "https://example.com/venue/42"])
def test_a_locations_url_is_shown_to_the_agent(url):
    raw = eum.message("wamid.LOC1", kind="location")
    raw["location"]["url"] = url
    (message,) = parse(raw)
    (line,) = agent_sees(message)
    assert line.splitlines() == [
        "[Location] 37.483307, -122.148981",
        "Meta Headquarters, 1 Hacker Way, Menlo Park, CA 94025",
        "https://maps.google.com/?q=37.483307,-122.148981",
        url,
    ]


def test_a_location_without_url_shows_no_extra_line():
    raw = eum.message("wamid.LOC2", kind="location")
    del raw["location"]["url"]
    (message,) = parse(raw)
    assert agent_sees(message)[0].splitlines()[-1] == "https://maps.google.com/?q=37.483307,-122.148981"
