"""Who a WhatsApp message goes to: a phone number (`to`) or a business-scoped user id (`recipient`), with sources.

Meta, "Business-scoped user IDs" (developers.facebook.com/documentation/business-messaging/whatsapp/
business-scoped-user-ids, updated 2026-03-31; read through its public copies and the BSUID guides of Dualhook and
YCloud, which quote it): Messages API requests add `recipient`, "which accepts a BSUID or parent BSUID" —
"Use `to` to send to a phone number. Use `recipient` to send to a BSUID or parent BSUID. If both `to` and
`recipient` are present, `to` takes precedence." A BSUID: "a two-letter ISO country code, a period, and up to 128
alphanumeric characters (for example, BR.1502576394655843)"; a parent BSUID has `ENT` after the country code
(`US.ENT.11815799212886844830`). End User Messaging's SendWhatsAppMessage passes the Meta message through
(botocore: `message` "The message to send through WhatsApp"), so the same fields apply. Meta does not document the
error for a BSUID in `to` or a malformed `recipient`; the fake answers InvalidParametersException.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.contract.conftest import NUMBER, error_code
from whatsapp_buffer.adapters.end_user_messaging import media_message, text_message

BSUID = "US.13491208655302741918"


def _send(aws, message: dict) -> dict:
    return aws.social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER, message=json.dumps(message).encode(), metaApiVersion="v20.0"
    )


def test_a_text_to_a_bsuid_goes_as_recipient_and_reaches_that_customer(aws):
    aws.fake.customer_wrote(NUMBER, BSUID)
    message = text_message(BSUID, "Hi Sheena")
    assert message["recipient"] == BSUID and "to" not in message
    _send(aws, message)
    (sent,) = aws.fake.whatsapp_sent
    assert (sent.to, sent.text, sent.refused) == (BSUID, "Hi Sheena", None)


def test_a_file_to_a_bsuid_goes_as_recipient_and_to_a_phone_number_as_to():
    assert media_message(BSUID, "image", "123")["recipient"] == BSUID
    assert media_message("15550001111", "image", "123")["to"] == "15550001111"
    assert "recipient" not in text_message("15550001111", "hi")


@pytest.mark.parametrize(
    "address",
    [
        {},
        {"to": BSUID},
        {"recipient": "15550001111"},
        {"recipient": "US-13491208655302741918"},
    ],
    ids=["neither", "bsuid-in-to", "number-in-recipient", "not-a-bsuid"],
)
def test_a_message_without_a_valid_addressee_is_refused(aws, address):
    message = {"messaging_product": "whatsapp", **address, "type": "text", "text": {"body": "hi"}}
    with pytest.raises(ClientError) as excinfo:
        _send(aws, message)
    assert error_code(excinfo) == "InvalidParametersException"


def test_a_parent_bsuid_is_a_valid_recipient(aws):
    parent = "US.ENT.11815799212886844830"
    aws.fake.customer_wrote(NUMBER, parent)
    _send(aws, {"messaging_product": "whatsapp", "recipient": parent, "type": "text", "text": {"body": "hi"}})
    assert aws.fake.whatsapp_sent[0].to == parent


def test_the_24_hour_window_of_a_bsuid_customer_runs_from_their_own_last_message(aws):
    """The window is Meta's rule for every customer (see test_end_user_messaging_rules); nobody keyed by this BSUID
    wrote, so the free-form reply is reported failed with 131047."""
    _send(aws, text_message(BSUID, "nobody wrote"))
    assert aws.fake.whatsapp_sent[0].refused is not None
