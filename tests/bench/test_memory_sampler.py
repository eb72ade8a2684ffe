"""The scale bench's memory sampler: what it reports for processes that share pages, as the forked workers do."""

from __future__ import annotations

import os
import signal
import time

from bench.sandbox_run import MemorySampler


def test_pages_a_forked_child_shares_are_counted_once_in_pss_and_twice_in_rss():
    # proc(5), /proc/pid/smaps: "The "proportional set size" (PSS) of a process is the count of pages it has in memory,
    # where each page is divided by the number of processes sharing it."
    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"\1" * len(held[::4096])
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only waits, sharing `held`, until it is killed
        time.sleep(60)
        os._exit(0)
    try:
        # No wait for the child to run: it is listed in /proc/<pid>/task/*/children once fork returns, and fork gave it
        # `held`'s pages (copy-on-write), so its RSS and Pss count them before it runs a line.
        sampler = MemorySampler()
        sampler._sample()
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    found = sampler.result()

    assert found["processes"] >= 2
    assert found["peak_concurrent_rss_mib"] >= 2 * 300
    assert 300 <= found["peak_concurrent_pss_mib"] < found["peak_concurrent_rss_mib"] - 250
    del held
