"""The fake Connect / Connect Participant / End User Messaging Social, driven by unmodified boto3 clients."""

from __future__ import annotations

import base64
import json
import uuid
from functools import partial

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.fakes import transcribe as transcribe_wire
from sandbox.fakes.chat import (
    ATTACHMENT_CONTENT_TYPE,
    CHAT_ENDED,
    PARTICIPANT_JOINED,
    PARTICIPANT_LEFT,
    ContactNotActive,
)
from sandbox.fakes.rest_json import RestJsonRouter
from sandbox.fakes.services import FakeServices

INSTANCE = "sandbox-instance"
FLOW = "flow-1"
TOPIC = "arn:aws:sns:us-east-1:123456789012:out-topic"
NUMBER = "phone-number-id-0123456789abcdef"

# What Connect publishes to the streaming topic. Source: Amazon Connect Administrator Guide, "Use the Amazon SNS
# payload after enabling message streaming" (sns-payload.html: body fields and message attributes), and
# amazon-connect-chatjs docs/ChatAttachmentsFeature.md for the ATTACHMENT body. Ids shortened.
SAMPLE_CUSTOMER_MESSAGE = {
    "message": {
        "AbsoluteTime": "2021-09-08T18:28:04.424Z",
        "Content": "hi there",
        "ContentType": "text/plain",
        "Id": "cccccccc-cccc-cccc-cccc-cccccccccccc",
        "Type": "MESSAGE",
        "ParticipantId": "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb",
        "DisplayName": "Jane",
        "ParticipantRole": "CUSTOMER",
        "InitialContactId": "33333333-3333-3333-3333-333333333333",
        "ContactId": "33333333-3333-3333-3333-333333333333",
    },
    "attributes": {
        "InitialContactId": "33333333-3333-3333-3333-333333333333",
        "MessageVisibility": "ALL",
        "Type": "MESSAGE",
        "AccountId": "999999999999",
        "ContentType": "text/plain",
        "InstanceId": "dddddddd-dddd-dddd-dddd-dddddddddddd",
        "ContactId": "33333333-3333-3333-3333-333333333333",
        "ParticipantRole": "CUSTOMER",
    },
}
SAMPLE_AGENT_MESSAGE = {
    "message": {
        **SAMPLE_CUSTOMER_MESSAGE["message"],
        "Content": "Hi, I'm Ana",
        "DisplayName": "Ana",
        "ParticipantRole": "AGENT",
    },
    "attributes": {**SAMPLE_CUSTOMER_MESSAGE["attributes"], "ParticipantRole": "AGENT"},
}
SAMPLE_ATTACHMENT = {
    "message": {
        "AbsoluteTime": "2025-05-24T21:42:55.867Z",
        "Attachments": [
            {
                "ContentType": "image/png",
                "AttachmentId": "asdfasdfasdfsadf",
                "AttachmentName": "Screenshot.png",
                "Status": "APPROVED",
            }
        ],
        "Id": "86a061a2-f99c-4691-a63e-47d145628a80",
        "Type": "ATTACHMENT",
        "ParticipantId": "4393212f-4481-4c7d-8184-5be9d811d7ce",
        "DisplayName": "Ana",
        "ParticipantRole": "AGENT",
        "InitialContactId": "f50e4cc0-b825-4da7-849a-27fa75f993de",
        "ContactId": "f50e4cc0-b825-4da7-849a-27fa75f993de",
    },
    "attributes": {
        **SAMPLE_CUSTOMER_MESSAGE["attributes"],
        "Type": "ATTACHMENT",
        "ContentType": ATTACHMENT_CONTENT_TYPE,
    },
}
SAMPLE_PARTICIPANT_EVENT = {
    "message": {
        "AbsoluteTime": "2021-09-08T18:30:00.000Z",
        "ContentType": PARTICIPANT_LEFT,
        "Id": "eeeeeeee-eeee-eeee-eeee-eeeeeeeeeeee",
        "Type": "EVENT",
        "ParticipantId": "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa",
        "DisplayName": "Ana",
        "ParticipantRole": "AGENT",
        "InitialContactId": "33333333-3333-3333-3333-333333333333",
        "ContactId": "33333333-3333-3333-3333-333333333333",
    },
    "attributes": {**SAMPLE_CUSTOMER_MESSAGE["attributes"], "Type": "EVENT", "ContentType": PARTICIPANT_LEFT},
}
# chat.ended names no participant (as in the Connect chat SDKs' ended event), so neither does its attribute set.
SAMPLE_CHAT_ENDED = {
    "message": {
        "AbsoluteTime": "2021-09-08T18:30:00.000Z",
        "ContentType": CHAT_ENDED,
        "Id": "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "Type": "EVENT",
        "InitialContactId": "33333333-3333-3333-3333-333333333333",
        "ContactId": "33333333-3333-3333-3333-333333333333",
    },
    "attributes": {
        key: value for key, value in SAMPLE_PARTICIPANT_EVENT["attributes"].items() if key != "ParticipantRole"
    }
    | {"ContentType": CHAT_ENDED},
}

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict, dict[str, str]]] = []

    def __call__(self, topic_arn: str, message: str, attributes: dict[str, str]) -> None:
        self.events.append((topic_arn, json.loads(message), attributes))

    def of_type(self, content_type: str) -> list[tuple[str, dict, dict[str, str]]]:
        return [e for e in self.events if e[2]["ContentType"] == content_type]


@pytest.fixture
def published() -> Recorder:
    return Recorder()


@pytest.fixture
def s3(moto_endpoint):
    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def fake(clock, published, s3):
    services = FakeServices(clock, published, s3_client=s3, instance_ids=[INSTANCE], max_attachment_bytes=1000)
    services.start()
    yield services
    services.stop()


def _client(name: str, fake: FakeServices):
    return boto3.client(name, endpoint_url=fake.url, region_name="us-east-1", config=NO_RETRIES)


@pytest.fixture
def connect(fake):
    return _client("connect", fake)


@pytest.fixture
def participant(fake):
    return _client("connectparticipant", fake)


@pytest.fixture
def social(fake):
    return _client("socialmessaging", fake)


def start_chat(connect, *, token: str | None = None, streaming: bool = True, minutes: int = 60) -> dict:
    request = {
        "InstanceId": INSTANCE,
        "ContactFlowId": FLOW,
        "ParticipantDetails": {"DisplayName": "Jane"},
        "Attributes": {"customer": "*******1111"},
        "ChatDurationInMinutes": minutes,
        "ClientToken": token or str(uuid.uuid4()),
    }
    if streaming:
        request["ChatStreamingConfiguration"] = {"StreamingEndpointArn": TOPIC}
    return connect.start_chat_contact(**request)


def connect_customer(participant, participant_token: str) -> str:
    response = participant.create_participant_connection(
        Type=["CONNECTION_CREDENTIALS"], ParticipantToken=participant_token, ConnectParticipant=True
    )
    return response["ConnectionCredentials"]["ConnectionToken"]


def open_chat(connect, participant) -> tuple[str, str]:
    started = start_chat(connect)
    return started["ContactId"], connect_customer(participant, started["ParticipantToken"])


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


def status_of(excinfo: pytest.ExceptionInfo[ClientError]) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ---------------------------------------------------------------- routing and wire format


def test_the_three_services_share_one_port_and_each_served_operation_routes_to_itself(fake):
    router = RestJsonRouter(["connect", "connectparticipant", "socialmessaging"])
    for service, operation in fake._operations:
        if service == "transcribe":  # smithy-rpc-v2-cbor / json: routed by operation name (next test)
            continue
        model = router.operation(service, operation)
        found = router.match(model.http["method"], model.http["requestUri"])
        assert found is not None and (found[0].service, found[0].operation.name) == (service, operation)


def test_transcribe_is_served_on_the_same_port_by_its_json_target_and_its_cbor_path(fake, monkeypatch):
    # GIVEN an unmodified Transcribe client pointed at the fake by the standard variable
    for name, value in fake.endpoint_env().items():
        monkeypatch.setenv(name, value)
    transcribe = boto3.client("transcribe", region_name="us-east-1")
    # WHEN it reads a job that does not exist, over HTTP
    with pytest.raises(transcribe.exceptions.NotFoundException):
        transcribe.get_transcription_job(TranscriptionJobName="nobody")
    # THEN the fake answered it (json: X-Amz-Target), as it answers the rpc-v2-cbor path
    assert [c.operation for c in fake.calls_to("GetTranscriptionJob")] == ["GetTranscriptionJob"]
    response = urllib3.PoolManager().request(
        "POST",
        f"{fake.url}/service/Transcribe/operation/GetTranscriptionJob",
        body=b"\xa1\x74TranscriptionJobName\x66nobody",  # CBOR {"TranscriptionJobName": "nobody"}
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"},
    )
    assert response.status == 404 and response.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert transcribe_wire.decode(transcribe_wire.CBOR, response.data)["__type"] == "NotFoundException"


def test_errors_use_the_rest_json_wire_format(fake):
    # GIVEN a raw HTTP client, no botocore in between
    http = urllib3.PoolManager()
    # WHEN a participant call comes with a token the fake never issued
    response = http.request(
        "POST",
        f"{fake.url}/participant/message",
        body=json.dumps({"ContentType": "text/plain", "Content": "hi", "ClientToken": "t"}),
        headers={"X-Amz-Bearer": "nope", "Content-Type": "application/json"},
    )
    # THEN status, x-amzn-ErrorType header and a JSON body with message, as AWS answers
    assert response.status == 403
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert "message" in json.loads(response.data)


def test_unmodified_clients_reach_the_fake_through_the_endpoint_environment_variables(fake, monkeypatch):
    # GIVEN only the standard per-service endpoint variables
    for name, value in fake.endpoint_env().items():
        monkeypatch.setenv(name, value)
    # WHEN clients are created without endpoint_url
    connect = boto3.client("connect", region_name="us-east-1")
    participant = boto3.client("connectparticipant", region_name="us-east-1")
    social = boto3.client("socialmessaging", region_name="us-east-1")
    # THEN all three talk to the fake
    contact_id, token = open_chat(connect, participant)
    participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=token)
    social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER,
        message=json.dumps(
            {"messaging_product": "whatsapp", "to": "15550001111", "type": "text", "text": {"body": "x"}}
        ),
        metaApiVersion="v20.0",
    )
    assert [item.content for item in fake.chat_items(contact_id)] == ["hi"]
    assert len(fake.whatsapp_sent) == 1


def test_stop_closes_the_port(clock):
    # GIVEN a started fake
    services = FakeServices(clock)
    url = services.start()
    # WHEN it stops
    services.stop()
    # THEN nothing answers there any more
    with pytest.raises(urllib3.exceptions.HTTPError):
        urllib3.PoolManager(retries=False).request("POST", f"{url}/contact/stop", timeout=1)


# ---------------------------------------------------------------- chat lifecycle


def test_full_chat_lifecycle_records_calls_messages_and_streaming_events(fake, connect, participant, published, clock):
    # GIVEN a chat started with streaming and a connected customer
    started = start_chat(connect)
    contact_id = started["ContactId"]
    token = connect_customer(participant, started["ParticipantToken"])
    # WHEN the customer writes, the agent answers and ends the chat
    clock.advance(2)
    sent = participant.send_message(
        ContentType="text/plain", Content="Hello\nHow are you?", ClientToken="b1:0", ConnectionToken=token
    )
    clock.advance(5)
    fake.agent_message(contact_id, "Hi, I'm Ana")
    clock.advance(5)
    fake.end_chat(contact_id)
    # THEN the chat shows both messages in order, with the customer's ClientToken
    items = fake.chat_items(contact_id)
    assert [(i.participant_role, i.content, i.client_token) for i in items] == [
        ("CUSTOMER", "Hello\nHow are you?", "b1:0"),
        ("AGENT", "Hi, I'm Ana", None),
    ]
    assert items[0].message_id == sent["Id"]
    # AND every call is recorded with its virtual time
    assert [(c.operation, c.error) for c in fake.calls] == [
        ("StartChatContact", None),
        ("CreateParticipantConnection", None),
        ("SendMessage", None),
    ]
    assert fake.calls[2].at == clock.now - 10
    assert fake.calls[2].params["ConnectionToken"] == token
    # AND streaming carried: customer joined, customer echo, agent joined, agent message, agent left, chat ended
    assert [
        (body["Type"], attrs["ContentType"], body.get("ParticipantRole")) for _, body, attrs in published.events
    ] == [
        ("EVENT", PARTICIPANT_JOINED, "CUSTOMER"),
        ("MESSAGE", "text/plain", "CUSTOMER"),
        ("EVENT", PARTICIPANT_JOINED, "AGENT"),
        ("MESSAGE", "text/plain", "AGENT"),
        ("EVENT", PARTICIPANT_LEFT, "AGENT"),
        ("EVENT", CHAT_ENDED, None),
    ]
    assert {topic for topic, _, _ in published.events} == {TOPIC}
    assert fake.active_contacts() == []
    assert fake.contact(contact_id).ended_reason == "AGENT_DISCONNECT"


def test_same_client_token_returns_the_same_contact(fake, connect):
    # GIVEN a chat started with a ClientToken
    first = start_chat(connect, token="conv-1:burst-1")
    # WHEN the same StartChatContact is retried
    second = start_chat(connect, token="conv-1:burst-1")
    # THEN it is the same contact, and only one exists
    assert (second["ContactId"], second["ParticipantToken"]) == (first["ContactId"], first["ParticipantToken"])
    assert len(fake.contacts()) == 1


def test_redelivered_message_with_the_same_client_token_is_shown_once(fake, connect, participant, published):
    # GIVEN a connected customer who sent a message
    contact_id, token = open_chat(connect, participant)
    first = participant.send_message(
        ContentType="text/plain", Content="Hello", ClientToken="b1:0", ConnectionToken=token
    )
    # WHEN the same message is sent again with the same ClientToken (a redelivered burst)
    again = participant.send_message(
        ContentType="text/plain", Content="Hello", ClientToken="b1:0", ConnectionToken=token
    )
    # THEN the chat shows it once and the answer is the first one
    assert again["Id"] == first["Id"]
    assert len(fake.chat_items(contact_id)) == 1
    assert [call.replayed for call in fake.calls_to("SendMessage")] == [False, True]
    assert len([e for e in published.events if e[1]["Type"] == "MESSAGE"]) == 1


def test_client_token_is_remembered_across_a_refreshed_connection(fake, connect, participant):
    # GIVEN a message sent on one connection
    started = start_chat(connect)
    first_token = connect_customer(participant, started["ParticipantToken"])
    participant.send_message(ContentType="text/plain", Content="Hello", ClientToken="b1:0", ConnectionToken=first_token)
    # WHEN the bridge reconnects and retries the same delivery
    second_token = connect_customer(participant, started["ParticipantToken"])
    participant.send_message(
        ContentType="text/plain", Content="Hello", ClientToken="b1:0", ConnectionToken=second_token
    )
    # THEN the chat still shows it once (the token belongs to the participant, not to one connection)
    assert len(fake.chat_items(started["ContactId"])) == 1


def test_unknown_instance_is_resource_not_found(connect):
    with pytest.raises(ClientError) as excinfo:
        connect.start_chat_contact(
            InstanceId="other-instance", ContactFlowId=FLOW, ParticipantDetails={"DisplayName": "Jane"}
        )
    assert (error_code(excinfo), status_of(excinfo)) == ("ResourceNotFoundException", 404)


def test_without_a_configured_instance_list_any_instance_exists(clock):
    # GIVEN a fake built the way the sandbox builds it (through sandbox.fakes, no instance list)
    from sandbox.fakes import FakeServices

    with FakeServices(clock=clock, s3_client=None, publish=None) as services:
        # WHEN a chat starts on whatever instance the stack names
        started = start_chat(_client("connect", services))
    # THEN it exists on that instance
    assert services.contact(started["ContactId"]).instance_id == INSTANCE


def test_chat_duration_outside_connect_bounds_is_rejected(connect):
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect, minutes=10081)
    assert error_code(excinfo) == "InvalidParameterException"


def test_every_participant_call_after_end_chat_is_access_denied(fake, connect, participant):
    # GIVEN a chat the agent has ended
    started = start_chat(connect)
    token = connect_customer(participant, started["ParticipantToken"])
    fake.end_chat(started["ContactId"])
    # WHEN the bridge keeps using its tokens
    calls = [
        lambda: participant.send_message(ContentType="text/plain", Content="still there?", ConnectionToken=token),
        lambda: participant.create_participant_connection(
            Type=["CONNECTION_CREDENTIALS"], ParticipantToken=started["ParticipantToken"], ConnectParticipant=True
        ),
        lambda: participant.start_attachment_upload(
            ContentType="image/png",
            AttachmentSizeInBytes=3,
            AttachmentName="a.png",
            ClientToken="x",
            ConnectionToken=token,
        ),
    ]
    # THEN each answer is AccessDeniedException, Connect's sign that a new chat is needed
    for call in calls:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert (error_code(excinfo), status_of(excinfo)) == ("AccessDeniedException", 403)
    # AND the agent cannot write into it either
    with pytest.raises(ContactNotActive):
        fake.agent_message(started["ContactId"], "hello?")


def test_chat_whose_duration_elapsed_is_ended_in_virtual_time(fake, connect, participant, published, clock):
    # GIVEN a 60-minute chat
    started_at = clock.now
    contact_id, token = open_chat(connect, participant)
    # WHEN virtual time passes the duration
    clock.advance(60 * 60 + 1)
    # THEN the next call is denied and chat.ended carries the moment the duration ran out
    with pytest.raises(ClientError) as excinfo:
        participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=token)
    assert error_code(excinfo) == "AccessDeniedException"
    ended = published.of_type(CHAT_ENDED)
    assert len(ended) == 1
    assert ended[0][1]["AbsoluteTime"] == "2025-06-15T16:06:40.000Z"
    assert fake.contact(contact_id).ended_at == started_at + 3600
    assert fake.contact(contact_id).ended_reason == "EXPIRED"


def test_tick_ends_due_chats_without_any_api_call(fake, connect, published, clock):
    # GIVEN a 60-minute chat and no traffic
    contact_id = start_chat(connect)["ContactId"]
    clock.advance(3599)
    assert fake.tick() == []
    # WHEN the duration elapses and the sandbox lets time pass
    clock.advance(1)
    # THEN the chat ends and chat.ended is published
    assert fake.tick() == [contact_id]
    assert len(published.of_type(CHAT_ENDED)) == 1


def test_expired_connection_token_is_denied_until_the_connection_is_refreshed(fake, connect, participant, clock):
    # GIVEN a connection whose credentials expire after a day
    started = start_chat(connect, minutes=3000)
    token = connect_customer(participant, started["ParticipantToken"])
    # WHEN a day passes
    clock.advance(24 * 3600)
    # THEN the old token is denied, and a new connection works
    with pytest.raises(ClientError) as excinfo:
        participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=token)
    assert error_code(excinfo) == "AccessDeniedException"
    fresh = connect_customer(participant, started["ParticipantToken"])
    participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=fresh)
    assert len(fake.chat_items(started["ContactId"])) == 1


def test_connection_expiry_is_iso8601_from_the_virtual_clock(connect, participant, clock):
    started = start_chat(connect)
    response = participant.create_participant_connection(
        Type=["CONNECTION_CREDENTIALS"], ParticipantToken=started["ParticipantToken"], ConnectParticipant=True
    )
    assert response["ConnectionCredentials"]["Expiry"] == "2025-06-16T15:06:40.000Z"


def test_customer_disconnect_ends_the_chat(fake, connect, participant, published):
    contact_id, token = open_chat(connect, participant)
    participant.disconnect_participant(ConnectionToken=token)
    assert fake.active_contacts() == []
    left = published.of_type(PARTICIPANT_LEFT)
    assert [body["ParticipantRole"] for _, body, _ in left] == ["CUSTOMER"]
    assert len(published.of_type(CHAT_ENDED)) == 1


# ---------------------------------------------------------------- attachments


def upload(participant, token: str, data: bytes, *, name="photo.jpg", content_type="image/jpeg"):
    started = participant.start_attachment_upload(
        ContentType=content_type,
        AttachmentSizeInBytes=len(data),
        AttachmentName=name,
        ClientToken="b1:1",
        ConnectionToken=token,
    )
    metadata = started["UploadMetadata"]
    response = urllib3.PoolManager().request("PUT", metadata["Url"], body=data, headers=metadata["HeadersToInclude"])
    return started, response


def test_attachment_upload_and_download_round_trip(fake, connect, participant, published):
    # GIVEN a connected customer
    contact_id, token = open_chat(connect, participant)
    data = bytes(range(256)) * 2
    # WHEN the bridge uploads through the pre-signed URL and completes the upload
    started, put = upload(participant, token, data)
    assert put.status == 200
    participant.complete_attachment_upload(
        AttachmentIds=[started["AttachmentId"]], ClientToken="b1:1", ConnectionToken=token
    )
    # THEN the chat shows the attachment, streaming announces it, and GetAttachment serves the same bytes
    [item] = fake.chat_items(contact_id)
    assert (item.kind, item.attachment_name, item.content_type, item.size, item.client_token) == (
        "attachment",
        "photo.jpg",
        "image/jpeg",
        512,
        "b1:1",
    )
    [(_, body, attrs)] = [e for e in published.events if e[1]["Type"] == "ATTACHMENT"]
    assert body["Attachments"][0]["AttachmentId"] == started["AttachmentId"]
    got = participant.get_attachment(AttachmentId=started["AttachmentId"], ConnectionToken=token)
    assert got["AttachmentSizeInBytes"] == 512
    assert urllib3.PoolManager().request("GET", got["Url"]).data == data


def test_agent_attachment_is_downloadable_by_the_customer_connection(fake, connect, participant, published):
    contact_id, token = open_chat(connect, participant)
    attachment_id = fake.agent_attachment(contact_id, "invoice.pdf", "application/pdf", b"%PDF-1.4 fake")
    [(_, body, attrs)] = [e for e in published.events if e[1]["Type"] == "ATTACHMENT"]
    assert (body["ParticipantRole"], attrs["MessageVisibility"]) == ("AGENT", "ALL")
    url = participant.get_attachment(AttachmentId=attachment_id, ConnectionToken=token)["Url"]
    assert urllib3.PoolManager().request("GET", url).data == b"%PDF-1.4 fake"


def test_attachment_type_not_allowed_is_a_validation_error(connect, participant):
    _, token = open_chat(connect, participant)
    with pytest.raises(ClientError) as excinfo:
        participant.start_attachment_upload(
            ContentType="application/x-msdownload",
            AttachmentSizeInBytes=10,
            AttachmentName="virus.exe",
            ClientToken="t",
            ConnectionToken=token,
        )
    assert error_code(excinfo) == "ValidationException"


def test_completing_an_attachment_that_was_never_uploaded_fails(fake, connect, participant):
    contact_id, token = open_chat(connect, participant)
    started = participant.start_attachment_upload(
        ContentType="image/jpeg",
        AttachmentSizeInBytes=3,
        AttachmentName="a.jpg",
        ClientToken="t",
        ConnectionToken=token,
    )
    with pytest.raises(ClientError) as excinfo:
        participant.complete_attachment_upload(
            AttachmentIds=[started["AttachmentId"]], ClientToken="t", ConnectionToken=token
        )
    assert error_code(excinfo) == "ValidationException"
    assert fake.chat_items(contact_id) == []


def test_upload_url_expires_in_virtual_time(connect, participant, clock):
    _, token = open_chat(connect, participant)
    started = participant.start_attachment_upload(
        ContentType="image/jpeg",
        AttachmentSizeInBytes=3,
        AttachmentName="a.jpg",
        ClientToken="t",
        ConnectionToken=token,
    )
    clock.advance(301)
    metadata = started["UploadMetadata"]
    response = urllib3.PoolManager().request("PUT", metadata["Url"], body=b"abc", headers=metadata["HeadersToInclude"])
    assert response.status == 403


def test_upload_without_the_signed_content_type_is_refused(connect, participant):
    _, token = open_chat(connect, participant)
    started = participant.start_attachment_upload(
        ContentType="image/jpeg",
        AttachmentSizeInBytes=3,
        AttachmentName="a.jpg",
        ClientToken="t",
        ConnectionToken=token,
    )
    response = urllib3.PoolManager().request("PUT", started["UploadMetadata"]["Url"], body=b"abc")
    assert response.status == 403


# ---------------------------------------------------------------- streaming


def _shape(event: dict) -> tuple[set[str], set[str]]:
    return set(event["message"]), set(event["attributes"])


def test_streaming_messages_have_the_documented_shape(fake, connect, participant, published):
    # GIVEN a chat with a customer message, an agent message, an agent attachment and the agent ending the chat
    contact_id, token = open_chat(connect, participant)
    participant.send_message(ContentType="text/plain", Content="hi there", ConnectionToken=token)
    fake.agent_message(contact_id, "Hi, I'm Ana")
    fake.agent_attachment(contact_id, "Screenshot.png", "image/png", b"png")
    fake.end_chat(contact_id)
    events = [{"message": body, "attributes": attrs} for _, body, attrs in published.events]
    by_kind = {
        (e["message"]["Type"], e["attributes"]["ContentType"], e["message"].get("ParticipantRole")): e for e in events
    }
    # THEN each has exactly the documented body fields and message attributes
    assert _shape(by_kind[("MESSAGE", "text/plain", "CUSTOMER")]) == _shape(SAMPLE_CUSTOMER_MESSAGE)
    assert _shape(by_kind[("MESSAGE", "text/plain", "AGENT")]) == _shape(SAMPLE_AGENT_MESSAGE)
    assert _shape(by_kind[("ATTACHMENT", ATTACHMENT_CONTENT_TYPE, "AGENT")]) == _shape(SAMPLE_ATTACHMENT)
    assert _shape(by_kind[("EVENT", PARTICIPANT_LEFT, "AGENT")]) == _shape(SAMPLE_PARTICIPANT_EVENT)
    assert _shape(by_kind[("EVENT", CHAT_ENDED, None)]) == _shape(SAMPLE_CHAT_ENDED)
    # AND the values identify the contact and instance as Connect does
    echo = by_kind[("MESSAGE", "text/plain", "CUSTOMER")]
    assert echo["attributes"]["MessageVisibility"] == "ALL"
    assert echo["message"]["ContactId"] == echo["message"]["InitialContactId"] == contact_id
    assert echo["attributes"]["InstanceId"] == INSTANCE
    assert echo["message"]["Content"] == "hi there"


def test_runtime_streaming_parser_reads_the_fake_s_events(fake, connect, participant, published):
    # GIVEN the runtime's parser of the out-topic messages
    from whatsapp_buffer.outbound import streaming

    contact_id, token = open_chat(connect, participant)
    participant.send_message(ContentType="text/plain", Content="hi", ConnectionToken=token)
    fake.agent_message(contact_id, "Hi, I'm Ana")
    fake.end_chat(contact_id)
    # WHEN every published event is parsed
    parsed = [streaming.parse(json.dumps(body), attrs) for _, body, attrs in published.events]
    # THEN only the agent's message is for the customer, and chat.ended ends the session
    assert [(e.content) for e in parsed if e.is_text and e.for_customer] == ["Hi, I'm Ana"]
    assert [e.content_type for e in parsed if e.ends_session] == [CHAT_ENDED]


def test_agent_message_visibility_is_carried_in_the_attributes(fake, connect, participant, published):
    contact_id, _ = open_chat(connect, participant)
    fake.agent_message(contact_id, "internal note", visibility="AGENT")
    [(_, body, attrs)] = [e for e in published.events if e[1]["Type"] == "MESSAGE"]
    assert (attrs["MessageVisibility"], attrs["ParticipantRole"]) == ("AGENT", "AGENT")


def test_streaming_started_later_publishes_only_from_then_on(fake, connect, participant, published):
    # GIVEN a chat started without streaming, where the customer already wrote
    started = start_chat(connect, streaming=False)
    token = connect_customer(participant, started["ParticipantToken"])
    participant.send_message(ContentType="text/plain", Content="before", ConnectionToken=token)
    # WHEN streaming starts (twice, with one ClientToken) and the customer writes again
    request = {
        "InstanceId": INSTANCE,
        "ContactId": started["ContactId"],
        "ChatStreamingConfiguration": {"StreamingEndpointArn": TOPIC},
        "ClientToken": "s1",
    }
    first = connect.start_contact_streaming(**request)
    assert connect.start_contact_streaming(**request)["StreamingId"] == first["StreamingId"]
    participant.send_message(ContentType="text/plain", Content="after", ConnectionToken=token)
    # THEN only the later message was published
    assert [body["Content"] for _, body, _ in published.events if body["Type"] == "MESSAGE"] == ["after"]


def test_publish_callback_may_call_back_into_the_fake(clock, s3):
    # GIVEN a publish callback that answers every customer message as the agent (as a synchronous sandbox might)
    seen: list[str] = []
    services: FakeServices

    def publish(topic_arn: str, message: str, attributes: dict[str, str]) -> None:
        body = json.loads(message)
        seen.append(body.get("Content") or body["ContentType"])
        if body["Type"] == "MESSAGE" and body["ParticipantRole"] == "CUSTOMER":
            services.agent_message(body["ContactId"], "echo: " + body["Content"])

    services = FakeServices(clock, publish, s3_client=s3, instance_ids=[INSTANCE])
    with services:
        connect, participant = _client("connect", services), _client("connectparticipant", services)
        _, token = open_chat(connect, participant)
        # WHEN the customer writes
        participant.send_message(ContentType="text/plain", Content="ping", ConnectionToken=token)
    # THEN nothing deadlocks and events arrive in order
    assert seen == [PARTICIPANT_JOINED, "ping", PARTICIPANT_JOINED, "echo: ping"]
    assert services.publish_errors == []


# ---------------------------------------------------------------- end user messaging social


def test_send_whatsapp_message_decodes_the_meta_json(fake, social, clock):
    # GIVEN a Meta text message, sent as the blob botocore base64-encodes on the wire
    meta = {"messaging_product": "whatsapp", "to": "15550001111", "type": "text", "text": {"body": "Hi, I'm Ana"}}
    # WHEN it is sent
    response = social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER, message=json.dumps(meta), metaApiVersion="v20.0"
    )
    # THEN it is recorded decoded, and the call params keep the raw bytes
    [sent] = fake.whatsapp_sent
    assert (sent.to, sent.type, sent.text, sent.message_id, sent.at) == (
        "15550001111",
        "text",
        "Hi, I'm Ana",
        response["messageId"],
        clock.now,
    )
    assert sent.message == meta
    assert fake.calls_to("SendWhatsAppMessage")[0].params["message"] == json.dumps(meta).encode()


def test_media_message_and_read_receipt_are_told_apart(fake, social):
    image = {
        "messaging_product": "whatsapp",
        "to": "15550001111",
        "type": "image",
        "image": {"id": "123", "caption": "c"},
    }
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    for meta in (image, read):
        social.send_whatsapp_message(originationPhoneNumberId=NUMBER, message=json.dumps(meta), metaApiVersion="v20.0")
    assert [(s.type, s.media) for s in fake.whatsapp_sent] == [("image", {"id": "123", "caption": "c"}), ("read", None)]


def test_blob_is_base64_on_the_wire(fake):
    # GIVEN the raw request botocore would send
    meta = {"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "é"}}
    body = {
        "originationPhoneNumberId": NUMBER,
        "message": base64.b64encode(json.dumps(meta).encode()).decode(),
        "metaApiVersion": "v20.0",
    }
    response = urllib3.PoolManager().request("POST", f"{fake.url}/v1/whatsapp/send", body=json.dumps(body))
    assert response.status == 200
    assert fake.whatsapp_sent[0].text == "é"


def test_post_whatsapp_media_reads_the_object_from_s3(fake, social, s3):
    # GIVEN an agent's file in the media bucket
    bucket = f"media-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="out/invoice.pdf", Body=b"%PDF", ContentType="application/pdf")
    # WHEN it is posted to WhatsApp
    media_id = social.post_whatsapp_message_media(
        originationPhoneNumberId=NUMBER, sourceS3File={"bucketName": bucket, "key": "out/invoice.pdf"}
    )["mediaId"]
    # THEN the returned media id resolves to the same bytes
    assert fake.media(media_id) == (b"%PDF", "application/pdf")


# ---------------------------------------------------------------- fault injection


def test_fault_by_count_fails_the_next_calls_before_touching_state(fake, connect, participant):
    # GIVEN two throttles injected on SendMessage
    contact_id, token = open_chat(connect, participant)
    fake.inject("SendMessage", "ThrottlingException", status=429, times=2)
    send = partial(
        participant.send_message, ContentType="text/plain", Content="hi", ClientToken="b1:0", ConnectionToken=token
    )
    # WHEN the bridge sends three times
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            send()
        assert (error_code(excinfo), status_of(excinfo)) == ("ThrottlingException", 429)
    send()
    # THEN the first two failed without delivering anything, the third delivered once
    assert len(fake.chat_items(contact_id)) == 1
    assert [c.error for c in fake.calls_to("SendMessage")] == ["ThrottlingException", "ThrottlingException", None]


def test_fault_status_defaults_to_the_service_model(fake, connect):
    fake.inject("StartChatContact", "InternalServiceException", times=1)
    with pytest.raises(ClientError) as excinfo:
        start_chat(connect)
    assert status_of(excinfo) == 500
    assert fake.contacts() == []


def test_fault_by_rate_is_seeded_and_reproducible(clock, published, s3):
    def failures(seed: int) -> list[bool]:
        services = FakeServices(clock, published, s3_client=s3, instance_ids=[INSTANCE])
        with services:
            services.inject("SendWhatsAppMessage", "InternalServiceException", status=500, rate=0.3, seed=seed)
            social = _client("socialmessaging", services)
            meta = json.dumps({"messaging_product": "whatsapp", "to": "1", "type": "text", "text": {"body": "x"}})
            outcome = []
            for _ in range(40):
                try:
                    social.send_whatsapp_message(originationPhoneNumberId=NUMBER, message=meta, metaApiVersion="v20.0")
                    outcome.append(False)
                except ClientError:
                    outcome.append(True)
            return outcome

    first = failures(seed=7)
    assert first == failures(seed=7)
    assert 4 <= sum(first) <= 20
    assert first != failures(seed=8)


def test_clear_faults_restores_normal_answers(fake, connect):
    fake.inject("StartChatContact", "ThrottlingException", status=429)
    for _ in range(3):
        with pytest.raises(ClientError):
            start_chat(connect)
    fake.clear_faults()
    assert start_chat(connect)["ContactId"]
