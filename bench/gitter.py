"""Real chat timing: the LiveChat Gitter dialogs (MIT, bench/data/gitter/LICENSE) as bench messages with true bursts.

`parse_room` reads a room file as its README describes it: dialogs separated by dash lines, messages
`[YYYY-MM-DD HH:MM:SS] <user> text` (optionally a line number first and `T` between date and time), lines without a
timestamp continuing the message before, `//` lines annotators' comments. Every sender of a dialog is a customer of
their own; a true burst is one sender's run of messages that nobody else interrupts with gaps of at most 30 s.
`vendor` writes the compact copy the bench reads (`bench/data/gitter/dialogs.jsonl`): times, senders, and of each
text only what `endOfTurn: cues` reads (its length, and its first and last CLIP characters; a short text whole).
"""

from __future__ import annotations

import calendar
import json
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.traces import Message, customer_id
from whatsapp_buffer.end_of_turn import cue_of

DATA = Path(__file__).resolve().parent / "data" / "gitter"
DIALOGS = DATA / "dialogs.jsonl"
BURST_GAP_SECONDS = 30
"""A sender's next message within this many seconds, nobody else in between, continues the burst."""
EPOCH = calendar.timegm((2016, 11, 1, 0, 0, 0))
"""Trace second 0 (a UTC midnight, so every window length that divides a day stays aligned to the clock)."""
_LINE = re.compile(r"^\s*(?:\d+\s*)?\[(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)\]\s<([^>]+)>\s?(.*)$")
_SEPARATOR = re.compile(r"^-{10,}\s*$")
CLIP = 32
"""Characters kept from each end of a text longer than 2 x CLIP; the middle becomes spaces of the same length."""


@dataclass(frozen=True)
class Dialog:
    room: str
    index: int
    messages: tuple[tuple[int, str, str], ...]
    """(epoch seconds, sender, text) in file order."""


def parse_room(room: str, text: str) -> list[Dialog]:
    dialogs: list[Dialog] = []
    current: list[list[Any]] = []

    def close() -> None:
        if current:
            dialogs.append(Dialog(room, len(dialogs), tuple((at, who, body.strip()) for at, who, body in current)))
            current.clear()

    for line in text.splitlines():
        if _SEPARATOR.match(line):
            close()
            continue
        if line.lstrip().startswith("//"):
            continue
        match = _LINE.match(line)
        if match:
            day, clock, who, body = match.groups()
            at = calendar.timegm(time.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S"))
            current.append([at, who.strip(), body])
        elif current and line.strip():
            current[-1][2] += "\n" + line
    close()
    return dialogs


def vendor(source: Path, target: Path = DATA) -> Path:
    """Write the compact copy: one JSON line per dialog, {room, dialog, messages: [[seconds, sender#, text], ...]}."""
    target.mkdir(parents=True, exist_ok=True)
    out = target / DIALOGS.name
    with out.open("w", encoding="utf-8") as handle:
        for path in sorted(source.glob("*.txt"), key=lambda p: p.stem.lower()):
            for dialog in parse_room(path.stem, path.read_text(encoding="utf-8", errors="replace")):
                senders: dict[str, int] = {}
                rows = [
                    [at - EPOCH, senders.setdefault(who, len(senders)), *_clip(body)]
                    for at, who, body in dialog.messages
                ]
                line = {"room": dialog.room, "dialog": dialog.index, "messages": rows}
                handle.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    (target / "LICENSE").write_text((source / "LICENSE").read_text(encoding="utf-8"), encoding="utf-8")
    return out


def _clip(text: str) -> list[Any]:
    """[text] when short, else [first CLIP characters, last CLIP characters, length]; checked to leave the cue as is."""
    if len(text) <= 2 * CLIP:
        return [text]
    clipped = [text[:CLIP], text[-CLIP:], len(text)]
    if cue_of("text", _unclip(clipped)) != cue_of("text", text):
        raise ValueError(f"clipping changes the cue of a {len(text)}-character text: keep more of it")
    return clipped


def _unclip(parts: list[Any]) -> str:
    if len(parts) == 1:
        return parts[0]
    head, tail, length = parts
    return head + " " * (length - len(head) - len(tail)) + tail


@dataclass(frozen=True)
class Corpus:
    messages: list[Message]
    room_of: dict[str, str]
    """customer -> room."""
    dialogs: int


def load(path: Path = DIALOGS, rooms: Iterable[str] | None = None, *, whole_seconds: bool = False) -> Corpus:
    """The vendored dialogs as bench messages (trace seconds since `EPOCH`), each sender of each dialog a customer;
    `whole_seconds` keeps the recorded seconds as arrival times (how the first figures on these dialogs were computed)."""
    wanted = set(rooms) if rooms is not None else None
    messages: list[Message] = []
    room_of: dict[str, str] = {}
    dialogs = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        dialog = json.loads(line)
        if wanted is not None and dialog["room"] not in wanted:
            continue
        dialogs += 1
        customers: dict[int, str] = {}
        previous: tuple[str, float] | None = None
        burst = 0
        # Arrival order: a few lines of the logs are out of time order (5 pairs); the stack sees them by time.
        rows = sorted(dialog["messages"], key=lambda row: row[0])
        seconds = [row[0] for row in rows]
        arrivals = seconds if whole_seconds else within_second(seconds, f"{dialog['room']}#{dialog['dialog']}")
        for (at, sender, *clipped), arrival in zip(rows, arrivals, strict=True):
            text = _unclip(clipped)
            customer = customers.setdefault(sender, customer_id(len(room_of) + len(customers)))
            if previous is None or previous[0] != customer or at - previous[1] > BURST_GAP_SECONDS:
                burst += 1
            previous = (customer, at)
            messages.append(Message(float(arrival), customer, f"{dialog['room']}-{dialog['dialog']}-b{burst}", text))
        room_of.update({c: dialog["room"] for c in customers.values()})
    numbered = [
        Message(m.at, m.customer, m.burst, m.text, f"wamid.GITTER{index:06d}") for index, m in enumerate(messages)
    ]
    return Corpus(numbered, room_of, dialogs)


def within_second(seconds: list[int], seed: str) -> list[float]:
    """Each message at a seeded uniform point of the second it was recorded in (to the millisecond), in file order
    within a second. The log's 1 s resolution would otherwise put many follow-ups exactly `bufferSeconds` after the
    message before: a tie the real pipeline never sees, whose outcome would decide several points of `split`."""
    rng = random.Random(seed)
    offsets = [rng.randrange(1000) / 1000 for _ in seconds]
    arrivals: list[float] = []
    start = 0
    for end in range(1, len(seconds) + 1):
        if end == len(seconds) or seconds[end] != seconds[start]:
            arrivals.extend(seconds[start] + o for o in sorted(offsets[start:end]))
            start = end
    return [round(a, 3) for a in arrivals]


def rooms(path: Path = DIALOGS) -> list[str]:
    return sorted({json.loads(line)["room"] for line in path.read_text(encoding="utf-8").splitlines()})
