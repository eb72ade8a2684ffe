"""The one translation of AWS failures into the project's errors (`whatsapp_buffer.errors`), used by every adapter.

Each service has a table of rules, tried in order; the first that matches an error's code, HTTP status or the
operation it came from decides the project error. A botocore exception that never reached the service (the
service's `unreachable` classes: connection failures, timeouts) is `TransientAwsError`. What no rule matches (a bug,
or a refusal the code does not expect) propagates unchanged, so Lambda's retries and the dead-letter queue keep the
event and the log names the real error; use cases and entry modules decide only on `whatsapp_buffer.errors` classes.
How the services' rules differ: docs/architecture.md#aws-errors.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotoConnectionError

from whatsapp_buffer.errors import (
    AttachmentRejected,
    ChatSessionGone,
    ConcurrentUpdate,
    ConfigurationError,
    EchoRefused,
    LookupRefused,
    MediaUnavailable,
    PersistentChatRefused,
    QueueRefused,
    ReadReceiptRefused,
    ReadRefused,
    TranscriptionAlreadyStarted,
    TranscriptionUnavailable,
    TransientAwsError,
    WhatsAppBufferError,
    WhatsAppRefused,
)

NETWORK_ERRORS: tuple[type[Exception], ...] = (BotoConnectionError, HTTPClientError)
"""The request did not get an answer (connection refused or reset, DNS, read timeout): a retry may fix it."""
EVERY_BOTOCORE_ERROR: tuple[type[Exception], ...] = (BotoCoreError,)

READ_RECEIPT = "SendWhatsAppMessage (read receipt)"
"""A read receipt goes through SendWhatsAppMessage like any message, but its refusal is not worth a redelivery."""
TRANSCRIPT_ECHO = "SendWhatsAppMessage (transcript echo)"
TEMPLATE_LOOKUPS = (
    "GetLinkedWhatsAppBusinessAccountPhoneNumber",
    "ListWhatsAppMessageTemplates",
    "GetWhatsAppMessageTemplate",
)
"""A transcript sent back to the customer: like a read receipt, its refusal is not worth redelivering the burst."""


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


@dataclass(frozen=True)
class Rule:
    """One row: errors matching any of its conditions (limited to `operations` when given) become `error`."""

    error: type[WhatsAppBufferError]
    reason: str
    codes: frozenset[str] = frozenset()
    code_contains: str | None = None
    min_status: int | None = None
    statuses: frozenset[int] = frozenset()
    any_code: bool = False
    operations: frozenset[str] | None = None

    def matches(self, operation: str, code: str, status: int) -> bool:
        if self.operations is not None and operation not in self.operations:
            return False
        return (
            self.any_code
            or code in self.codes
            or bool(self.code_contains and self.code_contains in code)
            or (self.min_status is not None and status >= self.min_status)
            or status in self.statuses
        )


@dataclass(frozen=True)
class Service:
    """One AWS service's table."""

    name: str
    unreachable: tuple[type[Exception], ...]
    rules: tuple[Rule, ...]

    def translate(self, exc: Exception, operation: str) -> Exception:
        """The project error for `exc`, raised by `operation` (an API name or what the adapter was doing), or `exc`
        itself when no rule names it."""
        if not isinstance(exc, ClientError):
            return TransientAwsError(f"{self.name} {operation}: unreachable ({type(exc).__name__})")
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        for rule in self.rules:
            if rule.matches(operation, code, status):
                return rule.error(f"{self.name} {operation}: {rule.reason} ({code or status})", code=code)
        return exc

    @contextmanager
    def translating(self, operation: str) -> Iterator[None]:
        """Run one call to the service; its failures leave as the project's errors (or unchanged, see above)."""
        try:
            yield
        except ParamValidationError:
            raise
        except (ClientError, *self.unreachable) as exc:
            translated = self.translate(exc, operation)
            if translated is exc:
                raise
            raise translated from exc


_RETRY = "throttled or unavailable, a retry may fix it"


def _transient(*codes: str, code_contains: str | None = None, too_many_requests: bool = False) -> Rule:
    """The row every service has: throttled or failing on its side (its `codes`, any HTTP 5xx, and HTTP 429 where
    `too_many_requests`), so a retry may fix it."""
    return Rule(
        TransientAwsError,
        _RETRY,
        codes=frozenset(codes),
        code_contains=code_contains,
        min_status=500,
        statuses=frozenset({429}) if too_many_requests else frozenset(),
    )


RELAYED_LOOKUP = "read a relayed message"
STORED_LOOKUP = "find a replied-to message"
"""The raw table's reads by message id (a reply's quote, a failed status's message): a key DynamoDB refuses as
invalid (over its 2,048 / 1,024-byte partition / sort key limits) is refused on every retry."""

DYNAMODB = Service(
    "DynamoDB",
    EVERY_BOTOCORE_ERROR,
    (
        _transient(
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "InternalServerError",
            "ServiceUnavailable",
            "TransactionConflictException",
            "TransactionInProgressException",
            # Cancelled for a reason other than a failed condition (callers check conditions first): retry.
            "TransactionCanceledException",
        ),
        Rule(
            ConfigurationError,
            "the table is missing or the role may not use it (check the table name and permissions)",
            codes=frozenset({"ResourceNotFoundException", "AccessDeniedException"}),
        ),
        Rule(ConcurrentUpdate, "an item changed meanwhile", codes=frozenset({"ConditionalCheckFailedException"})),
        Rule(
            ReadRefused,
            "lookup refused as invalid",
            codes=frozenset({"ValidationException"}),
            operations=frozenset({RELAYED_LOOKUP, STORED_LOOKUP}),
        ),
    ),
)

SQS = Service(
    "SQS",
    EVERY_BOTOCORE_ERROR,
    (
        Rule(
            ConfigurationError,
            "the queue is missing or the role may not use it (check the queue URL and permissions)",
            codes=frozenset(
                {
                    "AWS.SimpleQueueService.NonExistentQueue",
                    "QueueDoesNotExist",
                    "AccessDenied",
                    "AccessDeniedException",
                }
            ),
        ),
        _transient("ServiceUnavailable", "InternalError", "KmsThrottled", code_contains="Throttl"),
        Rule(
            # botocore sqs SendMessage: "If a message contains characters outside the allowed set, Amazon SQS rejects
            # the message and returns an InvalidMessageContents error". A body over the queue's size, or a parameter
            # SQS does not accept, is InvalidParameterValue ("Message must be shorter than 1048576 bytes"; the model
            # does not list it: artilleryio/artillery#3683, serverless-nextjs/serverless-next.js#1616).
            QueueRefused,
            "message refused for what it holds",
            codes=frozenset({"InvalidMessageContents", "InvalidParameterValue"}),
            operations=frozenset({"SendMessage"}),
        ),
    ),
)

UNLISTED_READ = "GetObject (a prefix the role may not list)"
"""A read where S3 answers a missing object AccessDenied (403), not NoSuchKey: botocore's GetObject documentation, "If
you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403 Forbidden error". Read as
missing there: S3 gives the caller no way to tell a missing object from a refused one without ListBucket."""

S3 = Service(
    "S3",
    NETWORK_ERRORS,
    (
        Rule(MediaUnavailable, "object missing", codes=frozenset({"NoSuchKey", "404", "NotFound"})),
        Rule(
            MediaUnavailable,
            "object missing or not readable",
            codes=frozenset({"AccessDenied"}),
            operations=frozenset({UNLISTED_READ}),
        ),
        _transient("SlowDown", "RequestTimeout"),
    ),
)

PERSISTENT_CHAT = "StartChatContact (persistent)"
"""A StartChatContact with PersistentChat. Connect documents no error code for a refused rehydration (the model
declares InvalidRequestException, InvalidParameterException, ResourceNotFoundException, InternalServiceException and
LimitExceededException), so any answer but success is a refusal: the chat is then started linked instead, which
meets throttling or an outage again if that was the cause."""

CONNECT = Service(
    "Connect",
    NETWORK_ERRORS,
    (
        Rule(PersistentChatRefused, "persistent chat refused", any_code=True, operations=frozenset({PERSISTENT_CHAT})),
        Rule(ChatSessionGone, "chat ended or token expired", codes=frozenset({"AccessDeniedException"})),
        Rule(
            AttachmentRejected,
            "attachment refused (type or size)",
            codes=frozenset({"ValidationException", "ServiceQuotaExceededException"}),
            operations=frozenset({"StartAttachmentUpload"}),
        ),
        Rule(
            AttachmentRejected,
            "attachment refused (quota)",
            codes=frozenset({"ServiceQuotaExceededException"}),
            operations=frozenset({"CompleteAttachmentUpload"}),
        ),
        _transient(
            "ThrottlingException",
            "InternalServerException",
            "InternalServiceException",
            "ServiceUnavailableException",
            too_many_requests=True,
        ),
    ),
)
"""Both clients: `connect` (StartChatContact) and `connectparticipant` (everything the customer side does)."""

END_USER_MESSAGING = Service(
    "End User Messaging",
    NETWORK_ERRORS,
    (
        _transient(
            "ThrottledRequestException", "InternalServiceException", "DependencyException", too_many_requests=True
        ),
        Rule(
            MediaUnavailable,
            "media refused",
            any_code=True,
            operations=frozenset({"GetWhatsAppMessageMedia", "PostWhatsAppMessageMedia"}),
        ),
        Rule(ReadReceiptRefused, "read receipt refused", any_code=True, operations=frozenset({READ_RECEIPT})),
        Rule(
            # The client errors the model declares for the number and template lookups (not found, not allowed by
            # IAM or by Meta, not valid): the outreach refuses, naming the code.
            LookupRefused,
            "lookup refused",
            codes=frozenset(
                {
                    "ResourceNotFoundException",
                    "AccessDeniedException",
                    "AccessDeniedByMetaException",
                    "ValidationException",
                    "InvalidParametersException",
                }
            ),
            operations=frozenset(TEMPLATE_LOOKUPS),
        ),
        Rule(EchoRefused, "transcript echo refused", any_code=True, operations=frozenset({TRANSCRIPT_ECHO})),
        Rule(
            # The model's client errors of SendWhatsAppMessage that say the message itself is not acceptable
            # ("The request contains an invalid parameter value", "One or more parameters … are not valid").
            WhatsAppRefused,
            "message refused",
            codes=frozenset({"ValidationException", "InvalidParametersException"}),
            operations=frozenset({"SendWhatsAppMessage"}),
        ),
    ),
)

TRANSCRIBE = Service(
    "Transcribe",
    NETWORK_ERRORS,
    (
        Rule(
            TranscriptionAlreadyStarted,
            "a job of this name exists",
            codes=frozenset({"ConflictException"}),
            operations=frozenset({"StartTranscriptionJob"}),
        ),
        _transient("LimitExceededException", "InternalFailureException", "ThrottlingException", too_many_requests=True),
        Rule(
            TranscriptionUnavailable,
            "job refused or unknown",
            codes=frozenset({"BadRequestException", "NotFoundException"}),
        ),
    ),
)
"""botocore `transcribe`: StartTranscriptionJob raises BadRequestException ("Your request didn't pass one or more
validation tests"), LimitExceededException ("You've either sent too many requests or your input file is too long.
Wait before retrying your request"), InternalFailureException ("There was an internal error") and ConflictException
("A resource already exists with this name"); GetTranscriptionJob NotFoundException ("We can't find the requested
resource") instead of ConflictException. The delivery never fails on these: a recording it cannot transcribe is
delivered with a line saying so."""

_TRANSIENT_CANCELLATIONS = frozenset({"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"})
"""TransactWriteItems cancellation reasons a retry may fix: such a cancellation is never read as a failed condition."""


def _cancellation_reasons(exc: ClientError) -> list[str | None]:
    """A cancelled transaction's reason code per item, in the order of its items."""
    reasons: list[str | None] = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
    if not reasons:
        # Some clients only put the reasons in the message: "... reasons [ConditionalCheckFailed, None]".
        message = exc.response.get("Error", {}).get("Message", "")
        reasons = [r.strip() for r in message.partition("[")[2].rstrip("]").split(",")]
    return reasons


def cancelled_by_condition(exc: ClientError, first_only: bool) -> bool:
    """True when a DynamoDB transaction was cancelled because a condition failed (on its first item when
    `first_only`), and by nothing a retry may fix."""
    if error_code(exc) != "TransactionCanceledException":
        return False
    reasons = _cancellation_reasons(exc)
    if any(reason in _TRANSIENT_CANCELLATIONS for reason in reasons):
        return False
    if first_only:
        return bool(reasons) and reasons[0] == "ConditionalCheckFailed"
    return "ConditionalCheckFailed" in reasons


CONFLICT_RETRIES = 3
"""How many times `write_transaction` sends again a transaction cancelled only by a concurrent one."""
CONFLICT_BACKOFF_SECONDS = 0.025
"""The first retry's back-off ceiling, doubled for each next one; each back-off is drawn from 0 to its ceiling ("full
jitter", AWS Architecture Blog, "Exponential Backoff And Jitter"), so two writers that conflicted part again."""


def cancelled_by_conflict(exc: ClientError) -> bool:
    """True when a DynamoDB transaction was cancelled only because another transaction held one of its items:
    reason `TransactionConflict` ("Transaction is ongoing for the item", botocore TransactionCanceledException) on
    some items, `None` on the rest. botocore does not retry it (its DynamoDB retry policies name
    TransactionInProgressException, never TransactionCanceledException)."""
    if error_code(exc) != "TransactionCanceledException":
        return False
    reasons = _cancellation_reasons(exc)
    return "TransactionConflict" in reasons and all(
        reason in ("TransactionConflict", "None", None) for reason in reasons
    )


def write_transaction(client: Any, operation: str, items: list[dict[str, Any]], *, first_only: bool) -> bool:
    """DynamoDB TransactWriteItems of `items`: False when a failed condition cancelled it (on its first item when
    `first_only`), True when it was written. A cancellation by a concurrent transaction alone is sent again up to
    `CONFLICT_RETRIES` times after a jittered back-off (a cancelled transaction wrote nothing, so only the caller's
    conditions decide what a retry writes). Any other failure, the service's or the network's, leaves as
    `DYNAMODB.translate` makes it; a ParamValidationError leaves untranslated, as from `Service.translating`."""
    return _written_or_refused(client, operation, items, first_only=first_only) is None


def refused_positions(client: Any, operation: str, items: list[dict[str, Any]]) -> frozenset[int]:
    """`failed_conditions` with `write_transaction`'s retries of a transaction a concurrent one cancelled."""
    cancelled = _written_or_refused(client, operation, items, first_only=False)
    return frozenset() if cancelled is None else _refused(cancelled)


def _written_or_refused(
    client: Any, operation: str, items: list[dict[str, Any]], *, first_only: bool
) -> ClientError | None:
    attempt = 0
    while True:
        cancelled = _transact(client, operation, items)
        if cancelled is None or cancelled_by_condition(cancelled, first_only=first_only):
            return cancelled
        if attempt == CONFLICT_RETRIES or not cancelled_by_conflict(cancelled):
            raise DYNAMODB.translate(cancelled, operation) from cancelled
        time.sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS * 2**attempt))
        attempt += 1


def failed_conditions(client: Any, operation: str, items: list[dict[str, Any]]) -> frozenset[int]:
    """DynamoDB TransactWriteItems of `items`: the positions of the items whose condition failed and cancelled it,
    none when it was written. Any other failure leaves as from `write_transaction`."""
    cancelled = _transact(client, operation, items)
    if cancelled is None:
        return frozenset()
    if cancelled_by_condition(cancelled, first_only=False):
        return _refused(cancelled)
    raise DYNAMODB.translate(cancelled, operation) from cancelled


def _refused(cancelled: ClientError) -> frozenset[int]:
    return frozenset(
        i for i, reason in enumerate(_cancellation_reasons(cancelled)) if reason == "ConditionalCheckFailed"
    )


def _transact(client: Any, operation: str, items: list[dict[str, Any]]) -> ClientError | None:
    """Send the transaction: None when written, the service's refusal for the caller to read; a failure of the
    network leaves translated, a ParamValidationError untranslated."""
    try:
        client.transact_write_items(TransactItems=items)
    except ClientError as exc:
        return exc
    except ParamValidationError:
        raise
    except BotoCoreError as exc:
        raise DYNAMODB.translate(exc, operation) from exc
    return None


def conditional_write(operation: str, method: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
    """One DynamoDB write with a ConditionExpression, its failures translated by `DYNAMODB.translating`: its
    response, or None when the condition failed (the item is not in the state the write expects)."""
    try:
        with DYNAMODB.translating(operation):
            return method(**kwargs)
    except ConcurrentUpdate:
        return None


def refused_item(refused: ConcurrentUpdate) -> dict[str, Any]:
    """The item a write's condition refused, as DynamoDB returns it to a write that asked with
    `ReturnValuesOnConditionCheckFailure=ALL_OLD` (botocore: "Item which caused the ConditionalCheckFailedException");
    empty when there is none (no item at the key, or not asked)."""
    cause = refused.__cause__
    item = cause.response.get("Item") if isinstance(cause, ClientError) else None
    return item if isinstance(item, dict) else {}
