"""The content types of a Connect chat: what a contact supports, and what the customer may send into it."""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.contract.conftest import error_code
from whatsapp_buffer.adapters import connect_chat

CONNECT = botocore.session.get_session().get_service_model("connect")
PARTICIPANT = botocore.session.get_session().get_service_model("connectparticipant")
START = {"InstanceId": "instance", "ContactFlowId": "flow", "ParticipantDetails": {"DisplayName": "Maria"}}
INTERACTIVE = "application/vnd.amazonaws.connect.message.interactive"


def _doc(shape) -> str:
    return re.sub(r" ([,.])", r"\1", " ".join(re.sub(r"<[^>]+>", " ", shape.documentation).split()))


def _supported_doc() -> str:
    return _doc(CONNECT.operation_model("StartChatContact").input_shape.members["SupportedMessagingContentTypes"])


def _connected(aws, **start) -> str:
    started = aws.connect.start_chat_contact(**START, **start)
    connection = aws.participant.create_participant_connection(
        Type=["CONNECTION_CREDENTIALS"], ParticipantToken=started["ParticipantToken"], ConnectParticipant=True
    )
    return connection["ConnectionCredentials"]["ConnectionToken"]


@pytest.mark.parametrize(
    ("listed", "accepted"),
    [
        (["text/plain"], True),
        (["text/markdown", "text/plain"], True),
        (["text/plain", "text/markdown", "application/json", INTERACTIVE, f"{INTERACTIVE}.response"], True),
        (list(connect_chat.SUPPORTED_CONTENT_TYPES), True),
        (["text/markdown"], False),
        (["text/plain", "image/png"], False),
    ],
)
def test_a_chats_supported_content_types_are_the_documented_ones_and_always_hold_text_plain(aws, listed, accepted):
    """botocore StartChatContact.SupportedMessagingContentTypes: "Supported types are text/plain, text/markdown,
    application/json, application/vnd.amazonaws.connect.message.interactive, and
    application/vnd.amazonaws.connect.message.interactive.response. Content types must always contain text/plain."
    The runtime's own list (connect_chat.SUPPORTED_CONTENT_TYPES) is one of the accepted."""
    documentation = _supported_doc()
    assert "Content types must always contain text/plain" in documentation
    assert f"{INTERACTIVE}, and {INTERACTIVE}.response" in documentation
    if accepted:
        assert aws.connect.start_chat_contact(**START, SupportedMessagingContentTypes=listed)["ContactId"]
    else:
        with pytest.raises(ClientError) as refused:
            aws.connect.start_chat_contact(**START, SupportedMessagingContentTypes=listed)
        assert error_code(refused) == "InvalidParameterException"


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [("text/plain", True), ("text/markdown", True), ("application/json", True), ("image/png", False)],
)
def test_the_initial_message_takes_only_the_documented_chat_message_types(aws, content_type, accepted):
    """botocore ChatMessage.ContentType (StartChatContact.InitialMessage): "Supported types are text/plain,
    text/markdown, application/json, and application/vnd.amazonaws.connect.message.interactive.response."."""
    documentation = _doc(CONNECT.shape_for("ChatMessage").members["ContentType"])
    assert (
        f"Supported types are text/plain, text/markdown, application/json, and {INTERACTIVE}.response" in documentation
    )
    start = {**START, "InitialMessage": {"ContentType": content_type, "Content": "hello"}}
    if accepted:
        assert aws.connect.start_chat_contact(**start)["ContactId"]
    else:
        with pytest.raises(ClientError) as refused:
            aws.connect.start_chat_contact(**start)
        assert error_code(refused) == "InvalidParameterException"


@pytest.mark.parametrize(
    ("listed", "content_type", "accepted"),
    [
        (None, "text/plain", True),
        (None, "text/markdown", False),
        (["text/plain", "text/markdown"], "text/markdown", True),
        (["text/plain", "application/json"], "application/json", True),
        (["text/plain", f"{INTERACTIVE}.response"], f"{INTERACTIVE}.response", True),
        (["text/plain", INTERACTIVE], INTERACTIVE, False),
        (["text/plain"], "image/png", False),
    ],
)
def test_send_message_takes_a_documented_type_the_contact_supports(aws, listed, content_type, accepted):
    """botocore SendMessage.ContentType: "Possible types are text/plain, text/markdown, application/json, and
    application/vnd.amazonaws.connect.message.interactive.response. Supported types on the contact are configured
    through SupportedMessagingContentTypes on StartChatContact and StartOutboundChatContact." A contact started
    without the list supports text/plain, the one type every list holds (the admin guide, "Enable text formatting":
    for a custom chat interface "add the SupportedMessagingContentTypes parameter"). The interactive type itself is a
    flow's or bot's message (the Show view block), not one the customer sends."""
    documentation = _doc(PARTICIPANT.operation_model("SendMessage").input_shape.members["ContentType"])
    assert (
        f"Possible types are text/plain, text/markdown, application/json, and {INTERACTIVE}.response" in documentation
    )
    assert "configured through SupportedMessagingContentTypes on StartChatContact" in documentation
    token = _connected(aws, **({} if listed is None else {"SupportedMessagingContentTypes": listed}))
    send = {"ContentType": content_type, "Content": "hello", "ConnectionToken": token}
    if accepted:
        assert aws.participant.send_message(**send)["Id"]
    else:
        with pytest.raises(ClientError) as refused:
            aws.participant.send_message(**send)
        assert error_code(refused) == "ValidationException"


def test_a_chat_started_with_streaming_answers_its_streaming_id(aws):
    """botocore StartChatContactResponse.StreamingId: "The identifier of the streaming configuration enabled with the
    chat. Returned only when the request sets ChatStreamingConfiguration. Use this value to call
    StopContactStreaming."."""
    documentation = _doc(CONNECT.operation_model("StartChatContact").output_shape.members["StreamingId"])
    assert "Returned only when the request sets ChatStreamingConfiguration" in documentation
    arn = "arn:aws:sns:us-east-1:123456789012:chat-stream"
    started = aws.connect.start_chat_contact(**START, ChatStreamingConfiguration={"StreamingEndpointArn": arn})
    assert "StreamingId" not in aws.connect.start_chat_contact(**START)
    aws.connect.stop_contact_streaming(
        InstanceId="instance", ContactId=started["ContactId"], StreamingId=started["StreamingId"]
    )
    assert aws.fake.contacts()[0].streaming_endpoints == ()
