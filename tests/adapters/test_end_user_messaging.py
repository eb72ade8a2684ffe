"""end_user_messaging: End User Messaging Social requests checked against the real model by Stubber."""

import json

import pytest
from botocore.stub import ANY

from tests.fixtures.stubbed import stubbed
from whatsapp_buffer.adapters.end_user_messaging import EndUserMessaging, media_message
from whatsapp_buffer.errors import MediaUnavailable, TransientAwsError
from whatsapp_buffer.model import media_kind_for

ORIGIN = "phone-number-id-5f811eaa4c81499384c496b909afbb1a"


@pytest.fixture
def social():
    with stubbed("socialmessaging") as stub:
        yield stub


def capture_send(client, stubber, captured):
    """Stub one send and record its Meta JSON (the blob is compared decoded, not byte for byte)."""
    stubber.add_response(
        "send_whatsapp_message",
        {"messageId": "out-1"},
        {"originationPhoneNumberId": ORIGIN, "message": ANY, "metaApiVersion": "v20.0"},
    )
    client.meta.events.register(
        "provide-client-params.socialmessaging.SendWhatsAppMessage",
        lambda params, **_: captured.append(json.loads(params["message"])),
    )


def test_send_text_builds_a_meta_text_message(social):
    client, stubber = social
    captured = []
    capture_send(client, stubber, captured)
    assert EndUserMessaging("v20.0", client).send_text(ORIGIN, "15550001111", "Hi, I'm Ana") == "out-1"
    assert captured == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "15550001111",
            "type": "text",
            "text": {"body": "Hi, I'm Ana"},
        }
    ]


def test_mark_read_sends_a_read_status(social):
    client, stubber = social
    captured = []
    capture_send(client, stubber, captured)
    EndUserMessaging("v20.0", client).mark_read(ORIGIN, "wamid.3")
    assert captured == [{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.3"}]


def test_send_throttled_is_transient(social):
    client, stubber = social
    stubber.add_client_error("send_whatsapp_message", "ThrottledRequestException", http_status_code=429)
    with pytest.raises(TransientAwsError):
        EndUserMessaging("v20.0", client).send_text(ORIGIN, "15550001111", "x")


URL = "https://media-bucket.s3.amazonaws.com/inbound/b/0-1234567890?X-Amz-Signature=abc"


def test_media_info_asks_for_metadata_only_and_reads_kb_as_the_least_bytes(social):
    client, stubber = social
    stubber.add_response(
        "get_whatsapp_message_media",
        {"mimeType": "image/jpeg", "fileSize": 3},
        {"mediaId": "1234567890", "originationPhoneNumberId": ORIGIN, "metadataOnly": True},
    )
    info = EndUserMessaging("v20.0", client).media_info("1234567890", ORIGIN)
    assert (info.mime_type, info.size_kb, info.least_bytes) == ("image/jpeg", 3, 3000)


def test_fetch_media_copies_to_the_exact_presigned_key(social):
    client, stubber = social
    stubber.add_response(
        "get_whatsapp_message_media",
        {"mimeType": "image/jpeg", "fileSize": 3},
        {
            "mediaId": "1234567890",
            "originationPhoneNumberId": ORIGIN,
            "destinationS3PresignedUrl": {"url": URL, "headers": {"Content-Type": "image/jpeg"}},
        },
    )
    EndUserMessaging("v20.0", client).fetch_media("1234567890", ORIGIN, URL, "image/jpeg")


def test_fetch_media_under_copies_to_a_key_prefix_of_the_bucket(social):
    client, stubber = social
    stubber.add_response(
        "get_whatsapp_message_media",
        {"mimeType": "image/jpeg", "fileSize": 3},
        {
            "mediaId": "1234567890",
            "originationPhoneNumberId": ORIGIN,
            "destinationS3File": {"bucketName": "media-bucket", "key": "inbound/b/0-1234567890/"},
        },
    )
    EndUserMessaging("v20.0", client).fetch_media_under("1234567890", ORIGIN, "media-bucket", "inbound/b/0-1234567890/")


def test_the_upload_url_limit_is_the_models_max_for_the_presigned_url(social):
    """botocore socialmessaging S3PresignedUrl.url: `max` 2000, read from the client's own model."""
    client, _ = social
    shape = client.meta.service_model.shape_for("S3PresignedUrl").members["url"]
    assert EndUserMessaging("v20.0", client).upload_url_limit == shape.metadata["max"] == 2000


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [("ResourceNotFoundException", 404, MediaUnavailable), ("DependencyException", 502, TransientAwsError)],
)
def test_media_failures_are_translated(social, code, status, expected):
    client, stubber = social
    stubber.add_client_error("get_whatsapp_message_media", code, http_status_code=status)
    stubber.add_client_error("get_whatsapp_message_media", code, http_status_code=status)
    whatsapp = EndUserMessaging("v20.0", client)
    with pytest.raises(expected):
        whatsapp.media_info("1234567890", ORIGIN)
    with pytest.raises(expected):
        whatsapp.fetch_media("1234567890", ORIGIN, URL, "image/jpeg")


def test_post_media_returns_the_whatsapp_media_id(social):
    client, stubber = social
    stubber.add_response(
        "post_whatsapp_message_media",
        {"mediaId": "998877"},
        {"originationPhoneNumberId": ORIGIN, "sourceS3File": {"bucketName": "media-bucket", "key": "outbound/c/a"}},
    )
    assert EndUserMessaging("v20.0", client).post_media(ORIGIN, "media-bucket", "outbound/c/a") == "998877"


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("image/png", "image"),
        ("audio/mpeg", "audio"),
        ("video/mp4", "video"),
        ("application/pdf", "document"),
        ("text/csv", "document"),
    ],
)
def test_agent_files_map_to_the_matching_whatsapp_type(content_type, kind):
    assert media_kind_for(content_type) == kind


def test_only_documents_carry_a_file_name():
    assert media_message("1555", "document", "m1", "a.pdf")["document"] == {"id": "m1", "filename": "a.pdf"}
    assert media_message("1555", "image", "m1", "a.png")["image"] == {"id": "m1"}
