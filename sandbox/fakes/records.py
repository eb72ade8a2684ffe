"""What the fakes remember and hand to the sandbox and the tests: plain records, ids, timestamps, injected faults."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Call:
    """One API call as a fake answered it."""

    service: str
    operation: str
    params: dict[str, Any]
    """Decoded input by member name (header members such as `ConnectionToken` included; blobs as bytes)."""
    at: float
    error: str | None
    """The error code returned, or None on success."""
    response: dict[str, Any] | None
    replayed: bool = False
    """An idempotent retry (a ClientToken seen before): answered from memory, nothing delivered again."""


@dataclass(frozen=True)
class Published:
    """A streaming event as Connect hands it to the streaming SNS topic."""

    at: float
    topic_arn: str
    message: str
    attributes: dict[str, str]

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.message)


class Ids:
    """Seeded ids, so a replay with the same seed names every contact, token and message the same way."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def new_token(self, prefix: str) -> str:
        return f"{prefix}-{self._rng.getrandbits(160):040x}"

    def digits(self, count: int) -> str:
        return str(self._rng.randrange(10 ** (count - 1), 10**count))


@dataclass
class Fault:
    """An injected failure: `remaining` calls (None: no cap), a seeded `rate` of calls (None: every call)."""

    error_code: str
    status: int
    remaining: int | None
    rate: float | None
    rng: random.Random
    message: str

    def fires(self) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.rate is not None and self.rng.random() >= self.rate:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        return True


def iso8601(moment: float) -> str:
    """Connect's timestamp format: `2021-09-08T18:28:04.424Z`."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(moment * 1000) % 1000:03d}Z"


def copy(document: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON-shaped answer, so a replayed answer cannot be changed through the first one."""
    return json.loads(json.dumps(document))
