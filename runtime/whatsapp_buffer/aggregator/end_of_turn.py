"""Pure: how long to wait for more after a customer's latest message (`endOfTurn`).

`fixed` waits `bufferSeconds` after every message. `cues` scales it by what the latest message looks like: ingest
files each message under one `Cue` (from its kind and, for text, its last characters, its first words and its
length) and the control item keeps only that label and the previous message's arrival, never the text. A question,
thanks or a voice note usually ends a turn; a trailing comma, a greeting or an image usually does not; a customer who
already paused long inside this burst is given at least that pause again. `debounce.due_at` still caps every wait at
`maxWaitSeconds`. The factors were fitted on half of the rooms of real chat timing (docs/benchmarks.md).
"""

from __future__ import annotations

import enum
import re

from whatsapp_buffer.function_settings import END_OF_TURN_POLICIES, BufferPolicy

FIXED, CUES = END_OF_TURN_POLICIES


class Cue(enum.StrEnum):
    DONE = "done"
    """Thanks, a question, a long message, a voice note, a location: the customer has probably finished."""
    PLAIN = "plain"
    """Nothing either way."""
    OPEN = "open"
    """Trailing comma or conjunction, a greeting, a very short message, a photo without words: more is coming."""


FACTORS = {Cue.DONE: 0.3, Cue.PLAIN: 1.0, Cue.OPEN: 1.25}
"""Quiet period after a message with this cue, as a multiple of `bufferSeconds`."""
CADENCE = 1.0
"""A customer whose previous gap inside this burst was g seconds is waited for at least CADENCE x g ..."""
CADENCE_CAP = 1.5
"""... but never more than CADENCE_CAP x `bufferSeconds` for that reason."""
SHORT = 10
LONG = 200
"""Characters: a text shorter than SHORT is `open`, one longer than LONG is `done`."""
_DONE_KINDS = frozenset({"voice", "audio", "location", "contacts", "interactive", "button", "order", "reaction"})
_OPEN_KINDS = frozenset({"image", "video", "document", "sticker"})
_THANKS = re.compile(r"\b(thanks|thank you|thx|ty|cheers|obrigad[oa]|gracias|merci|danke)\b[\s!.:)]*$", re.I)
_TRAILING = re.compile(
    r"([,:;(\-–—]|\.\.\.|…|\b(and|or|but|so|because|the|a|to|with|if|then|also|e|ou|mas|y|o|pero))\s*$", re.I
)
_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|good (morning|afternoon|evening)|ol[aá]|hola|oi|bom dia|boa (tarde|noite)|buenos d[ií]as)"
    r"\b[\s!,.]*\w{0,12}[\s!,.]*$",
    re.I,
)


def cue_of(kind: str, text: str | None) -> Cue:
    """The cue of one message: its kind decides for media and the like; a text (or caption) by how it ends."""
    if kind in _DONE_KINDS:
        return Cue.DONE
    words = (text or "").strip()
    if kind in _OPEN_KINDS:
        return Cue.OPEN if not words or _TRAILING.search(words) else Cue.PLAIN
    if _TRAILING.search(words):
        return Cue.OPEN
    if _THANKS.search(words) or words.endswith("?") or len(words) > LONG:
        return Cue.DONE
    if _GREETING.match(words):
        return Cue.OPEN
    return Cue.PLAIN


def quiet_seconds(cue: str | None, previous_gap: float | None, policy: BufferPolicy) -> float:
    """How long the conversation must be quiet after its latest message (`previous_gap`: the gap before that
    message when both belong to the pending burst, else None). An unknown or missing cue reads as `plain`."""
    if policy.end_of_turn != CUES:
        return policy.buffer_seconds
    try:
        factor = FACTORS[Cue(cue)] if cue else FACTORS[Cue.PLAIN]
    except ValueError:
        factor = FACTORS[Cue.PLAIN]
    quiet = policy.buffer_seconds * factor
    if previous_gap is not None and previous_gap > 0:
        quiet = max(quiet, min(CADENCE * previous_gap, CADENCE_CAP * policy.buffer_seconds))
    return quiet
