"""Pure: the keys of what the functions store and read back, where a stage reads what an adapter wrote, and the
names the stack's resources and IAM policies share with the functions (indexes and their key attributes, key
prefixes, transcription jobs and their events).

The raw table: every item of a conversation sits under `PK_PREFIX` + its key; the stream's readers (the aggregator's
window, the inbound function's preparation and refusal notices) tell items apart by sort key and `record_type`. The
adapters in `adapters/raw_*.py` write them (layout: docs/architecture.md). The media bucket: keys carry ids only,
never phone numbers. The program imports this module too (components/), so it imports only the standard library,
`errors` and `model`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from whatsapp_buffer.errors import MalformedEvent
from whatsapp_buffer.model import Conversation

PK_PREFIX = "CONV#"
RECORD_TYPE = "record_type"
"""The attribute that says what an item of the raw table is (the values below); the stream filters match on it."""
MESSAGE = "message"
"""`record_type` of a customer's message item."""
REFUSAL = "refusal"
"""`record_type` of a refusal item (what the inbound function's stream filter passes)."""
CONTROL_SK = "CONTROL"
CONTROL = "control"
TICK_SK = "TICK"
TICK = "tick"
"""`record_type` of a tick item (what the aggregator's stream filter passes, with control items)."""
TICK_LISTED = "listed"
"""The tick's map of conversations. Not `waiting`: that is the pending-since index's hash key, and a tick is no
conversation with pending messages."""
PENDING_INDEX = "pending-since"
"""The raw table's sparse index of conversations with pending messages: hash `WAITING`, range `FIRST_PENDING`. The
sweeper reads it."""
WAITING = "waiting"
"""The `pending-since` index's hash key attribute; one value, `pending`, on every control item with pending messages."""
FIRST_PENDING = "first_pending"
"""The `pending-since` index's range key attribute (a number): when the conversation's oldest pending message came."""

CONTACT_INDEX = "by-contact"
"""The sessions table's index of sessions by Connect contact id (how the outbound function finds a chat's session)."""
CONTACT_ID = "contact_id"
"""The `by-contact` index's hash key attribute: the Connect contact id of a session's chat."""
DEBT_PREFIX = "transcript-owed#"
"""Key prefix of the sessions table's items recording a transcript owed to a chat (one item per job, hash key
`transcript-owed#<job name>`). They carry no `contact_id`, so the sparse `by-contact` index never sees them; the
inbound function's IAM grant to settle them is limited to this prefix."""
OWED_INDEX = "owed-since"
"""The sessions table's sparse index of the transcripts still owed (hash `DEBT_OPEN`, range `OWED_AT`, keys only)."""
DEBT_OPEN = "debt_open"
"""The `owed-since` index's hash key attribute: only a debt not yet paid carries it."""
OWED_AT = "owed_at"
"""The `owed-since` index's range key attribute (a number): when the debt was recorded."""
OUTREACH_PREFIX = "outreach#"
"""Key prefix of the sessions table's outreach records (`outreach#<conversation key>`): the outreach function's IAM
grant is limited to it."""


def _stream_keys(keys: Mapping[str, Any]) -> tuple[str, str]:
    """(pk, sk) of a stream record's (deserialized) Keys; MalformedEvent when they are not this table's."""
    pk, sk = keys.get("pk"), keys.get("sk")
    if not isinstance(pk, str) or not pk.startswith(PK_PREFIX) or not isinstance(sk, str):
        raise MalformedEvent("stream record keys are not the raw table's (pk/sk)")
    return pk, sk


def tick_from_stream(keys: Mapping[str, Any], image: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """(anchor conversation key, {conversation key: image or None}) of a tick record's (deserialized) Keys and
    NewImage; None for records of other items or a tick record without its image (a REMOVE)."""
    pk, sk = _stream_keys(keys)
    if sk != TICK_SK and not sk.startswith(f"{TICK_SK}#"):
        return None
    if not image or image.get(RECORD_TYPE) != TICK or not isinstance(image.get(TICK_LISTED), Mapping):
        return None
    return pk[len(PK_PREFIX) :], dict(image[TICK_LISTED])


def conversation_from_stream_keys(keys: Mapping[str, Any]) -> Conversation | None:
    """The conversation of a stream record's (deserialized) Keys when it is a control item, else None.
    Raises MalformedEvent when the keys are not this table's."""
    pk, sk = _stream_keys(keys)
    if sk != CONTROL_SK:
        return None
    return Conversation.from_key(pk[len(PK_PREFIX) :])


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(part: str) -> str:
    return _UNSAFE.sub("_", part)[:200] or "_"


INBOUND_PREFIX = "inbound/"
PREPARED_PREFIX = "prepared/"
"""The two prefixes under which the inbound function copies customers' media from WhatsApp (`inbound_key`,
`prepared_key`): its role may list the media bucket under these only."""


def inbound_key(burst_id: str, index: int, media_id: str) -> str:
    """Where a customer's media item `index` of a burst is copied from WhatsApp."""
    return f"{INBOUND_PREFIX}{_safe(burst_id)}/{index}-{_safe(media_id)}"


def prepared_key(media_id: str) -> str:
    """Where a customer's voice note or audio file is copied as soon as it is stored (early preparation for its
    transcript), whatever burst it ends up in."""
    return f"{PREPARED_PREFIX}{_safe(media_id)}"


def copy_prefix(key: str) -> str:
    """The key prefix End User Messaging copies a file under when a pre-signed URL for `key` is too long
    (`destinationS3File`): `<key>/`, which nothing else is written under, so the copy is the one object there."""
    return f"{key}/"


def outbound_key(contact_id: str, attachment_id: str) -> str:
    """Where an agent's attachment is staged before it is posted to WhatsApp."""
    return f"outbound/{_safe(contact_id)}/{_safe(attachment_id)}"


TRANSCRIBE_EVENT_SOURCE = "aws.transcribe"
TRANSCRIBE_EVENT_DETAIL_TYPE = "Transcribe Job State Change"
"""`source` and `detail-type` of Transcribe's job events (Amazon Transcribe developer guide, "Using Amazon EventBridge
with Amazon Transcribe"): the stack's EventBridge rule matches them, the inbound function tells them apart by them."""
TRANSCRIPTS_PREFIX = "transcripts/"
"""Where in the media bucket Transcribe writes the transcripts (the only output keys the inbound function's role may
name)."""


def job_name(bucket: str, media_id: str) -> str:
    """The Transcribe job of a recording: `<bucket>-<media id>` in Transcribe's job-name alphabet (`^[0-9a-zA-Z._-]+`,
    at most 200 characters). One media bucket per stack, so the name says whose job it is."""
    return _UNSAFE.sub("_", f"{bucket}-{media_id}")[:200]


def job_prefix(bucket: str) -> str:
    """What every job name of this stack starts with (its EventBridge rule and its IAM grant match on it)."""
    return job_name(bucket, "")


def transcript_key(job: str) -> str:
    """Where a job's transcript is written in the media bucket."""
    return f"{TRANSCRIPTS_PREFIX}{job}.json"
