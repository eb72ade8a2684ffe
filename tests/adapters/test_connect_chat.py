"""connect_chat: every request checked against the real Connect / Connect Participant models by Stubber."""

import pytest
import urllib3
from botocore.exceptions import ClientError

from tests.fixtures.stubbed import stubbed
from whatsapp_buffer.adapters import connect_chat
from whatsapp_buffer.adapters.connect_chat import RELATED_REFUSED, ConnectContacts, ConnectParticipant
from whatsapp_buffer.errors import (
    AttachmentRejected,
    ChatSessionGone,
    ContactNotFound,
    ContactNotStopped,
    PersistentChatRefused,
    RelatedChatRefused,
    TransientAwsError,
)
from whatsapp_buffer.inbound.chat_routing import ChatLink
from whatsapp_buffer.inbound.ports import ChatStart
from whatsapp_buffer.inbound.start_chat import start_chat_token

INSTANCE = "c800978e-fdc0-406e-bbb0-4f575f5842a6"
FLOW = "7d3e0a55-1111-4222-8333-444455556666"
TOPIC = "arn:aws:sns:us-east-1:123456789012:whatsapp-buffer-dev-out"


@pytest.fixture
def connect():
    with stubbed("connect") as stub:
        yield stub


@pytest.fixture
def participant():
    with stubbed("connectparticipant") as stub:
        yield stub


def contacts(client):
    return ConnectContacts(instance_id=INSTANCE, chat_duration_minutes=60, streaming_topic_arn=TOPIC, client=client)


def a_start(link: ChatLink | None = None) -> ChatStart:
    return ChatStart(contact_flow_id=FLOW, display_name="M", attributes={}, client_token="t", link=link or ChatLink())


def test_start_chat_streams_to_the_out_topic_from_the_first_moment(connect):
    client, stubber = connect
    stubber.add_response(
        "start_chat_contact",
        {"ContactId": "contact-1", "ParticipantId": "participant-1", "ParticipantToken": "ptoken-1"},
        {
            "InstanceId": INSTANCE,
            "ContactFlowId": FLOW,
            "ParticipantDetails": {"DisplayName": "Maria"},
            "Attributes": {"channel": "WhatsApp", "customer": "*******1111"},
            "ChatDurationInMinutes": 60,
            "ChatStreamingConfiguration": {"StreamingEndpointArn": TOPIC},
            "SupportedMessagingContentTypes": [
                "text/plain",
                "text/markdown",
                "application/vnd.amazonaws.connect.message.interactive",
            ],
            "ClientToken": "token-1",
        },
    )
    started = contacts(client).start_chat(
        ChatStart(
            contact_flow_id=FLOW,
            display_name="Maria",
            attributes={"channel": "WhatsApp", "customer": "*******1111"},
            client_token="token-1",
        )
    )
    assert (started.contact_id, started.participant_id, started.participant_token) == (
        "contact-1",
        "participant-1",
        "ptoken-1",
    )


def test_a_replacement_chat_is_linked_to_the_chat_it_replaces(connect):
    client, stubber = connect
    stubber.add_response(
        "start_chat_contact",
        {"ContactId": "contact-2", "ParticipantToken": "ptoken-2"},
        {
            "InstanceId": INSTANCE,
            "ContactFlowId": FLOW,
            "ParticipantDetails": {"DisplayName": "*******1111"},
            "Attributes": {},
            "ChatDurationInMinutes": 60,
            "ChatStreamingConfiguration": {"StreamingEndpointArn": TOPIC},
            "SupportedMessagingContentTypes": [
                "text/plain",
                "text/markdown",
                "application/vnd.amazonaws.connect.message.interactive",
            ],
            "ClientToken": "token-2",
            "RelatedContactId": "contact-1",
        },
    )
    started = contacts(client).start_chat(
        ChatStart(
            contact_flow_id=FLOW,
            display_name="*******1111",
            attributes={},
            client_token="token-2",
            link=ChatLink(related_to="contact-1"),
        )
    )
    assert started.contact_id == "contact-2"


def test_start_chat_throttled_is_transient(connect):
    client, stubber = connect
    stubber.add_client_error("start_chat_contact", "LimitExceededException", http_status_code=429)
    with pytest.raises(TransientAwsError):
        contacts(client).start_chat(a_start())


def test_start_chat_token_changes_with_the_replaced_contact_but_not_on_retry():
    assert start_chat_token("b1", None) == start_chat_token("b1", None)
    assert start_chat_token("b1", None) != start_chat_token("b1", "contact-1")
    assert start_chat_token("b1", "contact-1") != start_chat_token("b1", "contact-2")
    assert len(start_chat_token("b" * 64, "c" * 256)) <= 500


def test_start_chat_token_after_a_chat_that_could_not_be_connected_is_new_and_the_same_on_retry():
    after_unconnected = start_chat_token("b1", "contact-1", "contact-9")
    assert after_unconnected == start_chat_token("b1", "contact-1", "contact-9")
    assert after_unconnected not in {start_chat_token("b1", "contact-1"), start_chat_token("b1", "contact-9")}
    assert start_chat_token("b1", None, "contact-9") != start_chat_token("b1", "contact-9")


def test_connect_returns_the_connection_token_and_its_expiry(participant):
    client, stubber = participant
    stubber.add_response(
        "create_participant_connection",
        {"ConnectionCredentials": {"ConnectionToken": "ctoken-1", "Expiry": "2026-01-16T10:00:00.000Z"}},
        {"Type": ["CONNECTION_CREDENTIALS"], "ParticipantToken": "ptoken-1", "ConnectParticipant": True},
    )
    connection = ConnectParticipant(client).connect("ptoken-1")
    assert connection.token == "ctoken-1"
    assert connection.expires_at == 1768557600.0


def test_connect_with_an_ended_chat_means_the_session_is_gone(participant):
    client, stubber = participant
    stubber.add_client_error("create_participant_connection", "AccessDeniedException", http_status_code=403)
    with pytest.raises(ChatSessionGone):
        ConnectParticipant(client).connect("ptoken-1")


def test_send_text_uses_the_client_token(participant):
    client, stubber = participant
    stubber.add_response(
        "send_message",
        {"Id": "msg-1", "AbsoluteTime": "2026-01-15T10:00:00.000Z"},
        {"ContentType": "text/plain", "Content": "Hello", "ClientToken": "burst:0", "ConnectionToken": "ctoken-1"},
    )
    assert ConnectParticipant(client).send_text("ctoken-1", "Hello", "burst:0") == "msg-1"


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDeniedException", 403, ChatSessionGone),
        ("ThrottlingException", 429, TransientAwsError),
        ("InternalServerException", 500, TransientAwsError),
    ],
)
def test_send_text_failures_are_translated(participant, code, status, expected):
    client, stubber = participant
    stubber.add_client_error("send_message", code, http_status_code=status)
    with pytest.raises(expected):
        ConnectParticipant(client).send_text("ctoken-1", "Hello", "burst:0")


def test_send_attachment_uploads_with_connects_headers_then_completes(participant):
    client, stubber = participant
    uploads = []
    stubber.add_response(
        "start_attachment_upload",
        {
            "AttachmentId": "att-1",
            "UploadMetadata": {
                "Url": "https://upload.example/att-1",
                "UrlExpiry": "2026-01-15T10:05:00.000Z",
                "HeadersToInclude": {"Content-Type": "image/jpeg", "x-amz-meta-x": "1"},
            },
        },
        {
            "ContentType": "image/jpeg",
            "AttachmentSizeInBytes": 3,
            "AttachmentName": "image-1.jpg",
            "ClientToken": "burst:1",
            "ConnectionToken": "ctoken-1",
        },
    )
    stubber.add_response(
        "complete_attachment_upload",
        {},
        {"AttachmentIds": ["att-1"], "ClientToken": "burst:1", "ConnectionToken": "ctoken-1"},
    )
    adapter = ConnectParticipant(client, uploader=lambda url, headers, data: uploads.append((url, dict(headers), data)))
    assert adapter.send_attachment("ctoken-1", "image-1.jpg", "image/jpeg", b"abc", "burst:1") == "att-1"
    assert uploads == [("https://upload.example/att-1", {"Content-Type": "image/jpeg", "x-amz-meta-x": "1"}, b"abc")]


@pytest.mark.parametrize("code", ["ValidationException", "ServiceQuotaExceededException"])
def test_an_attachment_connect_refuses_is_rejected_without_upload(participant, code):
    client, stubber = participant
    stubber.add_client_error("start_attachment_upload", code, http_status_code=400)
    adapter = ConnectParticipant(client, uploader=lambda *args: pytest.fail("must not upload"))
    with pytest.raises(AttachmentRejected):
        adapter.send_attachment("ctoken-1", "x.exe", "application/x-msdownload", b"MZ", "burst:2")


def test_get_attachment_downloads_the_presigned_url(participant):
    client, stubber = participant
    stubber.add_response(
        "get_attachment",
        {"Url": "https://download.example/att-9", "UrlExpiry": "2026-01-15T10:05:00.000Z", "AttachmentSizeInBytes": 4},
        {"AttachmentId": "att-9", "ConnectionToken": "ctoken-1"},
    )
    adapter = ConnectParticipant(client, downloader=lambda url: {"https://download.example/att-9": b"%PDF"}[url])
    assert adapter.get_attachment("ctoken-1", "att-9") == b"%PDF"


def test_a_persistent_start_sends_the_previous_chat_as_entire_past_session_in_the_number_s_flow(connect):
    """botocore PersistentChat.RehydrationType ENTIRE_PAST_SESSION: "provide the initialContactId of the past ended
    chat session in the sourceContactId field"; the answer's ContinuedFromContactId is "populated only for persistent
    chats"."""
    client, stubber = connect
    stubber.add_response(
        "start_chat_contact",
        {"ContactId": "contact-2", "ParticipantToken": "ptoken-2", "ContinuedFromContactId": "contact-1"},
        {
            "InstanceId": INSTANCE,
            "ContactFlowId": "8e4f1b66-2222-4333-8444-555566667777",
            "ParticipantDetails": {"DisplayName": "Maria"},
            "Attributes": {},
            "ChatDurationInMinutes": 60,
            "ChatStreamingConfiguration": {"StreamingEndpointArn": TOPIC},
            "SupportedMessagingContentTypes": [
                "text/plain",
                "text/markdown",
                "application/vnd.amazonaws.connect.message.interactive",
            ],
            "ClientToken": "token-2",
            "PersistentChat": {"RehydrationType": "ENTIRE_PAST_SESSION", "SourceContactId": "contact-1"},
        },
    )
    started = contacts(client).start_chat(
        ChatStart(
            display_name="Maria",
            attributes={},
            client_token="token-2",
            contact_flow_id="8e4f1b66-2222-4333-8444-555566667777",
            link=ChatLink(continue_from="contact-1"),
        )
    )
    assert (started.contact_id, started.continued_from) == ("contact-2", "contact-1")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InvalidRequestException", 400),
        ("InvalidParameterException", 400),
        ("ResourceNotFoundException", 404),
        ("InternalServiceException", 500),
        ("LimitExceededException", 429),
    ],
)
def test_any_refusal_of_a_persistent_start_is_persistent_chat_refused(connect, code, status):
    """No error code is documented for a refused rehydration: every error StartChatContact declares is one."""
    client, stubber = connect
    stubber.add_client_error("start_chat_contact", service_error_code=code, http_status_code=status)

    with pytest.raises(PersistentChatRefused, match=code):
        contacts(client).start_chat(a_start(ChatLink(continue_from="contact-1")))


@pytest.mark.parametrize(("code", "status"), [("InvalidRequestException", 400), ("ResourceNotFoundException", 404)])
def test_a_plain_start_refused_stays_the_sdk_error_neither_a_persistent_nor_a_related_refusal(connect, code, status):
    client, stubber = connect
    stubber.add_client_error("start_chat_contact", service_error_code=code, http_status_code=status)

    with pytest.raises(ClientError):
        contacts(client).start_chat(a_start())


@pytest.mark.parametrize("code", sorted(RELATED_REFUSED))
def test_a_related_start_connect_refuses_is_related_chat_refused_naming_the_code(connect, code):
    """StartChatContact declares InvalidRequestException, InvalidParameterException and ResourceNotFoundException
    (botocore's connect model); IdempotentParameterMismatchException is other AWS APIs' name for a reused token."""
    client, stubber = connect
    stubber.add_client_error("start_chat_contact", service_error_code=code, http_status_code=400)

    with pytest.raises(RelatedChatRefused) as refused:
        contacts(client).start_chat(a_start(ChatLink(related_to="contact-1")))

    assert refused.value.code == code


def test_a_related_start_failing_otherwise_is_not_taken_for_a_refused_link(connect):
    client, stubber = connect
    stubber.add_client_error("start_chat_contact", service_error_code="LimitExceededException", http_status_code=429)
    stubber.add_client_error("start_chat_contact", service_error_code="SomeNewException", http_status_code=400)

    with pytest.raises(TransientAwsError):
        contacts(client).start_chat(a_start(ChatLink(related_to="contact-1")))
    with pytest.raises(ClientError):
        contacts(client).start_chat(a_start(ChatLink(related_to="contact-1")))


def test_stopping_a_contact_connect_no_longer_has_is_contact_not_found(connect):
    """botocore's connect model: StopContact declares ContactNotFoundException ("The contact with the specified ID
    does not exist")."""
    client, stubber = connect
    stubber.add_client_error("stop_contact", service_error_code="ContactNotFoundException", http_status_code=410)

    with pytest.raises(ContactNotFound):
        contacts(client).stop("contact-1")


@pytest.mark.parametrize(
    "code",
    [
        "InvalidRequestException",
        "InvalidParameterException",
        "ResourceNotFoundException",
        "InvalidActiveRegionException",
    ],
)
def test_a_stop_connect_refuses_otherwise_is_contact_not_stopped(connect, code):
    client, stubber = connect
    stubber.add_client_error("stop_contact", service_error_code=code, http_status_code=400)

    with pytest.raises(ContactNotStopped, match=code):
        contacts(client).stop("contact-1")


def test_a_stop_throttled_or_failing_on_connects_side_stays_transient(connect):
    client, stubber = connect
    stubber.add_client_error("stop_contact", service_error_code="InternalServiceException", http_status_code=500)

    with pytest.raises(TransientAwsError):
        contacts(client).stop("contact-1")


@pytest.mark.parametrize(
    "failure",
    [
        urllib3.exceptions.MaxRetryError(None, "https://upload.example/att-1", reason="connection refused"),
        urllib3.exceptions.ProtocolError("Connection aborted."),
        urllib3.exceptions.ReadTimeoutError(None, "https://upload.example/att-1", "Read timed out."),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_a_presigned_url_that_gets_no_answer_is_transient_like_any_unreachable_service(monkeypatch, failure):
    """The pre-signed upload and download go through urllib3, not botocore: a connection that fails after urllib3's
    own retries is what `aws_errors.NETWORK_ERRORS` are for Connect's API calls, a TransientAwsError."""

    class Unreachable:
        def request(self, *_, **__):
            raise failure

    monkeypatch.setattr(connect_chat, "_pool", Unreachable)
    with pytest.raises(TransientAwsError, match="upload") as raised:
        connect_chat.http_put("https://upload.example/att-1", {"Content-Type": "application/pdf"}, b"%PDF")
    assert raised.value.__cause__ is failure
    with pytest.raises(TransientAwsError, match="download"):
        connect_chat.http_get("https://download.example/att-9")
