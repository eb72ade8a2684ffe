"""Amazon Connect chat and Connect Participant rules the bridge relies on, each with its source."""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore.exceptions import ClientError, ParamValidationError

from sandbox.fakes import participant as fake_participant
from tests.contract.conftest import error_code
from whatsapp_buffer.inbound import attachments

CONNECT = botocore.session.get_session().get_service_model("connect")
PARTICIPANT = botocore.session.get_session().get_service_model("connectparticipant")

FEATURE_SPECIFICATIONS = (
    ".csv, .doc, .docx, .heic, .jfif, .jpeg, .jpg, .mov, .mp4, .pdf, .png, .ppt, .pptx, .rtf, .txt, .wav, .xls, .xlsx"
)
"""Amazon Connect Administrator Guide, "Amazon Connect feature specifications" (feature-limits.html): "File types
supported for attachments to cases, chats, or tasks | .csv, .doc, … .xlsx. Administrators can also configure custom
file extensions…" and "Maximum file size for an attachment to a case, chat, or task | 20 MB (configurable up to 100
MB)"; "Attachments per chat conversation | 35"."""
LISTED = {extension.strip() for extension in FEATURE_SPECIFICATIONS.split(",")}


def _doc(operation_model, member: str) -> str:
    return re.sub(r"<[^>]+>", "", operation_model.input_shape.members[member].documentation)


def _upload(aws, token, name, content_type, size=10, client_token="t"):
    return aws.participant.start_attachment_upload(
        ContentType=content_type,
        AttachmentSizeInBytes=size,
        AttachmentName=name,
        ClientToken=client_token,
        ConnectionToken=token,
    )


def test_the_fake_and_the_runtime_hold_exactly_connects_documented_attachment_extensions():
    """botocore StartAttachmentUpload.ContentType: "For a list of supported file types, see Feature specifications in
    the Amazon Connect Administrator Guide." (list quoted in FEATURE_SPECIFICATIONS)."""
    assert "Feature specifications" in _doc(PARTICIPANT.operation_model("StartAttachmentUpload"), "ContentType")
    assert set(fake_participant.ATTACHMENT_EXTENSIONS) == LISTED
    assert set(attachments.EXTENSION_FOR_TYPE.values()) | {".jpeg", ".jfif"} == LISTED
    assert fake_participant.MAX_ATTACHMENT_BYTES == attachments.MAX_ATTACHMENT_BYTES == 20_000_000


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.jpg", "image/jpeg"),
        ("a.pdf", "application/pdf"),
        ("a.mp4", "video/mp4"),
        ("a.wav", "audio/wav"),
        ("a.png", "image/png"),
    ],
)
def test_listed_attachment_types_are_accepted(aws, name, content_type):
    """Feature specifications: the listed extensions are accepted in chat."""
    _, token = aws.open_chat()
    assert _upload(aws, token, name, content_type)["AttachmentId"]
    assert attachments.refusal(content_type, 10) is None


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("v.ogg", "audio/ogg"),
        ("s.webp", "image/webp"),
        ("a.amr", "audio/amr"),
        ("v.3gp", "video/3gpp"),
        ("a.mp3", "audio/mpeg"),
        ("a.aac", "audio/aac"),
    ],
)
def test_whatsapp_media_outside_the_list_is_refused(aws, name, content_type):
    """Feature specifications list no .ogg, .webp, .amr, .3gp, .mp3 or .aac: WhatsApp voice notes, stickers and most
    audio are refused as they come. The error is not documented; botocore lists ValidationException and AWS's chat
    widget (amazon-connect-chat-interface ChatSession.js) treats it as final, so the fake answers that."""
    _, token = aws.open_chat()
    with pytest.raises(ClientError) as excinfo:
        _upload(aws, token, name, content_type)
    assert error_code(excinfo) == "ValidationException"
    assert attachments.refusal(content_type, 10) == attachments.TYPE_NOT_ACCEPTED


def test_an_attachment_over_20_mb_is_refused(aws):
    """Feature specifications: "20 MB" (read as 20,000,000 bytes, the stricter reading)."""
    _, token = aws.open_chat()
    _upload(aws, token, "ok.mp4", "video/mp4", size=20_000_000)
    with pytest.raises(ClientError) as excinfo:
        _upload(aws, token, "big.mp4", "video/mp4", size=20_000_001, client_token="t2")
    assert error_code(excinfo) == "ValidationException"
    assert attachments.refusal("video/mp4", 20_000_001) == attachments.TOO_LARGE


def test_the_36th_attachment_of_a_chat_exceeds_the_quota(aws):
    """Feature specifications: "Attachments per chat conversation | 35"; botocore ServiceQuotaExceededException: "The
    number of attachments per contact exceeds the quota."."""
    _, token = aws.open_chat()
    for n in range(35):
        _upload(aws, token, f"{n}.png", "image/png", client_token=f"t{n}")
    with pytest.raises(ClientError) as excinfo:
        _upload(aws, token, "36.png", "image/png", client_token="t36")
    assert error_code(excinfo) == "ServiceQuotaExceededException"


def test_send_message_content_is_limited_to_16384_bytes(aws):
    """botocore SendMessage.Content: "Maximum of 16,384 bytes for all content types … Some messaging channels enforce
    lower limits"; feature specifications, chat message size limits, Chat: customer to agent 16,384 bytes. (botocore
    up to 1.43.104 said 1,024 characters; the bridge still splits at 1,024 by default, safe with a Lex bot, which
    takes 1,024 characters.)"""
    assert "16,384 bytes" in _doc(PARTICIPANT.operation_model("SendMessage"), "Content")
    contact_id, token = aws.open_chat()
    aws.participant.send_message(ContentType="text/plain", Content="é" * 8192, ConnectionToken=token)
    with pytest.raises(ClientError) as excinfo:
        aws.participant.send_message(ContentType="text/plain", Content="é" * 8193, ConnectionToken=token)
    assert error_code(excinfo) == "ValidationException"
    assert len(aws.fake.chat_items(contact_id)) == 1


def test_the_connection_token_expires_after_one_day(aws):
    """botocore CreateParticipantConnection: "Expiry time for the connection token is 1 day." A stale token answers
    AccessDeniedException (the Participant Service authorises by token, not IAM)."""
    assert "Expiry time for the connection token is 1 day" in re.sub(
        r"<[^>]+>", "", PARTICIPANT.operation_model("CreateParticipantConnection").documentation
    )
    _, token = aws.open_chat()
    aws.clock[0] += 24 * 3600
    with pytest.raises(ClientError) as excinfo:
        aws.participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=token)
    assert error_code(excinfo) == "AccessDeniedException"


def test_every_participant_call_on_an_ended_chat_is_access_denied(aws):
    """No AWS page states it; the Connect maintainers (amazon-connect-chat-ui-examples#133: a 403 on
    CreateParticipantConnection because "the chat that you are trying to connect to has already been terminated") and
    practitioners ("Error::sendMessageToChat AccessDeniedException: Access denied" after chat.ended) report it, and
    the AWS sample starts a new chat on AccessDenied ("Chat expired — start a new one")."""
    contact_id, token = aws.open_chat()
    aws.fake.end_chat(contact_id)
    with pytest.raises(ClientError) as excinfo:
        aws.participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=token)
    assert error_code(excinfo) == "AccessDeniedException"


@pytest.mark.parametrize(("minutes", "accepted"), [(60, True), (10080, True), (10081, False)])
def test_chat_duration_is_60_to_10080_minutes(aws, minutes, accepted):
    """botocore StartChatContact.ChatDurationInMinutes: "The minimum configurable time is 60 minutes. The maximum
    configurable time is 10,080 minutes (7 days)." botocore itself refuses below its model `min` (60) before
    sending (ParamValidationError); it checks no maximum, so the fake does (InvalidParameterException)."""
    assert "10,080 minutes" in _doc(CONNECT.operation_model("StartChatContact"), "ChatDurationInMinutes")
    start = dict(
        InstanceId="i", ContactFlowId="f", ParticipantDetails={"DisplayName": "M"}, ChatDurationInMinutes=minutes
    )
    with pytest.raises(ParamValidationError):
        aws.connect.start_chat_contact(**{**start, "ChatDurationInMinutes": 59})
    if accepted:
        assert aws.connect.start_chat_contact(**start)["ContactId"]
    else:
        with pytest.raises(ClientError) as excinfo:
            aws.connect.start_chat_contact(**start)
        assert error_code(excinfo) == "InvalidParameterException"


def test_start_chat_contact_streams_from_the_first_moment_with_the_sdk_the_functions_ship():
    """botocore StartChatContact.ChatStreamingConfiguration: "Use it to initiate real-time message streaming when the
    chat is created … you do not need to call StartContactStreaming." It first appears in botocore 1.43.104 (absent
    from the 1.43.103 model); the functions run the botocore of the stack's SDK layer (runtime/requirements.txt),
    which this test process imports too."""
    assert "ChatStreamingConfiguration" in CONNECT.shape_for("StartChatContactRequest").members
    version = tuple(int(p) for p in botocore.__version__.split(".")[:3])
    assert version >= (1, 43, 104)


def test_the_first_connection_must_come_within_5_minutes_of_the_chat_start_and_renewals_any_time(aws):
    """botocore StartChatContact: "When a new chat contact is successfully created, clients must subscribe to the
    participant's connection for the created chat within 5 minutes." The consequence of being late is not documented
    (the fake answers AccessDeniedException). Renewals: StartChatContact.ParticipantToken — "valid for the lifetime of
    a chat participant"; the bridge connects right after the start and renews with that token when the day-long
    connection token nears its end."""
    started = aws.connect.start_chat_contact(InstanceId="i", ContactFlowId="f", ParticipantDetails={"DisplayName": "M"})
    aws.clock[0] += 301
    with pytest.raises(ClientError) as excinfo:
        aws.participant.create_participant_connection(
            Type=["CONNECTION_CREDENTIALS"], ParticipantToken=started["ParticipantToken"]
        )
    assert error_code(excinfo) == "AccessDeniedException"
    _, token = aws.open_chat()
    (contact,) = [c for c in aws.fake.active_contacts() if c.contact_id != started["ContactId"]]
    aws.clock[0] += 23 * 3600
    participant_token = aws.fake.chats.contacts[contact.contact_id].customer.token
    renewed = aws.participant.create_participant_connection(
        Type=["CONNECTION_CREDENTIALS"], ParticipantToken=participant_token
    )
    assert renewed["ConnectionCredentials"]["ConnectionToken"] != token


def test_a_start_retried_with_its_client_token_repeats_the_original_contact_even_past_its_first_connection(aws):
    """botocore StartChatContact.ConnectionTypes (1.44): "When you retry a request with the same ClientToken, the
    response repeats the original contact and can omit a websocket URL if the chat has already ended." How long
    Connect keeps a ClientToken is not documented (the fake keeps it for the whole replay). So a bridge whose first
    attempt died between the start and the connection gets that chat back on its retry, and past 5 minutes its first
    connection is refused (see above): the retry must start another chat under another token."""
    chat = {"InstanceId": "i", "ContactFlowId": "f", "ParticipantDetails": {"DisplayName": "M"}}
    started = aws.connect.start_chat_contact(**chat, ClientToken="burst-1")
    aws.clock[0] += 720
    again = aws.connect.start_chat_contact(**chat, ClientToken="burst-1")
    assert (again["ContactId"], again["ParticipantToken"]) == (started["ContactId"], started["ParticipantToken"])
    with pytest.raises(ClientError) as excinfo:
        aws.participant.create_participant_connection(
            Type=["CONNECTION_CREDENTIALS"], ParticipantToken=again["ParticipantToken"]
        )
    assert error_code(excinfo) == "AccessDeniedException"
    other = aws.connect.start_chat_contact(**chat, ClientToken="burst-1-after-unconnected")
    assert other["ContactId"] != started["ContactId"]
    aws.participant.create_participant_connection(
        Type=["CONNECTION_CREDENTIALS"], ParticipantToken=other["ParticipantToken"]
    )


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/vnd.amazonaws.connect.event.typing", True),
        ("application/vnd.amazonaws.connect.event.message.read", True),
        ("application/vnd.amazonaws.connect.event.participant.left", False),
        ("text/plain", False),
    ],
)
def test_send_event_takes_only_the_documented_event_types(aws, content_type, accepted):
    """botocore SendEvent.ContentType: "Supported types are: application/vnd.amazonaws.connect.event.typing,
    …connection.acknowledged, …message.delivered, …message.read". The bridge sends only the typing event."""
    documentation = _doc(PARTICIPANT.operation_model("SendEvent"), "ContentType")
    assert "application/vnd.amazonaws.connect.event.typing" in documentation
    _, token = aws.open_chat()
    if accepted:
        assert aws.participant.send_event(ContentType=content_type, ConnectionToken=token)["Id"]
        return
    with pytest.raises(ClientError) as excinfo:
        aws.participant.send_event(ContentType=content_type, ConnectionToken=token)
    assert error_code(excinfo) == "ValidationException"


def test_send_event_into_an_ended_chat_is_access_denied(aws):
    """A chat that ended answers AccessDeniedException (AWS_FACTS; the fake's token rule above)."""
    contact_id, token = aws.open_chat()
    aws.fake.end_chat(contact_id)
    with pytest.raises(ClientError) as excinfo:
        aws.participant.send_event(ContentType="application/vnd.amazonaws.connect.event.typing", ConnectionToken=token)
    assert error_code(excinfo) == "AccessDeniedException"


def test_update_contact_attributes_merges_under_the_start_rules_on_ongoing_and_ended_contacts(aws):
    """botocore UpdateContactAttributes: "You can create or update user-defined attributes for both ongoing and
    completed contacts" ... "You can have up to 32,768 UTF-8 bytes across all attributes for a contact. Attribute keys
    can include only alphanumeric, dash, and underscore characters." Whether an update is checked on its own or with
    the contact's attributes is not said; the fake checks the merged map (the stricter reading)."""
    doc = CONNECT.operation_model("UpdateContactAttributes").documentation
    assert "ongoing and completed contacts" in doc
    contact_id, _ = aws.open_chat()
    aws.connect.update_contact_attributes(
        InstanceId="instance", InitialContactId=contact_id, Attributes={"adSourceId": "1"}
    )
    aws.fake.end_chat(contact_id)
    aws.connect.update_contact_attributes(
        InstanceId="instance", InitialContactId=contact_id, Attributes={"adClickId": "C"}
    )
    attributes = aws.fake.chats.contacts[contact_id].attributes
    assert (attributes["adSourceId"], attributes["adClickId"]) == ("1", "C")
    for bad in ({"ad source": "x"}, {"big": "x" * 32768}):
        with pytest.raises(ClientError) as excinfo:
            aws.connect.update_contact_attributes(InstanceId="instance", InitialContactId=contact_id, Attributes=bad)
        assert error_code(excinfo) == "InvalidParameterException"
