"""The one virtual clock and the one scheduler every delivery path runs on.

Nothing in the sandbox sleeps: a path schedules work at a virtual time, and `Scheduler.run` runs the jobs in time
order, moving the clock to each job's time. After every job the scheduler lets the paths settle (hand on what the
job produced: new stream records, Connect's publishes), so cause and effect keep their order.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


def iso(epoch: float) -> str:
    """An AWS event timestamp (`2026-01-01T00:00:00.000Z`)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class VirtualClock:
    """Seconds since the epoch, moved only by the scheduler."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> float:
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start


@dataclass(order=True)
class Job:
    at: float
    seq: int
    label: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)


class Scheduler:
    """Jobs in virtual-time order (ties in the order they were scheduled)."""

    def __init__(self, clock: VirtualClock, settle: Callable[[], None]) -> None:
        self.clock = clock
        self._settle = settle
        self._heap: list[Job] = []
        self._seq = itertools.count()

    def at(self, at: float, label: str, run: Callable[[], None]) -> None:
        heapq.heappush(self._heap, Job(at, next(self._seq), label, run))

    def after(self, delay: float, label: str, run: Callable[[], None]) -> None:
        self.at(self.clock.now + delay, label, run)

    def run(self, *, until: float) -> None:
        """Run jobs in time order until none are left (or virtual time passes `until`)."""
        self._settle()
        while self._heap:
            job = heapq.heappop(self._heap)
            if job.at > until:
                heapq.heappush(self._heap, job)
                return
            self.clock.now = max(self.clock.now, job.at)
            job.run()
            self._settle()

    def pending(self) -> int:
        return len(self._heap)
