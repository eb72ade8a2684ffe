"""End User Messaging Social rules the bridge relies on, each with its source."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from sandbox.fakes.socialmessaging import REENGAGEMENT_ERROR, media_object_key
from tests.contract.conftest import BUCKET, NUMBER, error_code

MODEL = botocore.session.get_session().get_service_model("socialmessaging")


def _doc(shape_name: str, member: str) -> str:
    return re.sub(r"<[^>]+>", "", MODEL.shape_for(shape_name).members[member].documentation)


def test_the_destination_key_is_a_prefix_combined_with_the_media_id(aws):
    """botocore S3File.key: "The S3 key prefix that defines the storage location of your media files. The prefix
    works like a folder path in S3, and is combined with the WhatsApp mediaId to create the final file path … For the
    same mediaId, a key of audio/ results in the file path audio/123.ogg." The AWS sample (whatsapp-eum-connect-chat,
    lambdas/code/whatsapp_event_handler/whatsapp.py) reads the file back at
    f"s3://{bucket_name}/{media_prefix}{media_id}.{extension}" with extension = mimeType.split("/")[-1]. Sources
    disagree on the extension of `audio/ogg; codecs=opus` (the sample would write `ogg; codecs=opus`), which is why
    the bridge uses a pre-signed URL instead (next test)."""
    assert "combined with the WhatsApp mediaId" in _doc("S3File", "key")
    aws.fake.register_media("123", b"OggS", "audio/ogg; codecs=opus")
    aws.social.get_whatsapp_message_media(
        mediaId="123", originationPhoneNumberId=NUMBER, destinationS3File={"bucketName": BUCKET, "key": "audio/"}
    )
    keys = [o["Key"] for o in aws.s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["audio/123.ogg"] == [media_object_key("audio/", "123", "audio/ogg; codecs=opus")]


def test_a_presigned_url_destination_receives_the_file_at_exactly_its_key(aws):
    """botocore GetWhatsAppMessageMedia.destinationS3PresignedUrl: "The presign url of the media file", {url,
    headers} both required, url pattern `https://(.*)s3(.*).amazonaws.com/(.*)`. The URL names one object, so nothing
    about the final key is left to guess. (No source says which HTTP method End User Messaging uses on it; an S3
    pre-signed upload is a PUT, which is what the fake does.)"""
    assert (
        MODEL.shape_for("S3PresignedUrl").members["url"].metadata["pattern"] == "https://(.*)s3(.*).amazonaws.com/(.*)"
    )
    aws.fake.register_media("456", b"\xff\xd8jpeg", "image/jpeg")
    url = aws.s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "inbound/b/0-456"})
    aws.social.get_whatsapp_message_media(
        mediaId="456",
        originationPhoneNumberId=NUMBER,
        destinationS3PresignedUrl={"url": url, "headers": {"Content-Type": "image/jpeg"}},
    )
    assert aws.s3.get_object(Bucket=BUCKET, Key="inbound/b/0-456")["Body"].read() == b"\xff\xd8jpeg"


def test_a_presigned_url_outside_amazon_s3_is_refused(aws):
    """The url pattern `https://(.*)s3(.*).amazonaws.com/(.*)` (botocore model) admits only Amazon S3."""
    aws.fake.register_media("456", b"x", "image/jpeg")
    with pytest.raises(ClientError) as excinfo:
        aws.social.get_whatsapp_message_media(
            mediaId="456",
            originationPhoneNumberId=NUMBER,
            destinationS3PresignedUrl={"url": "https://example.com/upload", "headers": {}},
        )
    assert error_code(excinfo) == "ValidationException"


def test_a_presigned_url_over_2000_characters_is_refused(aws):
    """botocore S3PresignedUrl.url: `min` 1, `max` 2000. botocore's parameter validation checks a string's min
    length only, so the request is sent and the service refuses it (ValidationException, the model's error for input
    that does not satisfy its constraints). The length is the URL's as AWS receives it: a URL of exactly 2,000
    characters is taken and written to, one of 2,001 is refused before anything is written."""
    url_max = MODEL.shape_for("S3PresignedUrl").members["url"].metadata["max"]
    assert url_max == 2000
    aws.fake.register_media("456", b"x", "image/jpeg")
    url = aws.s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "inbound/b/0-456"})
    padded = f"{url}&x-pad={'p' * (url_max - len(url) - len('&x-pad='))}"
    assert len(aws.fake.as_aws(padded)) == url_max
    aws.social.get_whatsapp_message_media(
        mediaId="456", originationPhoneNumberId=NUMBER, destinationS3PresignedUrl={"url": padded, "headers": {}}
    )
    aws.s3.delete_object(Bucket=BUCKET, Key="inbound/b/0-456")
    with pytest.raises(ClientError) as excinfo:
        aws.social.get_whatsapp_message_media(
            mediaId="456",
            originationPhoneNumberId=NUMBER,
            destinationS3PresignedUrl={"url": f"{padded}p", "headers": {}},
        )
    assert error_code(excinfo) == "ValidationException"
    assert "length less than or equal to 2000" in str(excinfo.value)
    assert aws.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_metadata_only_answers_the_mime_type_and_the_size_in_kb_and_copies_nothing(aws):
    """botocore: metadataOnly "Set to True to get only the metadata for the file"; the answer's fileSize is "The size
    of the media file, in KB" and mimeType "The MIME type of the media". Whether KB is 1,000 or 1,024 bytes is not
    said: the fake rounds up over 1,024, the runtime reads it as at least size × 1,000 bytes."""
    assert "in KB" in _doc("GetWhatsAppMessageMediaOutput", "fileSize")
    aws.fake.register_media("789", b"x" * 5000, "application/pdf")
    answer = aws.social.get_whatsapp_message_media(mediaId="789", originationPhoneNumberId=NUMBER, metadataOnly=True)
    assert (answer["mimeType"], answer["fileSize"]) == ("application/pdf", 5)
    assert aws.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_both_destinations_at_once_are_refused(aws):
    """botocore GetWhatsAppMessageMedia: "Use either destinationS3File or destinationS3PresignedUrl for the
    destination. If both are used then an InvalidParameterException is returned." (the model's error shape is named
    InvalidParametersException)."""
    aws.fake.register_media("789", b"x", "image/png")
    with pytest.raises(ClientError) as excinfo:
        aws.social.get_whatsapp_message_media(
            mediaId="789",
            originationPhoneNumberId=NUMBER,
            destinationS3File={"bucketName": BUCKET, "key": "k/"},
            destinationS3PresignedUrl={"url": "https://b.s3.amazonaws.com/k", "headers": {}},
        )
    assert error_code(excinfo) == "InvalidParametersException"


def test_a_media_id_outside_the_model_pattern_is_refused(aws):
    """botocore GetWhatsAppMessageMedia.mediaId pattern `[A-Za-z0-9]+` (botocore does not check patterns client
    side; the service does). Smithy's pattern trait "does not implicitly add a leading ^ or trailing $ to match an
    entire string": an id with no letter or digit is refused (ValidationException), one with a letter or digit in it
    passes the pattern and is looked up like any other (here unknown: ResourceNotFoundException). Sources silent (no
    recorded refusal of this service shows whether it matches a pattern whole); the fake is the laxer of the two
    readings."""
    assert MODEL.operation_model("GetWhatsAppMessageMedia").input_shape.members["mediaId"].metadata["pattern"] == (
        "[A-Za-z0-9]+"
    )
    with pytest.raises(ClientError) as excinfo:
        aws.social.get_whatsapp_message_media(mediaId="--", originationPhoneNumberId=NUMBER, metadataOnly=True)
    assert error_code(excinfo) == "ValidationException"
    assert "Member must satisfy regular expression pattern: [A-Za-z0-9]+" in str(excinfo.value)
    with pytest.raises(ClientError) as excinfo:
        aws.social.get_whatsapp_message_media(mediaId="media-1", originationPhoneNumberId=NUMBER, metadataOnly=True)
    assert error_code(excinfo) == "ResourceNotFoundException"


def _text(to: str, body: str) -> bytes:
    message = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}
    return json.dumps(message).encode()


def test_a_message_over_2048000_bytes_is_refused_counting_bytes_not_characters(aws):
    """botocore SendWhatsAppMessage.message: a blob, `min` 1, `max` 2048000, "The message to send through WhatsApp.
    The length is in KB." Smithy's length trait counts "the size of the blob in bytes", which is what the model's
    `max` is; the doc string's "in KB" disagrees (2,048,000 KB would be 2 GB): the fake follows the trait. botocore
    does not check a blob's max, so the service refuses a longer message (ValidationException, the model's error for
    input that breaks a constraint). Here 4,096 "é" make the text 8,192 bytes but 4,096 characters."""
    message_max = MODEL.operation_model("SendWhatsAppMessage").input_shape.members["message"].metadata["max"]
    assert message_max == 2_048_000
    aws.fake.customer_wrote(NUMBER, "15550001111")
    message = {"messaging_product": "whatsapp", "to": "15550001111", "type": "text", "text": {"body": "é" * 4096}}
    text = json.dumps(message, ensure_ascii=False).encode("utf-8")
    at_max = text + b" " * (message_max - len(text))
    aws.social.send_whatsapp_message(originationPhoneNumberId=NUMBER, message=at_max, metaApiVersion="v20.0")
    over = at_max + b" "
    assert len(over.decode("utf-8")) < message_max < len(over)
    with pytest.raises(ClientError) as excinfo:
        aws.social.send_whatsapp_message(originationPhoneNumberId=NUMBER, message=over, metaApiVersion="v20.0")
    assert error_code(excinfo) == "ValidationException"
    assert len(aws.fake.whatsapp_sent) == 1


def test_a_text_body_over_4096_characters_is_refused(aws):
    """Meta Cloud API, text messages (developers.facebook.com/documentation/business-messaging/whatsapp/messages/
    text-messages): body "Maximum 4096 characters." Which error End User Messaging returns is not documented; the
    fake answers InvalidParametersException."""
    aws.fake.customer_wrote(NUMBER, "15550001111")
    aws.social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER, message=_text("15550001111", "é" * 4096), metaApiVersion="v20.0"
    )
    with pytest.raises(ClientError) as excinfo:
        aws.social.send_whatsapp_message(
            originationPhoneNumberId=NUMBER, message=_text("15550001111", "é" * 4097), metaApiVersion="v20.0"
        )
    assert error_code(excinfo) == "InvalidParametersException"


def test_a_free_form_message_after_24_hours_is_accepted_then_reported_failed_with_131047(aws):
    """Meta: a free-form message is delivered only within 24 hours of the customer's last message; error 131047
    "Re-engagement message" ("Message failed to send because more than 24 hours have passed since the customer last
    replied to this number."). AWS's agent toolkit for End User Messaging Social (troubleshooting-delivery.md): "Send
    succeeds but not delivered | 24h window expired (freeform)"; Meta: errors come "either synchronously …
    asynchronously via Webhook, or sometimes through both". So by default the call succeeds and a `failed` status
    with the 131047 error follows; the fake's `service_window="sync"` models the synchronous case."""
    aws.fake.customer_wrote(NUMBER, "15550001111")
    aws.clock[0] += 23 * 3600
    in_time = aws.social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER, message=_text("15550001111", "in time"), metaApiVersion="v20.0"
    )
    aws.clock[0] += 2 * 3600
    late = aws.social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER, message=_text("15550001111", "too late"), metaApiVersion="v20.0"
    )
    assert {origination for origination, _ in aws.statuses} == {NUMBER}
    assert [(s["id"], s["status"]) for _, s in aws.statuses] == [
        (in_time["messageId"], "sent"),
        (in_time["messageId"], "delivered"),
        (late["messageId"], "failed"),
    ]
    assert aws.statuses[-1][1]["errors"] == [REENGAGEMENT_ERROR]
    assert [s.refused for s in aws.fake.whatsapp_sent] == [None, REENGAGEMENT_ERROR]


def test_a_message_whatsapp_accepts_is_reported_sent_then_delivered_to_the_event_destination(aws):
    """End User Messaging Social User Guide, "Events generated by AWS End User Messaging Social": "The message status
    events (such as delivered, read, sent, and failed) and inbound customer messages are relayed from WhatsApp" to the
    WABA's event destination; "Message and event destinations": "all of your send and receive events are sent to the
    message and event destination". `read` depends on the customer's read receipts and is not modelled; a read receipt
    the business sends is not a message and has no status."""
    aws.fake.customer_wrote(NUMBER, "15550001111")
    sent = aws.social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER, message=_text("15550001111", "hello"), metaApiVersion="v20.0"
    )

    assert [(s["id"], s["status"], s["recipient_id"]) for _, s in aws.statuses] == [
        (sent["messageId"], "sent", "15550001111"),
        (sent["messageId"], "delivered", "15550001111"),
    ]
    assert all("errors" not in s for _, s in aws.statuses)


def test_in_sync_mode_a_message_outside_the_window_is_refused_by_the_call(aws):
    """The other reading of the same sources (see the previous test): the refusal comes back from the call itself."""
    aws.fake.social.service_window = "sync"
    with pytest.raises(ClientError) as excinfo:
        aws.social.send_whatsapp_message(
            originationPhoneNumberId=NUMBER, message=_text("15550001111", "nobody wrote"), metaApiVersion="v20.0"
        )
    assert error_code(excinfo) == "ValidationException" and "131047" in str(excinfo.value)
    assert aws.fake.whatsapp_sent == []


def test_read_receipts_and_templates_are_not_held_to_the_window(aws):
    """Meta: only free-form messages need the window; templates are how a business re-engages."""
    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    template = {
        "messaging_product": "whatsapp",
        "to": "15550001111",
        "type": "template",
        "template": {"name": "hi", "language": {"code": "en_US"}},
    }
    for message in (receipt, template):
        aws.social.send_whatsapp_message(
            originationPhoneNumberId=NUMBER, message=json.dumps(message).encode(), metaApiVersion="v20.0"
        )
    # No failed status: the template is reported sent and delivered, the read receipt (not a message) not at all.
    assert [s["status"] for _, s in aws.statuses] == ["sent", "delivered"]
    assert [s.refused for s in aws.fake.whatsapp_sent] == [None, None]


@pytest.mark.parametrize(
    "template",
    [
        {},
        {"name": "order_update"},
        {"language": {"code": "en_US"}},
        {"name": "", "language": {"code": "en_US"}},
        {"name": "order_update", "language": "en_US"},
    ],
)
def test_a_template_message_without_its_name_or_language_code_is_refused(aws, template):
    """WhatsApp's Node.js SDK (whatsapp.github.io, Template Object): "name : string — name of the template",
    "language : LanguageObject — specifies the language the template may be rendered in", components optional; a
    published JSON schema of the Cloud API's TemplateMessage: required ["name", "language"], language required
    ["code"]. End User Messaging's own WhatsAppParameters: template name 1–512 characters, language code 2–35. The
    error End User Messaging returns is not documented; the fake answers InvalidParametersException."""
    message = {"messaging_product": "whatsapp", "to": "15550001111", "type": "template", "template": template}
    with pytest.raises(ClientError) as excinfo:
        aws.social.send_whatsapp_message(
            originationPhoneNumberId=NUMBER, message=json.dumps(message).encode(), metaApiVersion="v20.0"
        )
    assert error_code(excinfo) == "InvalidParametersException"


@pytest.mark.parametrize(
    ("content_type", "size", "accepted"),
    [
        ("image/jpeg", 5 * 1024 * 1024, True),
        ("image/jpeg", 5 * 1024 * 1024 + 1, False),
        ("application/pdf", 1000, True),
        ("audio/mpeg", 1000, True),
        ("image/heic", 1000, False),
        ("video/quicktime", 1000, False),
        ("audio/wav", 1000, False),
    ],
)
def test_whatsapp_takes_only_its_media_types_and_sizes(aws, content_type, size, accepted):
    """AWS End User Messaging Social User Guide, "Supported media file types": "When sending or receiving a media
    message, the file type must be supported and under the maximum file size" — audio aac/amr/mpeg/mp4/ogg (Opus) 16
    MB, documents (text, PDF, Office) 100 MB, images jpeg/png 5 MB, stickers webp 100/500 KB, video mp4/3gpp 16 MB. So
    an agent's HEIC photo, MOV video or WAV file is refused. The error is not documented (ValidationException here)."""
    aws.s3.put_object(Bucket=BUCKET, Key="outbound/f", Body=b"x" * size, ContentType=content_type)
    post = {"originationPhoneNumberId": NUMBER, "sourceS3File": {"bucketName": BUCKET, "key": "outbound/f"}}
    if accepted:
        assert aws.social.post_whatsapp_message_media(**post)["mediaId"]
    else:
        with pytest.raises(ClientError) as excinfo:
            aws.social.post_whatsapp_message_media(**post)
        assert error_code(excinfo) == "ValidationException"


def test_a_read_receipt_may_carry_metas_typing_indicator_and_nothing_else_in_its_place(aws):
    """Meta, "Typing indicators" (developers.facebook.com/documentation/business-messaging/whatsapp/typing-indicators):
    "you can use the message.id value to mark the message as read and display a typing indicator" with
    {"messaging_product": "whatsapp", "status": "read", "message_id": …, "typing_indicator": {"type": "text"}}; "The
    typing indicator will be dismissed once you respond, or after 25 seconds". End User Messaging's documentation is
    silent on it (SendWhatsAppMessage passes the Meta message on); the fake refuses any other typing_indicator."""
    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}
    aws.social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER,
        message=json.dumps({**receipt, "typing_indicator": {"type": "text"}}).encode(),
        metaApiVersion="v20.0",
    )
    with pytest.raises(ClientError) as excinfo:
        aws.social.send_whatsapp_message(
            originationPhoneNumberId=NUMBER,
            message=json.dumps({**receipt, "typing_indicator": True}).encode(),
            metaApiVersion="v20.0",
        )
    assert error_code(excinfo) == "InvalidParametersException"


def _interactive(interactive: dict) -> bytes:
    message = {"messaging_product": "whatsapp", "to": "15550001111", "type": "interactive", "interactive": interactive}
    return json.dumps(message).encode()


@pytest.mark.parametrize(
    ("interactive", "accepted"),
    [
        (
            {
                "type": "button",
                "body": {"text": "Q"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "Yes"}}]},
            },
            True,
        ),
        (
            {
                "type": "button",
                "body": {"text": "Q"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": str(i), "title": f"B{i}"}} for i in range(4)]},
            },
            False,
        ),
        (
            {
                "type": "button",
                "body": {"text": "Q"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "x" * 21}}]},
            },
            False,
        ),
        (
            {
                "type": "list",
                "body": {"text": "Q"},
                "action": {
                    "button": "Choose",
                    "sections": [{"rows": [{"id": str(i), "title": f"R{i}"} for i in range(10)]}],
                },
            },
            True,
        ),
        (
            {
                "type": "list",
                "body": {"text": "Q"},
                "action": {
                    "button": "Choose",
                    "sections": [{"rows": [{"id": str(i), "title": f"R{i}"} for i in range(11)]}],
                },
            },
            False,
        ),
        (
            {
                "type": "list",
                "body": {"text": "Q"},
                "action": {
                    "button": "Choose",
                    "sections": [{"rows": [{"id": "1", "title": "R", "description": "d" * 73}]}],
                },
            },
            False,
        ),
    ],
)
def test_interactive_messages_keep_to_whatsapps_button_and_list_limits(aws, interactive, accepted):
    """Meta, "Interactive reply buttons messages": "up to three predefined replies", button titles at most 20
    characters; "Interactive list messages": at most 10 rows, row titles at most 24 characters, descriptions at most
    72 (also the limits of Twilio's and botonic's WhatsApp list pickers). The error End User Messaging returns is not
    documented; the fake answers InvalidParametersException."""
    aws.fake.customer_wrote(NUMBER, "15550001111")
    call = lambda: aws.social.send_whatsapp_message(  # noqa: E731
        originationPhoneNumberId=NUMBER, message=_interactive(interactive), metaApiVersion="v20.0"
    )
    if accepted:
        call()
    else:
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_code(excinfo) == "InvalidParametersException"
