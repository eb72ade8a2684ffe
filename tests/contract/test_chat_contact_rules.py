"""Amazon Connect's rules for a chat contact's life (StartChatContact, the streaming calls, UpdateContactAttributes,
StopContact) as the fake enforces them, each quoting its source: the botocore `connect` model's documentation strings,
read from the model itself, and the Amazon Connect API Reference where the model is silent."""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from sandbox.fakes.chat import CHAT_ENDED
from sandbox.fakes.connect import DEFAULT_CHAT_MINUTES
from tests.contract.conftest import error_code

CONNECT = botocore.session.get_session().get_service_model("connect")
START = CONNECT.operation_model("StartChatContact")
CHAT = {"InstanceId": "instance", "ContactFlowId": "flow", "ParticipantDetails": {"DisplayName": "Maria"}}
STREAM = {"StreamingEndpointArn": "arn:aws:sns:us-east-1:123456789012:out-topic"}


def _text(documentation: str) -> str:
    return re.sub(r" ([,.:])", r"\1", " ".join(re.sub(r"<[^>]+>", " ", documentation).split()))


def _member(operation: str, member: str) -> str:
    return _text(CONNECT.operation_model(operation).input_shape.members[member].documentation)


def _error(operation: str, code: str) -> str:
    (shape,) = [e for e in CONNECT.operation_model(operation).error_shapes if e.name == code]
    return _text(shape.documentation)


def _status(excinfo) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_an_initial_message_over_16384_utf8_bytes_is_refused(aws):
    """botocore ChatMessage.Content (StartChatContact.InitialMessage): "Maximum of 16,384 bytes for all content
    types". The model's `max` 16384 counts characters, so 8,193 two-byte characters pass it and are over in bytes;
    the error is not documented, the fake answers InvalidParameterException (the operation's "One or more of the
    specified parameters are not valid")."""
    content = START.input_shape.members["InitialMessage"].members["Content"]
    assert "Maximum of 16,384 bytes for all content types" in _text(content.documentation)
    started = aws.connect.start_chat_contact(
        **CHAT, InitialMessage={"ContentType": "text/plain", "Content": "é" * 8192}
    )
    assert [item.content for item in aws.fake.chat_items(started["ContactId"])] == ["é" * 8192]
    with pytest.raises(ClientError) as refused:
        aws.connect.start_chat_contact(**CHAT, InitialMessage={"ContentType": "text/plain", "Content": "é" * 8193})
    assert error_code(refused) == "InvalidParameterException"
    assert len(aws.fake.contacts()) == 1


@pytest.mark.parametrize(("minutes", "lasts"), [(None, 1500), (60, 60), (10080, 10080)])
def test_a_chat_ends_when_its_duration_elapses_25_hours_unless_given(aws, minutes, lasts):
    """botocore StartChatContact.ChatDurationInMinutes: "The total duration of the newly started chat session. If not
    specified, the chat session duration defaults to 25 hour." The chat ends then (the fake's reason EXPIRED, a
    chat.ended event), and the customer's calls are refused as on any ended chat."""
    assert "defaults to 25 hour" in _member("StartChatContact", "ChatDurationInMinutes")
    assert DEFAULT_CHAT_MINUTES == 25 * 60
    duration = {} if minutes is None else {"ChatDurationInMinutes": minutes}
    started = aws.connect.start_chat_contact(**CHAT, **duration)
    aws.clock[0] += lasts * 60 - 1
    assert aws.fake.tick() == []
    aws.clock[0] += 1
    assert aws.fake.tick() == [started["ContactId"]]
    assert aws.fake.contact(started["ContactId"]).ended_reason == "EXPIRED"


def test_a_related_contact_that_does_not_exist_is_resource_not_found(aws):
    """botocore StartChatContact.RelatedContactId: "The unique identifier for an Connect Customer contact. This
    identifier is related to the chat starting."; StartOutboundVoiceContact.RelatedContactId: "Linking voice, task, or
    chat by using RelatedContactID copies over contact attributes from the related contact to the new contact." —
    so the contact must exist. The error is not documented; the fake answers the operation's
    ResourceNotFoundException ("The specified resource was not found.")."""
    assert "This identifier is related to the chat starting" in _member("StartChatContact", "RelatedContactId")
    assert "copies over contact attributes" in _member("StartOutboundVoiceContact", "RelatedContactId")
    assert _error("StartChatContact", "ResourceNotFoundException") == "The specified resource was not found."
    earlier = aws.connect.start_chat_contact(**CHAT)["ContactId"]
    assert aws.connect.start_chat_contact(**CHAT, RelatedContactId=earlier)["ContactId"] != earlier
    with pytest.raises(ClientError) as refused:
        aws.connect.start_chat_contact(**CHAT, RelatedContactId="no-such-contact")
    assert error_code(refused) == "ResourceNotFoundException"


def test_streaming_cannot_start_on_an_ended_chat_but_a_retry_of_a_started_stream_answers_it(aws):
    """botocore StartContactStreaming: "Initiates real-time message streaming for a new chat contact." Nothing says
    what an ended chat answers; the fake refuses with the operation's InvalidRequestException ("The request is not
    valid."). A repeat for an endpoint already streaming answers its StreamingId (ClientToken: "to ensure the
    idempotency of the request"), ended or not."""
    assert "for a new chat contact" in _text(CONNECT.operation_model("StartContactStreaming").documentation)
    assert _error("StartContactStreaming", "InvalidRequestException") == "The request is not valid."
    streamed, _ = aws.open_chat()
    other, _ = aws.open_chat()
    first = aws.connect.start_contact_streaming(
        InstanceId="instance", ContactId=streamed, ChatStreamingConfiguration=STREAM, ClientToken="s1"
    )
    aws.fake.end_chat(streamed)
    aws.fake.end_chat(other)
    again = aws.connect.start_contact_streaming(
        InstanceId="instance", ContactId=streamed, ChatStreamingConfiguration=STREAM, ClientToken="s1"
    )
    assert again["StreamingId"] == first["StreamingId"]
    with pytest.raises(ClientError) as refused:
        aws.connect.start_contact_streaming(
            InstanceId="instance", ContactId=other, ChatStreamingConfiguration=STREAM, ClientToken="s2"
        )
    assert error_code(refused) == "InvalidRequestException"


def test_stopping_a_streaming_id_the_contact_does_not_have_is_resource_not_found(aws):
    """botocore StopContactStreaming: "Ends message streaming on a specified contact."; StreamingId: "The identifier
    of the streaming configuration enabled." An id not enabled on the contact is the operation's
    ResourceNotFoundException ("The specified resource was not found."): the error for it is not documented."""
    assert _member("StopContactStreaming", "StreamingId") == "The identifier of the streaming configuration enabled."
    assert _error("StopContactStreaming", "ResourceNotFoundException") == "The specified resource was not found."
    contact_id, _ = aws.open_chat()
    streaming_id = aws.connect.start_contact_streaming(
        InstanceId="instance", ContactId=contact_id, ChatStreamingConfiguration=STREAM, ClientToken="s1"
    )["StreamingId"]
    with pytest.raises(ClientError) as refused:
        aws.connect.stop_contact_streaming(InstanceId="instance", ContactId=contact_id, StreamingId="not-enabled")
    assert error_code(refused) == "ResourceNotFoundException"
    aws.connect.stop_contact_streaming(InstanceId="instance", ContactId=contact_id, StreamingId=streaming_id)
    assert aws.fake.contact(contact_id).streaming_endpoints == ()


@pytest.mark.parametrize("operation", ["UpdateContactAttributes", "StartContactStreaming", "StopContactStreaming"])
def test_a_contact_that_does_not_exist_is_resource_not_found(aws, operation):
    """botocore UpdateContactAttributes.InitialContactId, StartContactStreaming.ContactId, StopContactStreaming
    .ContactId: "The identifier of the contact. This is the identifier of the contact associated with the first
    interaction with the contact center." None of them says what an unknown id answers; each operation lists
    ResourceNotFoundException ("The specified resource was not found."), which the fake answers."""
    member = "InitialContactId" if operation == "UpdateContactAttributes" else "ContactId"
    assert "identifier of the contact" in _member(operation, member)
    assert _error(operation, "ResourceNotFoundException") == "The specified resource was not found."
    request = {
        "UpdateContactAttributes": {"InitialContactId": "no-such-contact", "Attributes": {"a": "1"}},
        "StartContactStreaming": {
            "ContactId": "no-such-contact",
            "ChatStreamingConfiguration": STREAM,
            "ClientToken": "s1",
        },
        "StopContactStreaming": {"ContactId": "no-such-contact", "StreamingId": "s1"},
    }[operation]
    call = getattr(aws.connect, re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower())
    with pytest.raises(ClientError) as refused:
        call(InstanceId="instance", **request)
    assert error_code(refused) == "ResourceNotFoundException"


def test_stop_contact_on_a_chat_that_has_ended_succeeds_and_changes_nothing(aws):
    """botocore StopContact: "Chat and task contacts can be terminated in any state, regardless of initiation method."
    Its ContactNotFoundException — botocore: "The contact with the specified ID does not exist."; the API Reference
    (API_StopContact.html): "The contact with the specified ID is not active or does not exist. Applies to Voice
    calls only, not to Chat or Task contacts." — so an ended chat, which exists, is not refused with it. What Connect
    answers is not documented otherwise: the fake answers success and ends nothing twice."""
    assert "Chat and task contacts can be terminated in any state" in _text(
        CONNECT.operation_model("StopContact").documentation
    )
    assert _error("StopContact", "ContactNotFoundException") == "The contact with the specified ID does not exist."
    contact_id, _ = aws.open_chat()
    aws.connect.start_contact_streaming(
        InstanceId="instance", ContactId=contact_id, ChatStreamingConfiguration=STREAM, ClientToken="s1"
    )
    aws.connect.stop_contact(InstanceId="instance", ContactId=contact_id)
    ended_at = aws.fake.contact(contact_id).ended_at
    aws.clock[0] += 60
    aws.connect.stop_contact(InstanceId="instance", ContactId=contact_id)
    assert (aws.fake.contact(contact_id).ended_at, aws.fake.contact(contact_id).ended_reason) == (ended_at, "API")
    assert [p.body["ContentType"] for p in aws.fake.published] == [CHAT_ENDED]


def test_stop_contact_on_a_contact_that_does_not_exist_is_contact_not_found_410(aws):
    """botocore ContactNotFoundException: "The contact with the specified ID does not exist.", HTTP status 410 in the
    model (the API Reference restricts it to voice calls: the sources disagree; the bridge only stops chats it
    started, so only the model's reading can be met)."""
    assert CONNECT.shape_for("ContactNotFoundException").metadata["error"]["httpStatusCode"] == 410
    with pytest.raises(ClientError) as refused:
        aws.connect.stop_contact(InstanceId="instance", ContactId="no-such-contact")
    assert (error_code(refused), _status(refused)) == ("ContactNotFoundException", 410)


def test_stop_contact_ends_a_live_chat_with_chat_ended(aws):
    """botocore StopContact: "Ends the specified contact."; the chat then ends for its participants too."""
    assert _text(CONNECT.operation_model("StopContact").documentation).startswith("Ends the specified contact.")
    contact_id, token = aws.open_chat()
    aws.connect.start_contact_streaming(
        InstanceId="instance", ContactId=contact_id, ChatStreamingConfiguration=STREAM, ClientToken="s1"
    )
    aws.connect.stop_contact(InstanceId="instance", ContactId=contact_id)
    assert [p.body["ContentType"] for p in aws.fake.published] == [CHAT_ENDED]
    with pytest.raises(ClientError) as refused:
        aws.participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=token)
    assert error_code(refused) == "AccessDeniedException"


@pytest.mark.parametrize(
    ("types", "answered"),
    [
        (None, set()),
        (["CONNECTION_CREDENTIALS"], {"ConnectionCredentials"}),
        (["WEBSOCKET"], {"Websocket"}),
        (["WEBSOCKET", "CONNECTION_CREDENTIALS"], {"ConnectionCredentials", "Websocket"}),
        (["WEBRTC_CONNECTION"], set()),
    ],
)
def test_start_chat_contact_returns_the_connection_information_its_connection_types_ask_for(aws, types, answered):
    """botocore StartChatContact.ConnectionTypes: "CONNECTION_CREDENTIALS: Returns a connection token. WEBSOCKET:
    Returns a websocket URL. WEBSOCKET and CONNECTION_CREDENTIALS are the values this operation acts on. No other
    value returns connection information. ... Request CONNECTION_CREDENTIALS on its own and the response returns a
    connection token but no websocket URL. If you omit this parameter, the response has no connection information."
    """
    documentation = _member("StartChatContact", "ConnectionTypes")
    assert "No other value returns connection information" in documentation
    assert "If you omit this parameter, the response has no connection information" in documentation
    started = aws.connect.start_chat_contact(**CHAT, **({} if types is None else {"ConnectionTypes": types}))
    assert answered == {"ConnectionCredentials", "Websocket"} & set(started)
    if "ConnectionCredentials" in answered:
        token = started["ConnectionCredentials"]["ConnectionToken"]
        assert aws.participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=token)["Id"]


def test_connection_credentials_from_the_start_count_as_the_first_connection(aws):
    """botocore StartChatContact: "clients must subscribe to the participant's connection for the created chat within
    5 minutes. This is achieved by invoking CreateParticipantConnection with WEBSOCKET and CONNECTION_CREDENTIALS. To
    receive connection information directly in the response, set ConnectionTypes on the request." So a chat started
    with them may renew its connection with the ParticipantToken later than 5 minutes, as after a first
    CreateParticipantConnection."""
    assert "To receive connection information directly in the response, set ConnectionTypes" in _text(
        START.documentation
    )
    started = aws.connect.start_chat_contact(**CHAT, ConnectionTypes=["CONNECTION_CREDENTIALS"])
    aws.clock[0] += 600
    renewed = aws.participant.create_participant_connection(
        Type=["CONNECTION_CREDENTIALS"], ParticipantToken=started["ParticipantToken"]
    )
    assert renewed["ConnectionCredentials"]["ConnectionToken"] != started["ConnectionCredentials"]["ConnectionToken"]


def test_a_start_retried_after_its_chat_ended_repeats_the_contact_without_the_websocket(aws):
    """botocore StartChatContact.ConnectionTypes: "When you retry a request with the same ClientToken, the response
    repeats the original contact and can omit a websocket URL if the chat has already ended." The fake omits it then,
    and repeats everything while the chat lasts."""
    assert "can omit a websocket URL if the chat has already ended" in _member("StartChatContact", "ConnectionTypes")
    start = {**CHAT, "ConnectionTypes": ["WEBSOCKET", "CONNECTION_CREDENTIALS"], "ClientToken": "burst-1"}
    first = aws.connect.start_chat_contact(**start)
    first.pop("ResponseMetadata")
    again = aws.connect.start_chat_contact(**start)
    again.pop("ResponseMetadata")
    assert again == first
    aws.fake.end_chat(first["ContactId"])
    after = aws.connect.start_chat_contact(**start)
    assert "Websocket" not in after
    assert (after["ContactId"], after["ConnectionCredentials"]) == (first["ContactId"], first["ConnectionCredentials"])
