"""End User Messaging Social's media calls: where a file comes from and goes to, and S3's failures, with sources."""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from sandbox.fakes import FakeServices
from tests.contract.conftest import BUCKET, NUMBER, error_code
from tests.fixtures.fakes import NO_RETRIES

MODEL = botocore.session.get_session().get_service_model("socialmessaging")
S3_URL = "https://media-bucket.s3.amazonaws.com/outbound/f"
"""A URL of the model's pattern, for the calls whose S3 answer a test decides."""


def _operation_doc(name: str) -> str:
    return re.sub(r"<[^>]+>", "", MODEL.operation_model(name).documentation)


def _error_doc(name: str) -> str:
    return re.sub(r"<[^>]+>", "", MODEL.shape_for(name).documentation).strip()


def _status(excinfo: pytest.ExceptionInfo[ClientError]) -> int:
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_an_upload_reads_a_presigned_url_source_with_the_content_type_of_its_headers(aws):
    """botocore PostWhatsAppMessageMedia: "You must use either sourceS3File or sourceS3PresignedUrl for the source";
    sourceS3PresignedUrl "The source presign url of the media file"; S3PresignedUrl.headers "A map of headers and
    their values. You must specify the Content-Type header when using PostWhatsAppMessageMedia." So the file is read
    from the URL and its type is that header's. (No source says which HTTP method reads the URL: the fake GETs it,
    as a pre-signed S3 download is read.)"""
    assert "sourceS3PresignedUrl for the source" in _operation_doc("PostWhatsAppMessageMedia")
    headers_doc = re.sub(r"<[^>]+>", "", MODEL.shape_for("S3PresignedUrl").members["headers"].documentation)
    assert "You must specify the Content-Type header when using PostWhatsAppMessageMedia" in headers_doc
    aws.s3.put_object(Bucket=BUCKET, Key="outbound/invoice.pdf", Body=b"%PDF-1.7")
    url = aws.s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "outbound/invoice.pdf"})
    posted = aws.social.post_whatsapp_message_media(
        originationPhoneNumberId=NUMBER,
        sourceS3PresignedUrl={"url": url, "headers": {"Content-Type": "application/pdf"}},
    )
    assert aws.fake.media(posted["mediaId"]) == (b"%PDF-1.7", "application/pdf")


def test_an_upload_from_a_presigned_url_without_a_content_type_header_is_refused(aws):
    """botocore S3PresignedUrl.headers: "You must specify the Content-Type header when using
    PostWhatsAppMessageMedia." Which error follows is not documented: the fake answers InvalidParametersException
    ("One or more parameters provided to the action are not valid")."""
    aws.s3.put_object(Bucket=BUCKET, Key="outbound/invoice.pdf", Body=b"%PDF-1.7")
    url = aws.s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "outbound/invoice.pdf"})
    with pytest.raises(ClientError) as excinfo:
        aws.social.post_whatsapp_message_media(
            originationPhoneNumberId=NUMBER, sourceS3PresignedUrl={"url": url, "headers": {"x-amz-meta-a": "b"}}
        )
    assert error_code(excinfo) == "InvalidParametersException"
    assert aws.fake.social.media == {}


@pytest.mark.parametrize(
    "sources",
    [
        {},
        {
            "sourceS3File": {"bucketName": BUCKET, "key": "outbound/f"},
            "sourceS3PresignedUrl": {"url": S3_URL, "headers": {"Content-Type": "image/png"}},
        },
    ],
    ids=["neither", "both"],
)
def test_an_upload_needs_exactly_one_source(aws, sources):
    """botocore PostWhatsAppMessageMedia: "You must use either sourceS3File or sourceS3PresignedUrl for the source.
    If both or neither are specified then an InvalidParameterException is returned." (the model's error shape is
    named InvalidParametersException)."""
    assert "If both or neither are specified then an InvalidParameterException" in _operation_doc(
        "PostWhatsAppMessageMedia"
    )
    aws.s3.put_object(Bucket=BUCKET, Key="outbound/f", Body=b"\x89PNG", ContentType="image/png")
    with pytest.raises(ClientError) as excinfo:
        aws.social.post_whatsapp_message_media(originationPhoneNumberId=NUMBER, **sources)
    assert error_code(excinfo) == "InvalidParametersException"


def test_a_download_needs_a_destination_unless_only_the_metadata_is_asked_for(aws):
    """botocore GetWhatsAppMessageMedia: "On successful completion the media file is retrieved from Meta and stored
    in the specified Amazon S3 bucket. Use either destinationS3File or destinationS3PresignedUrl for the
    destination." metadataOnly: "Set to True to get only the metadata for the file." What a call with neither
    destination nor metadataOnly gets is not documented; the fake answers as the sibling PostWhatsAppMessageMedia
    documents for "neither": InvalidParametersException."""
    aws.fake.register_media("789", b"x", "image/png")
    with pytest.raises(ClientError) as excinfo:
        aws.social.get_whatsapp_message_media(mediaId="789", originationPhoneNumberId=NUMBER)
    assert error_code(excinfo) == "InvalidParametersException"
    metadata = aws.social.get_whatsapp_message_media(mediaId="789", originationPhoneNumberId=NUMBER, metadataOnly=True)
    assert metadata["mimeType"] == "image/png"


def test_an_unknown_media_id_is_resource_not_found(aws):
    """botocore GetWhatsAppMessageMedia lists ResourceNotFoundException, "The resource was not found." (HTTP 404);
    the media id names the resource the call reads. Meta keeps inbound media for a limited time, so an expired id
    is unknown alike."""
    assert _error_doc("ResourceNotFoundException") == "The resource was not found."
    with pytest.raises(ClientError) as excinfo:
        aws.social.get_whatsapp_message_media(
            mediaId="gone", originationPhoneNumberId=NUMBER, destinationS3File={"bucketName": BUCKET, "key": "k"}
        )
    assert (error_code(excinfo), _status(excinfo)) == ("ResourceNotFoundException", 404)


def test_a_missing_destination_bucket_is_reported_as_resource_not_found(aws):
    """botocore ResourceNotFoundException: "The resource was not found." No source says which error a missing
    destination bucket gets: the fake answers ResourceNotFoundException (S3's NoSuchBucket is a resource of the
    caller's that is not there), never a silent success."""
    aws.fake.register_media("5550002", b"x", "image/jpeg")
    with pytest.raises(ClientError) as excinfo:
        aws.social.get_whatsapp_message_media(
            mediaId="5550002",
            originationPhoneNumberId=NUMBER,
            destinationS3File={"bucketName": "no-such-bucket", "key": "k"},
        )
    assert (error_code(excinfo), _status(excinfo)) == ("ResourceNotFoundException", 404)


def test_a_missing_source_object_is_reported_as_resource_not_found(aws):
    """As above for PostWhatsAppMessageMedia's sourceS3File (S3's NoSuchKey): the fake's choice, no source says."""
    with pytest.raises(ClientError) as excinfo:
        aws.social.post_whatsapp_message_media(
            originationPhoneNumberId=NUMBER, sourceS3File={"bucketName": BUCKET, "key": "outbound/none"}
        )
    assert error_code(excinfo) == "ResourceNotFoundException"


class _RefusingS3:
    """An S3 client whose every object call is refused, as S3 answers a caller without permission."""

    def _refuse(self, **_: object) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    get_object = put_object = _refuse


@pytest.mark.parametrize(
    ("operation", "s3_answer", "code"),
    [
        ("get", 403, "AccessDeniedException"),
        ("get", 404, "ResourceNotFoundException"),
        ("get", 500, "DependencyException"),
        ("post", 403, "AccessDeniedException"),
        ("post", 404, "ResourceNotFoundException"),
        ("post", 503, "DependencyException"),
        ("get", "AccessDenied", "AccessDeniedException"),
        ("post", "AccessDenied", "AccessDeniedException"),
    ],
)
def test_s3_refusals_are_answered_with_the_models_access_not_found_and_dependency_errors(operation, s3_answer, code):
    """botocore lists for both media operations AccessDeniedException "You do not have sufficient access to perform
    this action." (403), ResourceNotFoundException "The resource was not found." (404) and DependencyException
    "Thrown when performing an action because a dependency would be broken." (502). No source says which one a
    failed S3 read or write gets. The fake's choice: S3's 403 or AccessDenied (a URL expired or not signed for the
    call, a bucket the service may not use) is AccessDeniedException, S3's 404 ResourceNotFoundException, any other
    S3 failure of a pre-signed URL DependencyException (S3, which the call depends on, failed)."""
    assert _error_doc("AccessDeniedException") == "You do not have sufficient access to perform this action."
    assert _error_doc("DependencyException") == "Thrown when performing an action because a dependency would be broken."
    for name in ("GetWhatsAppMessageMedia", "PostWhatsAppMessageMedia"):
        errors = {shape.name for shape in MODEL.operation_model(name).error_shapes}
        assert {"AccessDeniedException", "ResourceNotFoundException", "DependencyException"} <= errors
    by_url = isinstance(s3_answer, int)
    fake = FakeServices(
        clock=lambda: 0.0,
        s3_client=_RefusingS3(),
        http_put=lambda url, headers, data: s3_answer,
        http_get=lambda url, headers: (s3_answer, b""),
    )
    fake.register_media("456", b"x", "image/jpeg")
    social = fake.client("socialmessaging", config=NO_RETRIES)
    with pytest.raises(ClientError) as excinfo:
        if operation == "get":
            destination = (
                {"destinationS3PresignedUrl": {"url": S3_URL, "headers": {}}}
                if by_url
                else {"destinationS3File": {"bucketName": BUCKET, "key": "k/"}}
            )
            social.get_whatsapp_message_media(mediaId="456", originationPhoneNumberId=NUMBER, **destination)
        else:
            source = (
                {"sourceS3PresignedUrl": {"url": S3_URL, "headers": {"Content-Type": "image/png"}}}
                if by_url
                else {"sourceS3File": {"bucketName": BUCKET, "key": "outbound/f"}}
            )
            social.post_whatsapp_message_media(originationPhoneNumberId=NUMBER, **source)
    assert error_code(excinfo) == code
