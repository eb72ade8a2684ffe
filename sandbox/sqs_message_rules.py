"""SQS's rule on the characters of a message body, which moto does not apply: a body SQS refuses is refused here too.

botocore's `sqs` model, SendMessage MessageBody: "The following Unicode characters are allowed ... #x9 | #xA | #xD |
#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. If a message contains characters outside the allowed set,
Amazon SQS rejects the message and returns an InvalidMessageContents error." `SdkHooks` applies it at `before-send`
to each function's own SendMessage (sandbox.sdk_events), answering as SQS would; the functions send no batches.
Sources disagree: an earlier revision of the same documentation said SQS "replaces those invalid characters with
U+FFFD" (still in the AWS SDK for .NET v4 reference; async-aws/aws#1950 shows the change); the sandbox follows the
model the functions' botocore ships, the stricter. Why and the sources: docs/sandbox.md#a-message-body-sqs-refuses.
"""

from __future__ import annotations

import re
from typing import Any

OUTSIDE_ALLOWED = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character outside the set the SendMessage documentation allows (the XML 1.0 `Char` production)."""
INVALID_MESSAGE_CONTENTS = "InvalidMessageContents"
MESSAGE = "The message contains characters outside the allowed set."
"""The documentation of the model's InvalidMessageContents error shape; SQS's own wording is not documented."""
STATUS = 400
"""The model gives the error shape no HTTP status (its traits say only `exception`); the AWS SDK for Python's error
reference calls it a client fault, and 400 is the status of SQS's client errors: the sandbox's choice."""


def refusal(service: str, operation: str, params: dict[str, Any]) -> str | None:
    """The error code SQS answers this call with for its body's characters; None when SQS accepts them."""
    if service != "sqs" or operation != "SendMessage":
        return None
    body = params.get("MessageBody")
    if isinstance(body, str) and OUTSIDE_ALLOWED.search(body):
        return INVALID_MESSAGE_CONTENTS
    return None


__all__ = ["INVALID_MESSAGE_CONTENTS", "MESSAGE", "OUTSIDE_ALLOWED", "STATUS", "refusal"]
