"""Run a generated trace through the sandbox (`sandbox.replay.Replay`) and watch the memory of the processes doing it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.traces import Message, write
from sandbox import trace
from sandbox.replay import Replay

OUT_DIR = Path(__file__).resolve().parent / "out"
"""Scratch (git-ignored): the traces and transcripts of the last run, for a look by hand."""


def _proc_kib(pid: int, field_name: str, source: str = "status") -> int:
    """One `kB` field of /proc/<pid>/<source> (`status`, or `smaps_rollup` for Pss), 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/{source}", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children", encoding="ascii") as handle:
                    children = [int(c) for c in handle.read().split()]
            except OSError:
                continue
            found.extend(children)
            stack.extend(children)
    return found


@dataclass
class MemorySampler:
    """Peak memory of this process and every process it started (the function workers), read from /proc.

    `peak_sum_hwm_mib` adds each process's own high-water mark (VmHWM): an upper bound of what the whole replay needed
    at once. `peak_concurrent_rss_mib` is the largest sum of current RSS seen in one sample (every `interval` s); it
    counts a page the forked workers share once per process. `peak_concurrent_pss_mib` is the largest sum of their
    proportional set sizes (Pss: a shared page divided among its sharers), the memory the replay held at once."""

    interval: float = 0.2
    hwm_kib: dict[int, int] = field(default_factory=dict)
    peak_concurrent_kib: int = 0
    peak_concurrent_pss_kib: int = 0
    processes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _sample(self) -> None:
        pids = [os.getpid(), *_descendants(os.getpid())]
        self.processes = max(self.processes, len(pids))
        rss = pss = 0
        for pid in pids:
            self.hwm_kib[pid] = max(self.hwm_kib.get(pid, 0), _proc_kib(pid, "VmHWM"))
            rss += _proc_kib(pid, "VmRSS")
            pss += _proc_kib(pid, "Pss", "smaps_rollup")
        self.peak_concurrent_kib = max(self.peak_concurrent_kib, rss)
        self.peak_concurrent_pss_kib = max(self.peak_concurrent_pss_kib, pss)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._loop, name="bench-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def result(self) -> dict[str, float]:
        return {
            "peak_sum_hwm_mib": round(sum(self.hwm_kib.values()) / 1024, 1),
            "peak_concurrent_rss_mib": round(self.peak_concurrent_kib / 1024, 1),
            "peak_concurrent_pss_mib": round(self.peak_concurrent_pss_kib / 1024, 1),
            "replay_process_hwm_mib": round(self.hwm_kib.get(os.getpid(), 0) / 1024, 1),
            "processes": self.processes,
        }


@dataclass
class Run:
    transcript: dict[str, Any]
    replay: Replay
    wall_seconds: float
    """Whole call: reading the Pulumi program, starting services and workers, replaying, stopping."""
    meter: Any = None
    """bench.cost.Meter: the replay's usage in request units, requests, GB-seconds and log bytes."""


def replay(name: str, messages: list[Message], overrides: Mapping[str, str]) -> Run:
    """Replay `messages`; `Run.meter` is what the replay used (bench.cost's meter, hooked in before it ran)."""
    from bench.cost import Meter

    path = write(messages, OUT_DIR / f"{name}.jsonl")
    events = trace.read_trace(path)
    started = time.perf_counter()
    meter = Meter()
    rep = Replay(events, overrides=dict(overrides), on_ready=meter.attach)
    transcript = rep.run()
    return Run(transcript, rep, time.perf_counter() - started, meter)


def dynamodb_requests(rep: Replay) -> dict[str, int]:
    """DynamoDB API calls the handlers made, by function."""
    assert rep.pipeline is not None
    counts: dict[str, int] = {}
    for (function, service, _operation), n in rep.pipeline.api_calls.items():
        if service == "dynamodb":
            counts[function] = counts.get(function, 0) + n
    return counts
