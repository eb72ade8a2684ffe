"""Pure: JSON an SQS message body may hold, whatever its strings hold.

botocore's `sqs` model, SendMessage MessageBody: "The following Unicode characters are allowed ... #x9 | #xA | #xD |
#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF. If a message contains characters outside the allowed set,
Amazon SQS rejects the message and returns an InvalidMessageContents error." Ingest replaces such characters
(`ingest.meta_content.clean`); this is the last line before the queue, for anything stored before that or not
cleaned: each is written as its JSON `\\uXXXX` escape, which a JSON reader decodes to the same character.
"""

from __future__ import annotations

import json
import re
from typing import Any

OUTSIDE_SQS_BODY = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character an SQS body may not hold. All of them are in the Basic Multilingual Plane: a four-hex escape each."""


def escaped(json_text: str) -> str:
    """`json_text` with every character an SQS body may not hold written as its escape. Outside its strings, JSON
    text is ASCII, and `json.dumps` already escapes tab, newline and the other C0 controls inside them, so such a
    character can only stand inside a string, where the escape means the same character."""
    return OUTSIDE_SQS_BODY.sub(lambda found: f"\\u{ord(found.group()):04x}", json_text)


def queue_json(value: Any, **dumps: Any) -> str:
    """`json.dumps(value, ensure_ascii=False, **dumps)`, `escaped`: the characters SQS allows stay as they are (the
    body is as long as before), the others go as escapes."""
    return escaped(json.dumps(value, ensure_ascii=False, **dumps))
