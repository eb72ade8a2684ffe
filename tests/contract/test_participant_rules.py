"""Amazon Connect Participant Service rules as the fake enforces them — tokens, messages, a chat's end, attachments
and their pre-signed URLs — each quoting its source: the botocore `connectparticipant` (and `connect`) model's
documentation strings, read from the model itself. Where the sources are silent, the docstring says what the fake
chose."""

from __future__ import annotations

import re
from datetime import datetime

import botocore.session
import pytest
from botocore.exceptions import ClientError, ParamValidationError

from sandbox.fakes.chat import CHAT_ENDED, PARTICIPANT_LEFT
from sandbox.fakes.connect import MESSAGE_CONTENT_TYPES
from sandbox.fakes.participant import DOWNLOAD_URL_SECONDS, UPLOAD_URL_SECONDS
from tests.contract.conftest import error_code

CONNECT = botocore.session.get_session().get_service_model("connect")
PARTICIPANT = botocore.session.get_session().get_service_model("connectparticipant")
STREAM = {"StreamingEndpointArn": "arn:aws:sns:us-east-1:123456789012:out-topic"}


def _text(documentation: str) -> str:
    return re.sub(r" ([,.:])", r"\1", " ".join(re.sub(r"<[^>]+>", " ", documentation).split()))


def _operation(name: str) -> str:
    return _text(PARTICIPANT.operation_model(name).documentation)


def _member(operation: str, member: str) -> str:
    return _text(PARTICIPANT.operation_model(operation).input_shape.members[member].documentation)


def _error(operation: str, code: str) -> str:
    (shape,) = [e for e in PARTICIPANT.operation_model(operation).error_shapes if e.name == code]
    return _text(shape.documentation)


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _start_upload(aws, token: str, size: int = 3, client_token: str = "u1") -> dict:
    return aws.participant.start_attachment_upload(
        ContentType="image/png",
        AttachmentSizeInBytes=size,
        AttachmentName="a.png",
        ClientToken=client_token,
        ConnectionToken=token,
    )


def _complete(aws, token: str, attachment_id: str, client_token: str = "c1") -> dict:
    return aws.participant.complete_attachment_upload(
        AttachmentIds=[attachment_id], ClientToken=client_token, ConnectionToken=token
    )


def _put(aws, started: dict, data: bytes, headers: dict | None = None) -> None:
    metadata = started["UploadMetadata"]
    aws.fake.http_put(metadata["Url"], metadata["HeadersToInclude"] if headers is None else headers, data)


def test_a_token_connect_never_issued_is_access_denied(aws):
    """botocore CreateParticipantConnection: "ParticipantToken is used for invoking this API instead of
    ConnectionToken."; SendMessage: "ConnectionToken is used for invoking this API instead of ParticipantToken. The
    Amazon Connect Participant Service APIs do not use Signature Version 4 authentication." The token is the
    credential; which error a token Connect never issued gets is not documented: the fake answers the operations'
    AccessDeniedException ("You do not have sufficient access to perform this action.", HTTP 403)."""
    assert "ParticipantToken is used for invoking this API" in _operation("CreateParticipantConnection")
    assert "do not use Signature Version 4 authentication" in _operation("SendMessage")
    assert _error("SendMessage", "AccessDeniedException") == "You do not have sufficient access to perform this action."
    with pytest.raises(ClientError) as refused:
        aws.participant.create_participant_connection(Type=["CONNECTION_CREDENTIALS"], ParticipantToken="never-issued")
    assert error_code(refused) == "AccessDeniedException"
    with pytest.raises(ClientError) as refused:
        aws.participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken="never-issued")
    assert error_code(refused) == "AccessDeniedException"


def test_send_message_takes_exactly_the_possible_types_the_model_lists(aws):
    """botocore SendMessage.ContentType: "Possible types are text/plain, text/markdown, application/json, and
    application/vnd.amazonaws.connect.message.interactive.response." The fake's set is that list, each accepted on a
    contact that supports it."""
    listed = re.search(r"Possible types are (.+?)\. Supported", _member("SendMessage", "ContentType"))
    assert listed is not None
    possible = {t.strip() for t in re.split(r",| and ", listed.group(1)) if t.strip()}
    assert possible == MESSAGE_CONTENT_TYPES
    started = aws.connect.start_chat_contact(
        InstanceId="instance",
        ContactFlowId="flow",
        ParticipantDetails={"DisplayName": "Maria"},
        SupportedMessagingContentTypes=sorted(possible),
        ConnectionTypes=["CONNECTION_CREDENTIALS"],
    )
    token = started["ConnectionCredentials"]["ConnectionToken"]
    for content_type in sorted(possible):
        assert aws.participant.send_message(ContentType=content_type, Content="{}", ConnectionToken=token)["Id"]


def test_a_message_sent_again_with_its_client_token_is_shown_once_even_on_a_new_connection(aws):
    """botocore SendMessage.ClientToken: "A unique, case-sensitive identifier that you provide to ensure the
    idempotency of the request." The retry answers the first Id; the token belongs to the participant, not to one
    connection (how long Connect keeps it is not documented: the fake keeps it for the chat's life)."""
    assert "to ensure the idempotency of the request" in _member("SendMessage", "ClientToken")
    contact_id, token = aws.open_chat()
    first = aws.participant.send_message(
        ContentType="text/plain", Content="hi", ClientToken="b1", ConnectionToken=token
    )
    again = aws.participant.send_message(
        ContentType="text/plain", Content="hi", ClientToken="b1", ConnectionToken=token
    )
    renewed = aws.participant.create_participant_connection(
        Type=["CONNECTION_CREDENTIALS"], ParticipantToken=aws.fake.chats.contacts[contact_id].customer.token
    )["ConnectionCredentials"]["ConnectionToken"]
    later = aws.participant.send_message(
        ContentType="text/plain", Content="hi", ClientToken="b1", ConnectionToken=renewed
    )
    assert first["Id"] == again["Id"] == later["Id"]
    assert len(aws.fake.chat_items(contact_id)) == 1


def test_the_customer_disconnecting_ends_the_chat(aws):
    """botocore DisconnectParticipant: "Disconnects a participant."; connect Contact.DisconnectTimestamp: "The date
    and time that the customer endpoint disconnected from the current contact". The contact ends when the customer
    disconnects (participant.left, then chat.ended on the stream; the fake's reason CUSTOMER_DISCONNECT). What an
    agent still sees afterwards (StartChatContact.DisconnectOnCustomerExit) is not modelled."""
    assert _operation("DisconnectParticipant").startswith("Disconnects a participant.")
    timestamp = CONNECT.shape_for("Contact").members["DisconnectTimestamp"].documentation
    assert "the customer endpoint disconnected from the current contact" in _text(timestamp)
    contact_id, token = aws.open_chat()
    aws.connect.start_contact_streaming(
        InstanceId="instance", ContactId=contact_id, ChatStreamingConfiguration=STREAM, ClientToken="s1"
    )
    aws.participant.disconnect_participant(ConnectionToken=token)
    assert [p.body["ContentType"] for p in aws.fake.published] == [PARTICIPANT_LEFT, CHAT_ENDED]
    assert aws.fake.contact(contact_id).ended_reason == "CUSTOMER_DISCONNECT"
    assert aws.fake.active_contacts() == []


def test_completing_an_upload_whose_file_never_arrived_is_refused(aws):
    """botocore CompleteAttachmentUpload: "Allows you to confirm that the attachment has been uploaded using the
    pre-signed URL provided in StartAttachmentUpload API." A confirmation before the upload: the error is not
    documented, the fake answers ValidationException ("The input fails to satisfy the constraints specified by Amazon
    Connect.") and shows nothing in the chat."""
    assert "confirm that the attachment has been uploaded" in _operation("CompleteAttachmentUpload")
    contact_id, token = aws.open_chat()
    started = _start_upload(aws, token)
    with pytest.raises(ClientError) as refused:
        _complete(aws, token, started["AttachmentId"])
    assert error_code(refused) == "ValidationException"
    assert aws.fake.chat_items(contact_id) == []
    _put(aws, started, b"png")
    _complete(aws, token, started["AttachmentId"], client_token="c2")
    assert [item.kind for item in aws.fake.chat_items(contact_id)] == ["attachment"]


def test_an_uploaded_file_of_another_size_than_declared_is_refused_on_completion(aws):
    """botocore StartAttachmentUpload.AttachmentSizeInBytes: "The size of the attachment in bytes." Whether Connect
    compares it with the file that arrives is not documented; the fake does, on completion (ValidationException), so
    the bridge must declare the size it uploads."""
    assert _member("StartAttachmentUpload", "AttachmentSizeInBytes") == "The size of the attachment in bytes."
    contact_id, token = aws.open_chat()
    started = _start_upload(aws, token, size=4)
    _put(aws, started, b"png")
    with pytest.raises(ClientError) as refused:
        _complete(aws, token, started["AttachmentId"])
    assert error_code(refused) == "ValidationException"
    assert aws.fake.chat_items(contact_id) == []


def test_completing_an_attachment_another_participant_or_chat_started_is_refused(aws):
    """botocore CompleteAttachmentUpload.AttachmentIds: "A list of unique identifiers for the attachments." — the ids
    StartAttachmentUpload gave this participant. What an id it did not give them answers is not documented: the fake
    answers ValidationException."""
    assert _member("CompleteAttachmentUpload", "AttachmentIds") == "A list of unique identifiers for the attachments."
    _, token = aws.open_chat()
    _, other_token = aws.open_chat()
    started = _start_upload(aws, other_token)
    _put(aws, started, b"png")
    for attachment_id in (started["AttachmentId"], "no-such-attachment"):
        with pytest.raises(ClientError) as refused:
            _complete(aws, token, attachment_id)
        assert error_code(refused) == "ValidationException"
    _complete(aws, other_token, started["AttachmentId"])


def test_get_attachment_serves_only_a_completed_attachment_of_the_same_chat(aws):
    """botocore GetAttachment: "Provides a pre-signed URL for download of a completed attachment. This is an
    asynchronous API for use with active contacts." An attachment not completed, of another chat or unknown: the
    error is not documented, the fake answers ValidationException."""
    assert "download of a completed attachment" in _operation("GetAttachment")
    _, token = aws.open_chat()
    _, other_token = aws.open_chat()
    pending = _start_upload(aws, token)
    _put(aws, pending, b"png")
    elsewhere = _start_upload(aws, other_token)
    _put(aws, elsewhere, b"png")
    _complete(aws, other_token, elsewhere["AttachmentId"])
    for attachment_id in (pending["AttachmentId"], elsewhere["AttachmentId"], "no-such-attachment"):
        with pytest.raises(ClientError) as refused:
            aws.participant.get_attachment(AttachmentId=attachment_id, ConnectionToken=token)
        assert error_code(refused) == "ValidationException"
    _complete(aws, token, pending["AttachmentId"])
    assert aws.participant.get_attachment(AttachmentId=pending["AttachmentId"], ConnectionToken=token)["Url"]


def test_a_download_url_lasts_5_to_300_seconds_as_asked_and_300_unless_asked(aws):
    """botocore GetAttachment.UrlExpiryInSeconds: model range `min` 5, `max` 300 (its text, "The expiration time of
    the URL in ISO timestamp", gives no default). botocore refuses below 5 before sending; above 300 the fake answers
    ValidationException (the model's error for input that breaks a constraint). Without it the fake's URL lasts 300
    seconds — the sources are silent on the default: the fake's choice, the longest allowed."""
    shape = PARTICIPANT.operation_model("GetAttachment").input_shape.members["UrlExpiryInSeconds"]
    assert (shape.metadata["min"], shape.metadata["max"]) == (5, 300) == (5, DOWNLOAD_URL_SECONDS)
    _, token = aws.open_chat()
    started = _start_upload(aws, token)
    _put(aws, started, b"png")
    _complete(aws, token, started["AttachmentId"])
    get = {"AttachmentId": started["AttachmentId"], "ConnectionToken": token}
    for asked, lasts in ((None, 300), (5, 5), (300, 300)):
        answer = aws.participant.get_attachment(**get, **({} if asked is None else {"UrlExpiryInSeconds": asked}))
        assert _seconds(answer["UrlExpiry"]) - aws.clock[0] == lasts
    with pytest.raises(ParamValidationError):
        aws.participant.get_attachment(**get, UrlExpiryInSeconds=4)
    with pytest.raises(ClientError) as refused:
        aws.participant.get_attachment(**get, UrlExpiryInSeconds=301)
    assert error_code(refused) == "ValidationException"
    url = aws.participant.get_attachment(**get, UrlExpiryInSeconds=5)["Url"]
    aws.clock[0] += 6
    with pytest.raises(RuntimeError, match="HTTP 403"):
        aws.fake.http_get(url)


def test_an_upload_url_expires_at_its_url_expiry_300_seconds_after_the_start(aws):
    """botocore UploadMetadata.UrlExpiry: "The expiration time of the URL in ISO timestamp."; Url: "the pre-signed URL
    that can be used for uploading the file to Amazon S3". How long Connect's upload URL lasts is not documented (no
    AWS source found): the fake's UPLOAD_URL_SECONDS, 300, the longest a GetAttachment URL may last. A PUT after it
    is refused as S3 refuses an expired pre-signed URL (403 AccessDenied, "Request has expired")."""
    metadata = PARTICIPANT.operation_model("StartAttachmentUpload").output_shape.members["UploadMetadata"]
    assert _text(metadata.members["UrlExpiry"].documentation).startswith("The expiration time of the URL")
    assert UPLOAD_URL_SECONDS == 300
    _, token = aws.open_chat()
    started = _start_upload(aws, token)
    assert _seconds(started["UploadMetadata"]["UrlExpiry"]) - aws.clock[0] == 300
    aws.clock[0] += 301
    with pytest.raises(RuntimeError, match="HTTP 403.*Request has expired"):
        _put(aws, started, b"png")


def test_an_upload_without_the_headers_to_include_is_refused_as_unsigned(aws):
    """botocore UploadMetadata.HeadersToInclude: "The headers to be provided while uploading the file to the URL."
    The fake's answer lists the Content-Type and signs it: an upload without it, or with another type, is refused as
    S3 refuses a request that does not match its signature (403 SignatureDoesNotMatch). Which headers Connect lists is
    not documented beyond this."""
    metadata = PARTICIPANT.operation_model("StartAttachmentUpload").output_shape.members["UploadMetadata"]
    documentation = _text(metadata.members["HeadersToInclude"].documentation)
    assert documentation == "The headers to be provided while uploading the file to the URL."
    _, token = aws.open_chat()
    started = _start_upload(aws, token)
    assert started["UploadMetadata"]["HeadersToInclude"] == {"Content-Type": "image/png"}
    for headers in ({}, {"Content-Type": "image/jpeg"}):
        with pytest.raises(RuntimeError, match="HTTP 403.*SignatureDoesNotMatch"):
            _put(aws, started, b"png", headers)
    _put(aws, started, b"png")
