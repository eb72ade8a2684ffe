"""How the DynamoDB adapters (raw_store, sessions) turn botocore failures into the project's errors."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from whatsapp_buffer.errors import ConfigurationError, TransientAwsError

TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
        # Cancelled for a reason other than a failed condition (callers check conditions first): retry.
        "TransactionCanceledException",
    }
)
DEPLOYMENT_CODES = frozenset({"ResourceNotFoundException", "AccessDeniedException"})
"""The table is missing or the role may not use it: a deployment bug, not something a retry fixes."""


def translate(exc: ClientError | BotoCoreError, action: str) -> Exception:
    """The error to raise for a failed DynamoDB call made to `action` (e.g. "store a message")."""
    if not isinstance(exc, ClientError):
        return TransientAwsError(f"DynamoDB unreachable ({action}): {type(exc).__name__}")
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in TRANSIENT_CODES or status >= 500:
        return TransientAwsError(f"DynamoDB could not {action}: {code or status}")
    if code in DEPLOYMENT_CODES:
        return ConfigurationError(f"DynamoDB refused to {action}: {code} (check the table name and permissions)")
    return exc
