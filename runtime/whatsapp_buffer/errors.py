"""The project's exceptions. Adapters translate botocore errors into these (one table: `adapters/aws_errors.py`);
services and entry modules catch only these and decide what each means."""


class WhatsAppBufferError(Exception):
    """Base class of every error this runtime raises on purpose."""


class ConfigurationError(WhatsAppBufferError):
    """An environment variable the function needs is missing or invalid (a deployment bug, not bad input)."""


class MalformedEvent(WhatsAppBufferError):
    """An incoming event (SNS body, webhook entry, stream record, queue body) cannot be parsed; never retried into success."""


class UnsupportedEvent(MalformedEvent):
    """An event parsed fine but is of a kind this function does not handle (e.g. a non-EUM SNS body)."""


class TransientAwsError(WhatsAppBufferError):
    """An AWS call failed in a way a retry may fix (throttling, 5xx, timeouts)."""


class ConcurrentUpdate(WhatsAppBufferError):
    """A conditional write lost a race (e.g. the control item's version moved); re-read and retry."""


class ChatSessionGone(WhatsAppBufferError):
    """The Connect chat ended or its participant token no longer works (AccessDeniedException): start a new chat."""


class AttachmentRejected(WhatsAppBufferError):
    """Connect refused an attachment (type or size not allowed on the instance)."""


class MediaUnavailable(WhatsAppBufferError):
    """WhatsApp media could not be fetched or posted through End User Messaging, or its object is gone from S3."""


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
