"""The project's exceptions. Adapters translate botocore errors into these (one table: `adapters/aws_errors.py`);
use cases and entry modules decide what an error means only by these classes. A broad `except Exception` only keeps
one item's failure from the others (logged, counted, tried again later) or cleans up and raises again."""


class WhatsAppBufferError(Exception):
    """Base class of every error this runtime raises on purpose; `code` is the AWS error code of the failure it
    translates (`adapters/aws_errors.py`), empty when there is none."""

    def __init__(self, *args: object, code: str = "") -> None:
        super().__init__(*args)
        self.code = code


class ConfigurationError(WhatsAppBufferError):
    """An environment variable the function needs is missing or invalid (a deployment bug, not bad input)."""


class MalformedEvent(WhatsAppBufferError):
    """An incoming event (SNS body, webhook entry, stream record, queue body) cannot be parsed; never retried into success."""


class UnsupportedEvent(MalformedEvent):
    """An event parsed fine but is of a kind this function does not handle (e.g. a non-EUM SNS body)."""


class TransientAwsError(WhatsAppBufferError):
    """An AWS call failed in a way a retry may fix (throttling, 5xx, timeouts)."""


class SessionNotYetFound(TransientAwsError):
    """A young streaming event's chat has no session in the contact index yet (the inbound function's write, or the
    index, has not caught up): the invocation fails so Lambda delivers the event again."""


class ReadRefused(WhatsAppBufferError):
    """DynamoDB refused a lookup as invalid (ValidationException, e.g. a key over its size limit): every retry is
    refused the same."""


class ConcurrentUpdate(WhatsAppBufferError):
    """A conditional write lost a race (e.g. the control item's version moved); re-read and retry."""


class UnreadableMessages(WhatsAppBufferError):
    """Stored message items of a conversation cannot be read back (a body that is not the JSON this runtime writes);
    `items` holds each one's sort key and why."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(items)} stored message(s) cannot be read back")
        self.items = items


class QueueRefused(WhatsAppBufferError):
    """SQS refused a message for what it holds (characters outside its allowed set, a body over the queue's size, a
    parameter it does not accept): sending the same message again cannot succeed."""


class TranscriptClaimedElsewhere(WhatsAppBufferError):
    """Another invocation holds the claim on a transcript owed (posting it, or died doing so): retry later."""


class ChatSessionGone(WhatsAppBufferError):
    """The Connect chat ended or its participant token no longer works (AccessDeniedException): start a new chat."""


class PersistentChatRefused(WhatsAppBufferError):
    """Connect would not start a chat as the persistent continuation of the previous one: start it linked instead."""


class RelatedChatRefused(WhatsAppBufferError):
    """Connect would not start a chat related to the previous one (under that token, or linked to that contact);
    `code` is Connect's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(f"related chat refused ({code})", code=code)


class ContactNotFound(WhatsAppBufferError):
    """Connect has no such contact (any more): there is nothing to stop (StopContact's ContactNotFoundException)."""


class ContactNotStopped(WhatsAppBufferError):
    """Connect refused to stop a contact for a reason no other error names (a request it found invalid)."""


class AttachmentRejected(WhatsAppBufferError):
    """Connect refused an attachment (type or size not allowed on the instance)."""


class MediaUnavailable(WhatsAppBufferError):
    """WhatsApp media could not be fetched or posted through End User Messaging, or its object is gone from S3."""


class MediaCopyNotFound(MediaUnavailable):
    """End User Messaging's copy to a key prefix left no object, or more than one, under that prefix: which object
    is the file cannot be told."""


class TranscriptionUnavailable(WhatsAppBufferError):
    """Amazon Transcribe refused a job (BadRequestException) or a job failed: the recording goes without a transcript."""


class EchoRefused(WhatsAppBufferError):
    """End User Messaging refused a transcript echo to the customer: the burst is in the chat anyway."""


class TranscriptionAlreadyStarted(WhatsAppBufferError):
    """A job of this name exists already (ConflictException): the recording is being or was transcribed; read it."""


class WhatsAppRefused(WhatsAppBufferError):
    """End User Messaging refused to send a message (ValidationException / InvalidParametersException): the agent
    is told, the event is not retried. `window_closed` when the refusal names Meta's error 131047."""

    window_closed: bool = False


class ReadReceiptRefused(WhatsAppBufferError):
    """End User Messaging refused a read receipt (e.g. an unknown or old message id): the burst is delivered anyway."""


class SdkRejectedRequest(ConfigurationError):
    """botocore refused to send a request (ParamValidationError): the function runs an SDK that does not know a
    parameter the code uses — a deployment without the stack's SDK layer. Logged, counted, never retried into
    success."""


class OutreachRefused(WhatsAppBufferError):
    """An outreach a contact flow asked for cannot go (bad request, unknown or unapproved template, wrong parameter
    count, a number the stack may not use): the flow is answered `refused` with this one-line reason."""


class LookupRefused(WhatsAppBufferError):
    """End User Messaging refused to look up a number or a template (not found, not allowed, not valid)."""
