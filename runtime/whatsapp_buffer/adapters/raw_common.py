"""What every item of the raw table shares: the partition of its conversation, how numbers are written and read back,
and the one client with its error translation.

The item kinds are kept apart by what they are for (`raw_messages`: the customer's messages; `raw_control`: the
aggregator's control and tick items; `raw_outbound`: what the bridge sent and WhatsApp refused), and all of them build
on this module, so the partition key and the translation of DynamoDB's failures are written once.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.config

from whatsapp_buffer.adapters.aws_errors import DYNAMODB, conditional_write
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.storage_keys import PK_PREFIX

MSG_PREFIX = "MSG#"
"""What every message item's sort key begins with (`raw_messages.message_sort_key`)."""
MSG_END = "MSG$"
"""The first sort key after every message item's (`$` follows `#`): the upper bound of a read of message items, and
where the unsent ones begin when none is left."""
UNSENT_FROM = "unsent_from"
"""Control item (S): no message item the last settle left unsent sorts before it (`MSG_END`: none was left)."""
STORED_SINCE = "stored_since"
"""Control item (NS): the WhatsApp time (`sent_at`) of each message stored since the last settle, one number per
second whatever the messages, since a late message's may put it before `UNSENT_FROM`."""
STORED_SINCE_LIMIT = 100
"""The most numbers `STORED_SINCE` holds; the message that would add one more removes it and `UNSENT_FROM` (the next
flush reads every message item kept). A burst is at most 100 messages (`maxMessages`), so it fills when settles stop,
seldom else; a number of 10 digits takes 6 bytes ("1 byte per two significant digits) + (1 byte)": DynamoDB Developer
Guide, item sizes), so the control item stays under 1 KB, one write unit, however long no settle comes."""


def sent_at_prefix(sent_at: float) -> str:
    """`MSG#<sent_at>`, fixed width: what the sort key of every message item sent at `sent_at` begins with, in this
    layout and the older one alike, so it sorts before each of them."""
    return f"{MSG_PREFIX}{sent_at:020.6f}"


def partition_key(conversation: Conversation) -> str:
    return f"{PK_PREFIX}{conversation.key}"


def expires_at(now: float, retention_hours: float) -> dict[str, str]:
    """The TTL attribute of an item kept `retention_hours` after `now` (as long as raw messages are kept)."""
    return {"N": str(int(now + retention_hours * 3600))}


def number(value: float) -> str:
    return repr(float(value))


def read_number(item: dict[str, Any], name: str) -> float | None:
    value = item.get(name)
    return float(value["N"]) if value and "N" in value else None


def read_int(item: dict[str, Any], name: str) -> int | None:
    value = read_number(item, name)
    return None if value is None else int(value)


class RawTableClient:
    """The raw table's name and client. Built once per cold start; tests hand in a client of a moto-backed table."""

    def __init__(self, table_name: str, client: Any | None = None, *, max_connections: int = 10) -> None:
        """`max_connections`: the client's HTTP pool, at least the number of threads that call at once."""
        self.table_name = table_name
        self.client = (
            client
            if client is not None
            else boto3.client("dynamodb", config=botocore.config.Config(max_pool_connections=max_connections))
        )

    def _call(self, action: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        with DYNAMODB.translating(action):
            result: dict[str, Any] = method(**kwargs)
        return result

    def _conditional(self, action: str, method: Any, **kwargs: Any) -> dict[str, Any] | None:
        """`_call` of a write with a ConditionExpression: None when DynamoDB refused the condition (the item is not
        in the state the write expects), its response otherwise."""
        return conditional_write(action, method, **kwargs)
