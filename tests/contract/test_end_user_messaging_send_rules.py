"""SendWhatsAppMessage's `message`: the Meta message object End User Messaging passes on, with its sources."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.contract.conftest import NUMBER, error_code

MODEL = botocore.session.get_session().get_service_model("socialmessaging")


def _send(aws, message: bytes) -> dict:
    return aws.social.send_whatsapp_message(originationPhoneNumberId=NUMBER, message=message, metaApiVersion="v20.0")


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (b"not json", "ValidationException"),
        (json.dumps({"to": "1555", "type": "text", "text": {"body": "x"}}).encode(), "InvalidParametersException"),
        (
            json.dumps({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}).encode(),
            "InvalidParametersException",
        ),
    ],
    ids=["not-json", "no-messaging-product", "no-addressee"],
)
def test_a_message_that_is_not_a_meta_message_object_is_refused(aws, message, code):
    """botocore SendWhatsAppMessage.message: "The message field passes through a WhatsApp Message object, see
    Messages in the WhatsApp Business Platform Cloud API Reference." Meta's Message Object (Cloud API reference,
    "Messages", and its public copies): "messaging_product Required. Messaging service used for the request. Always
    use "whatsapp"."; the addressee, `to` or `recipient`, see test_bsuid_addressing. Which error End User Messaging
    returns is not documented. The fake's choice: bytes that are no JSON at all are ValidationException ("The request
    contains an invalid parameter value."), a JSON object that is not a valid message InvalidParametersException
    ("One or more parameters provided to the action are not valid.")."""
    assert "passes through a WhatsApp Message object" in re.sub(
        r"<[^>]+>", "", MODEL.shape_for("SendWhatsAppMessageInput").members["message"].documentation
    )
    with pytest.raises(ClientError) as excinfo:
        _send(aws, message)
    assert error_code(excinfo) == code
    assert aws.fake.whatsapp_sent == []


@pytest.mark.parametrize(
    "message",
    [
        {"messaging_product": "whatsapp", "to": "15550001111", "type": "image"},
        {"messaging_product": "whatsapp", "to": "15550001111", "type": "image", "image": "123"},
        {"messaging_product": "whatsapp", "to": "15550001111", "image": {"id": "123"}},
    ],
    ids=["no-object", "not-an-object", "type-defaults-to-text"],
)
def test_a_message_without_the_object_its_type_names_is_refused(aws, message):
    """Meta's Message Object (Cloud API reference, "Messages"): "audio object Required when type=audio. A media object
    containing audio.", and so for each type (image, document, video, text, template, interactive, ...); "type
    Optional. The type of message you want to send. ... Default: text", so a message without `type` needs `text`.
    The error End User Messaging returns is not documented; the fake answers InvalidParametersException."""
    aws.fake.customer_wrote(NUMBER, "15550001111")
    with pytest.raises(ClientError) as excinfo:
        _send(aws, json.dumps(message).encode())
    assert error_code(excinfo) == "InvalidParametersException"
    _send(aws, json.dumps({**message, "type": "image", "image": {"id": "123"}}).encode())
    assert [sent.type for sent in aws.fake.whatsapp_sent] == ["image"]


def test_a_contacts_message_carries_its_contact_cards_in_an_array(aws):
    """Meta, "Contacts messages" (request syntax, as the Cloud API's public copies show it): "type": "contacts",
    "contacts": [{"name": {"formatted_name": ...}, "phones": [...], ...}]; a published JSON schema of the Cloud API's
    send request: "contacts | array", where the other types name an object. So an array is taken and a lone contact
    object in its place refused (InvalidParametersException: the error is not documented, the fake's choice)."""
    aws.fake.customer_wrote(NUMBER, "15550001111")
    card = {"name": {"formatted_name": "Ana Silva", "first_name": "Ana"}, "phones": [{"phone": "+15550002222"}]}
    message = {"messaging_product": "whatsapp", "to": "15550001111", "type": "contacts"}
    _send(aws, json.dumps({**message, "contacts": [card]}).encode())
    with pytest.raises(ClientError) as excinfo:
        _send(aws, json.dumps({**message, "contacts": card}).encode())
    assert error_code(excinfo) == "InvalidParametersException"
    assert [sent.message["contacts"] for sent in aws.fake.whatsapp_sent] == [[card]]


def test_a_read_receipt_needs_the_id_of_the_message_it_marks(aws):
    """Meta, "Mark messages as read": "you can use the message.id value to mark the message as read", request
    {"messaging_product": "whatsapp", "status": "read", "message_id": "<WHATSAPP_MESSAGE_ID>"}; "If you mark a
    message as read with an invalid message ID, the API returns error code 131009 ("Parameter value is not valid").
    Provide a valid wamid from a received message as the message_id." How End User Messaging passes Meta's 131009
    on is not documented; the fake refuses a receipt without message_id with InvalidParametersException."""
    receipt = {"messaging_product": "whatsapp", "status": "read"}
    for missing in (receipt, {**receipt, "message_id": ""}):
        with pytest.raises(ClientError) as excinfo:
            _send(aws, json.dumps(missing).encode())
        assert error_code(excinfo) == "InvalidParametersException"
    _send(aws, json.dumps({**receipt, "message_id": "wamid.X"}).encode())
    assert [sent.type for sent in aws.fake.whatsapp_sent] == ["read"]
