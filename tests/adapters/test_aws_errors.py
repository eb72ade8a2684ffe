"""aws_errors: every row of every service's table, the botocore classes each service reads as "unreachable", what no
row names (it propagates unchanged), and the adapters that have no other test of their error path (Stubber)."""

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError
from botocore.stub import Stubber

from whatsapp_buffer.adapters import aws_errors
from whatsapp_buffer.adapters.aws_errors import (
    CONNECT,
    DYNAMODB,
    END_USER_MESSAGING,
    READ_RECEIPT,
    RELAYED_LOOKUP,
    S3,
    SQS,
    STORED_LOOKUP,
    TRANSCRIBE,
    UNLISTED_READ,
    cancelled_by_condition,
)
from whatsapp_buffer.adapters.bursts_queue import BurstsFifoQueue
from whatsapp_buffer.adapters.end_user_messaging import EndUserMessaging
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.errors import (
    AttachmentRejected,
    ChatSessionGone,
    ConcurrentUpdate,
    ConfigurationError,
    MediaUnavailable,
    QueueRefused,
    ReadReceiptRefused,
    ReadRefused,
    TranscriptionAlreadyStarted,
    TranscriptionUnavailable,
    TransientAwsError,
    WhatsAppRefused,
)
from whatsapp_buffer.model import Burst, Conversation, OutgoingItem

UNCHANGED = None
"""Expected outcome of an error no row names: `translate` hands back the botocore error itself."""


def client_error(code, status, operation="Operation", **response):
    return ClientError(
        {"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": status}, **response}, operation
    )


TABLE = [
    # DynamoDB: transient codes or any 5xx first, then deployment bugs, then failed conditions.
    (DYNAMODB, "store a message", "ProvisionedThroughputExceededException", 400, TransientAwsError),
    (DYNAMODB, "store a message", "ThrottlingException", 400, TransientAwsError),
    (DYNAMODB, "store a message", "RequestLimitExceeded", 400, TransientAwsError),
    (DYNAMODB, "store a message", "InternalServerError", 500, TransientAwsError),
    (DYNAMODB, "store a message", "ServiceUnavailable", 503, TransientAwsError),
    (DYNAMODB, "store a message", "TransactionConflictException", 400, TransientAwsError),
    (DYNAMODB, "store a message", "TransactionInProgressException", 400, TransientAwsError),
    (DYNAMODB, "store a message", "TransactionCanceledException", 400, TransientAwsError),
    (DYNAMODB, "store a message", "SomethingNew", 502, TransientAwsError),
    (DYNAMODB, "store a message", "AccessDeniedException", 500, TransientAwsError),
    (DYNAMODB, "store a message", "ResourceNotFoundException", 400, ConfigurationError),
    (DYNAMODB, "store a message", "AccessDeniedException", 400, ConfigurationError),
    (DYNAMODB, "write a session", "ConditionalCheckFailedException", 400, ConcurrentUpdate),
    (DYNAMODB, "store a message", "ValidationException", 400, UNCHANGED),
    (DYNAMODB, RELAYED_LOOKUP, "ValidationException", 400, ReadRefused),
    (DYNAMODB, STORED_LOOKUP, "ValidationException", 400, ReadRefused),
    (DYNAMODB, RELAYED_LOOKUP, "ThrottlingException", 400, TransientAwsError),
    # SQS: deployment bugs first (whatever the status), then throttling ("Throttl" in the code), named codes, 5xx.
    (SQS, "SendMessage", "AWS.SimpleQueueService.NonExistentQueue", 400, ConfigurationError),
    (SQS, "SendMessage", "QueueDoesNotExist", 400, ConfigurationError),
    (SQS, "SendMessage", "AccessDenied", 403, ConfigurationError),
    (SQS, "SendMessage", "AccessDeniedException", 500, ConfigurationError),
    (SQS, "SendMessage", "ThrottlingException", 400, TransientAwsError),
    (SQS, "SendMessage", "RequestThrottled", 403, TransientAwsError),
    (SQS, "SendMessage", "KmsThrottled", 400, TransientAwsError),
    (SQS, "SendMessage", "ServiceUnavailable", 503, TransientAwsError),
    (SQS, "SendMessage", "InternalError", 500, TransientAwsError),
    (SQS, "SendMessage", "SomethingNew", 500, TransientAwsError),
    # refused for what the message holds (characters, size, a parameter): a resend cannot succeed
    (SQS, "SendMessage", "InvalidMessageContents", 400, QueueRefused),
    (SQS, "SendMessage", "InvalidParameterValue", 400, QueueRefused),
    (SQS, "DeleteMessage", "InvalidParameterValue", 400, UNCHANGED),
    (SQS, "SendMessage", "TooManyRequests", 429, UNCHANGED),
    # S3: a missing object is unavailable media; SlowDown, RequestTimeout and 5xx are transient; 429 is not read.
    (S3, "GetObject", "NoSuchKey", 404, MediaUnavailable),
    (S3, "GetObject", "404", 404, MediaUnavailable),
    (S3, "GetObject", "NotFound", 404, MediaUnavailable),
    (S3, "PutObject", "SlowDown", 503, TransientAwsError),
    (S3, "PutObject", "RequestTimeout", 400, TransientAwsError),
    (S3, "PutObject", "InternalError", 500, TransientAwsError),
    (S3, "GetObject", "AccessDenied", 403, UNCHANGED),
    # A read where the role may not list: S3 answers a missing object 403 (GetObject: without s3:ListBucket).
    (S3, UNLISTED_READ, "AccessDenied", 403, MediaUnavailable),
    (S3, UNLISTED_READ, "NoSuchKey", 404, MediaUnavailable),
    (S3, UNLISTED_READ, "InvalidObjectState", 403, UNCHANGED),
    (S3, "GetObject", "TooManyRequests", 429, UNCHANGED),
    # Connect and Connect Participant: AccessDeniedException is a gone chat on every call, even StartChatContact.
    (CONNECT, "StartChatContact", "AccessDeniedException", 403, ChatSessionGone),
    (CONNECT, "CreateParticipantConnection", "AccessDeniedException", 403, ChatSessionGone),
    (CONNECT, "SendMessage", "AccessDeniedException", 403, ChatSessionGone),
    (CONNECT, "StartAttachmentUpload", "AccessDeniedException", 403, ChatSessionGone),
    (CONNECT, "StartAttachmentUpload", "ValidationException", 400, AttachmentRejected),
    (CONNECT, "StartAttachmentUpload", "ServiceQuotaExceededException", 402, AttachmentRejected),
    (CONNECT, "CompleteAttachmentUpload", "ServiceQuotaExceededException", 402, AttachmentRejected),
    (CONNECT, "CompleteAttachmentUpload", "ValidationException", 400, UNCHANGED),
    (CONNECT, "SendMessage", "ValidationException", 400, UNCHANGED),
    (CONNECT, "SendMessage", "ServiceQuotaExceededException", 402, UNCHANGED),
    (CONNECT, "SendMessage", "ThrottlingException", 429, TransientAwsError),
    (CONNECT, "GetAttachment", "ThrottlingException", 400, TransientAwsError),
    (CONNECT, "SendMessage", "InternalServerException", 500, TransientAwsError),
    (CONNECT, "StartChatContact", "InternalServiceException", 400, TransientAwsError),
    (CONNECT, "StartChatContact", "ServiceUnavailableException", 400, TransientAwsError),
    (CONNECT, "StartChatContact", "LimitExceededException", 429, TransientAwsError),
    (CONNECT, "StartChatContact", "SomethingNew", 503, TransientAwsError),
    (CONNECT, "StartChatContact", "InvalidRequestException", 400, UNCHANGED),
    # End User Messaging: transient first on every call; then media calls refuse with any code, read receipts too.
    (END_USER_MESSAGING, "SendWhatsAppMessage", "ThrottledRequestException", 429, TransientAwsError),
    (END_USER_MESSAGING, "SendWhatsAppMessage", "InternalServiceException", 500, TransientAwsError),
    (END_USER_MESSAGING, "GetWhatsAppMessageMedia", "DependencyException", 502, TransientAwsError),
    (END_USER_MESSAGING, "PostWhatsAppMessageMedia", "SomethingNew", 429, TransientAwsError),
    (END_USER_MESSAGING, READ_RECEIPT, "DependencyException", 400, TransientAwsError),
    (END_USER_MESSAGING, "GetWhatsAppMessageMedia", "ResourceNotFoundException", 404, MediaUnavailable),
    (END_USER_MESSAGING, "GetWhatsAppMessageMedia", "ValidationException", 400, MediaUnavailable),
    (END_USER_MESSAGING, "PostWhatsAppMessageMedia", "AccessDeniedException", 403, MediaUnavailable),
    (END_USER_MESSAGING, READ_RECEIPT, "ValidationException", 400, ReadReceiptRefused),
    (END_USER_MESSAGING, "SendWhatsAppMessage", "ValidationException", 400, WhatsAppRefused),
    (END_USER_MESSAGING, "SendWhatsAppMessage", "InvalidParametersException", 400, WhatsAppRefused),
    (END_USER_MESSAGING, "SendWhatsAppMessage", "ResourceNotFoundException", 404, UNCHANGED),
    (END_USER_MESSAGING, "SendWhatsAppMessage", "AccessDeniedException", 403, UNCHANGED),
    # Transcribe: read by code, so the model's statuses (ConflictException 409, NotFoundException 404) and the 400 the
    # API Reference and recorded answers give lead to the same error; throttling and 5xx are transient.
    (TRANSCRIBE, "StartTranscriptionJob", "ConflictException", 409, TranscriptionAlreadyStarted),
    (TRANSCRIBE, "StartTranscriptionJob", "ConflictException", 400, TranscriptionAlreadyStarted),
    (TRANSCRIBE, "StartTranscriptionJob", "BadRequestException", 400, TranscriptionUnavailable),
    (TRANSCRIBE, "GetTranscriptionJob", "NotFoundException", 404, TranscriptionUnavailable),
    (TRANSCRIBE, "GetTranscriptionJob", "NotFoundException", 400, TranscriptionUnavailable),
    (TRANSCRIBE, "GetTranscriptionJob", "BadRequestException", 400, TranscriptionUnavailable),
    (TRANSCRIBE, "StartTranscriptionJob", "LimitExceededException", 429, TransientAwsError),
    (TRANSCRIBE, "StartTranscriptionJob", "LimitExceededException", 400, TransientAwsError),
    (TRANSCRIBE, "GetTranscriptionJob", "InternalFailureException", 500, TransientAwsError),
    (TRANSCRIBE, "GetTranscriptionJob", "ConflictException", 409, UNCHANGED),
]


@pytest.mark.parametrize(
    ("service", "operation", "code", "status", "expected"),
    TABLE,
    ids=[f"{s.name}-{op}-{code}-{status}" for s, op, code, status, _ in TABLE],
)
def test_an_error_becomes_the_domain_error_its_service_call_code_and_status_give_or_stays_unchanged(
    service, operation, code, status, expected
):
    error = client_error(code, status, operation)
    translated = service.translate(error, operation)
    if expected is UNCHANGED:
        assert translated is error
    else:
        assert type(translated) is expected and translated.code == code
        assert service.name in str(translated) and operation in str(translated) and code in str(translated)


@pytest.mark.parametrize("service", [DYNAMODB, SQS, S3, CONNECT, END_USER_MESSAGING], ids=lambda s: s.name)
@pytest.mark.parametrize(
    "error",
    [EndpointConnectionError(endpoint_url="https://service.invalid"), ReadTimeoutError(endpoint_url="https://x")],
    ids=["connection", "read-timeout"],
)
def test_a_call_that_got_no_answer_is_transient_for_every_service(service, error):
    with pytest.raises(TransientAwsError, match="unreachable") as raised, service.translating("Call"):
        raise error
    assert raised.value.__cause__ is error


@pytest.mark.parametrize("service", [DYNAMODB, SQS, S3, CONNECT, END_USER_MESSAGING], ids=lambda s: s.name)
def test_a_request_the_sdk_refuses_is_never_read_as_transient(service):
    """The contract: "A ParamValidationError anywhere is a clear, logged failure, not a silent retry loop." botocore
    raises it before sending when its model lacks a parameter (an SDK older than the code); every service lets it
    through to `reports_sdk_rejections`, even DynamoDB and SQS, which read other BotoCoreErrors as unreachable."""
    refused = ParamValidationError(report="Unknown parameter in input")
    with pytest.raises(ParamValidationError), service.translating("Call"):
        raise refused


def test_an_error_no_row_names_leaves_unchanged():
    error = client_error("ValidationException", 400, "SendMessage")
    with pytest.raises(ClientError) as raised, CONNECT.translating("SendMessage"):
        raise error
    assert raised.value is error


def test_a_translated_error_keeps_the_botocore_error_as_its_cause():
    error = client_error("AccessDeniedException", 403, "SendMessage")
    with pytest.raises(ChatSessionGone) as raised, CONNECT.translating("SendMessage"):
        raise error
    assert raised.value.__cause__ is error


# DynamoDB (moved from tests/unit/test_dynamodb_errors.py): both DynamoDB adapters map failures the same way.


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("ProvisionedThroughputExceededException", 400, "PutItem"), TransientAwsError),
        (client_error("InternalServerError", 500, "PutItem"), TransientAwsError),
        (client_error("TransactionCanceledException", 400, "PutItem"), TransientAwsError),
        (EndpointConnectionError(endpoint_url="https://dynamodb.invalid"), TransientAwsError),
        (client_error("ResourceNotFoundException", 400, "PutItem"), ConfigurationError),
        (client_error("AccessDeniedException", 400, "PutItem"), ConfigurationError),
    ],
)
def test_dynamodb_failures_become_the_projects_errors(error, expected):
    translated = DYNAMODB.translate(error, "store a message")
    assert isinstance(translated, expected)
    assert "store a message" in str(translated)


def test_a_dynamodb_validation_error_stays_what_it_is():
    error = client_error("ValidationException", 400, "PutItem")
    assert DYNAMODB.translate(error, "store a message") is error


def cancelled(*reasons):
    return client_error(
        "TransactionCanceledException", 400, CancellationReasons=[{"Code": reason} for reason in reasons]
    )


@pytest.mark.parametrize(
    ("error", "first_only", "expected"),
    [
        (cancelled("ConditionalCheckFailed", "None"), True, True),
        (cancelled("None", "ConditionalCheckFailed"), True, False),
        (cancelled("None", "ConditionalCheckFailed"), False, True),
        (cancelled("ConditionalCheckFailed", "ThrottlingError"), True, False),
        (cancelled("ConditionalCheckFailed", "TransactionConflict"), False, False),
        (cancelled("ProvisionedThroughputExceeded", "ConditionalCheckFailed"), False, False),
        (cancelled("None", "None"), False, False),
        (client_error("ConditionalCheckFailedException", 400), False, False),
    ],
)
def test_a_transaction_is_cancelled_by_a_condition_only_when_no_retry_could_help(error, first_only, expected):
    assert cancelled_by_condition(error, first_only) is expected


def test_a_transaction_the_sdk_refuses_is_never_read_as_transient():
    """The same contract as every service's `translating` (docs/architecture.md#aws-errors: a ParamValidationError
    is never translated): a TransactWriteItems botocore refuses before sending leaves as ParamValidationError, while
    one that got no answer is transient."""

    class Refusing:
        def __init__(self, error):
            self.error = error

        def transact_write_items(self, **_):
            raise self.error

    refused = ParamValidationError(report="Unknown parameter in input")
    with pytest.raises(ParamValidationError):
        aws_errors.write_transaction(Refusing(refused), "store a message", [], first_only=True)
    with pytest.raises(TransientAwsError, match="unreachable"):
        aws_errors.write_transaction(
            Refusing(EndpointConnectionError(endpoint_url="https://dynamodb")), "store a message", [], first_only=True
        )


class Cancelling:
    """A DynamoDB client whose every transaction is refused with `error`."""

    def __init__(self, error):
        self.error = error

    def transact_write_items(self, **_):
        raise self.error


@pytest.mark.parametrize(
    ("reasons", "failed"),
    [
        (("ConditionalCheckFailed", "None"), {0}),
        (("None", "ConditionalCheckFailed"), {1}),
        (("ConditionalCheckFailed", "ConditionalCheckFailed"), {0, 1}),
    ],
)
def test_a_transaction_cancelled_by_conditions_names_the_items_whose_condition_failed(reasons, failed):
    """botocore TransactionCanceledException: "Transaction cancellation reasons are ordered in the order of requested
    items, if an item has no error it will have None code"."""
    assert aws_errors.failed_conditions(Cancelling(cancelled(*reasons)), "move a session", []) == failed


def test_a_transaction_cancelled_by_a_conflict_as_well_as_a_condition_is_left_to_a_retry():
    with pytest.raises(TransientAwsError):
        aws_errors.failed_conditions(
            Cancelling(cancelled("ConditionalCheckFailed", "TransactionConflict")), "move a session", []
        )


def test_cancellation_reasons_are_read_from_the_message_when_a_client_gives_only_that():
    error = ClientError(
        {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                "[ConditionalCheckFailed, None]",
            }
        },
        "TransactWriteItems",
    )
    assert cancelled_by_condition(error, first_only=True)
    assert aws_errors.error_code(error) == "TransactionCanceledException"


# The adapters with no other test of their error path, through Stubber (requests checked against the real models).


def a_burst():
    return Burst(
        burst_id="b1",
        conversation=Conversation("111222333", "15550001111"),
        origination_phone_number_id="pn-1",
        display_name="Maria",
        items=(OutgoingItem(kind="text", text="Hi", message_ids=("wamid.1",)),),
        flushed_at=1.0,
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AWS.SimpleQueueService.NonExistentQueue", 400, ConfigurationError),
        ("RequestThrottled", 403, TransientAwsError),
        ("InvalidParameterValue", 400, QueueRefused),
        ("InvalidMessageContents", 400, QueueRefused),
        ("UnsupportedOperation", 400, ClientError),
    ],
)
def test_the_bursts_queue_translates_through_the_sqs_table(code, status, expected):
    client = boto3.client("sqs", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("send_message", code, http_status_code=status)
        with pytest.raises(expected):
            BurstsFifoQueue("https://sqs.us-east-1.amazonaws.com/123456789012/bursts.fifo", client).send(a_burst())


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [("NoSuchKey", 404, MediaUnavailable), ("SlowDown", 503, TransientAwsError), ("AccessDenied", 403, ClientError)],
)
def test_the_media_bucket_translates_through_the_s3_table(code, status, expected):
    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_object", code, http_status_code=status)
        stubber.add_client_error("put_object", code, http_status_code=status)
        store = MediaBucket("media-bucket", client)
        with pytest.raises(expected):
            store.get("inbound/b1/0-media")
        with pytest.raises(expected):
            store.put("outbound/c1/a1", b"x", "image/png")


def test_a_refused_read_receipt_is_its_own_error_while_a_refused_message_is_told_with_its_reason():
    # botocore model, SendWhatsAppMessage errors: ValidationException "The request contains an invalid parameter
    # value", InvalidParametersException "One or more parameters provided to the action are not valid".
    client = boto3.client("socialmessaging", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("send_whatsapp_message", "ValidationException", http_status_code=400)
        stubber.add_client_error("send_whatsapp_message", "ValidationException", http_status_code=400)
        stubber.add_client_error(
            "send_whatsapp_message", "ValidationException", "(#131047) Re-engagement message", http_status_code=400
        )
        whatsapp = EndUserMessaging("v20.0", client)
        with pytest.raises(ReadReceiptRefused):
            whatsapp.mark_read("pn-1", "wamid.1")
        with pytest.raises(WhatsAppRefused) as other:
            whatsapp.send_text("pn-1", "15550001111", "Hi")
        with pytest.raises(WhatsAppRefused) as window:
            whatsapp.send_text("pn-1", "15550001111", "Hi")
    assert not other.value.window_closed
    assert window.value.window_closed


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (cancelled("None", "None", "TransactionConflict"), True),
        (cancelled("TransactionConflict", "TransactionConflict"), True),
        (cancelled("ConditionalCheckFailed", "TransactionConflict"), False),
        (cancelled("ThrottlingError", "TransactionConflict"), False),
        (cancelled("None", "None"), False),
        (client_error("TransactionConflictException", 400), False),
    ],
)
def test_a_transaction_is_cancelled_by_a_conflict_only_when_nothing_else_cancelled_it(error, expected):
    """botocore TransactionCanceledException: "Transaction Conflict: Code: TransactionConflict, Message: Transaction
    is ongoing for the item"; "if an item has no error it will have None code"."""
    assert aws_errors.cancelled_by_conflict(error) is expected
