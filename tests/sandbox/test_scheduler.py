"""The one virtual clock and scheduler every delivery path runs on (sandbox.delivery.scheduler)."""

from __future__ import annotations

import threading

from sandbox.delivery.connect_streaming import ConnectStreaming
from sandbox.delivery.scheduler import Scheduler, VirtualClock, iso

START = 1_767_225_600.0


def _scheduler() -> tuple[Scheduler, list[str]]:
    seen: list[str] = []
    return Scheduler(VirtualClock(START), settle=lambda: seen.append("settle")), seen


def test_jobs_run_in_time_order_and_ties_in_the_order_they_were_scheduled():
    scheduler, seen = _scheduler()
    for at, label in [(5, "c"), (1, "a"), (5, "d"), (2, "b")]:
        scheduler.at(START + at, label, lambda label=label: seen.append(f"{label}@{scheduler.clock.elapsed:g}"))
    scheduler.run(until=START + 10)
    assert [s for s in seen if s != "settle"] == ["a@1", "b@2", "c@5", "d@5"]
    assert seen.count("settle") == 5  # once before the first job, then after each
    assert scheduler.pending() == 0


def test_jobs_after_until_wait_for_the_next_run():
    scheduler, seen = _scheduler()
    scheduler.at(START + 1, "now", lambda: seen.append("now"))
    scheduler.at(START + 100, "later", lambda: seen.append("later"))
    scheduler.run(until=START + 10)
    assert "later" not in seen and scheduler.pending() == 1
    assert scheduler.clock.now == START + 1
    scheduler.run(until=START + 100)
    assert seen[-2:] == ["later", "settle"]


def test_a_job_scheduled_in_the_past_runs_next_without_moving_the_clock_back():
    scheduler, seen = _scheduler()
    scheduler.at(
        START + 5, "first", lambda: scheduler.at(START + 1, "past", lambda: seen.append(scheduler.clock.elapsed))
    )
    scheduler.run(until=START + 10)
    assert seen.count(5.0) == 1


def test_after_counts_from_the_current_virtual_time():
    scheduler, seen = _scheduler()
    scheduler.at(
        START + 3, "first", lambda: scheduler.after(0.5, "second", lambda: seen.append(scheduler.clock.elapsed))
    )
    scheduler.run(until=START + 10)
    assert 3.5 in seen


def test_event_timestamps_are_milliseconds_in_utc():
    assert iso(START + 1.25) == "2026-01-01T00:00:01.250Z"


def test_connect_publishes_from_another_thread_go_out_in_order_at_settle():
    published: list[str] = []
    streaming = ConnectStreaming(lambda topic, message, attributes: published.append(message))
    threads = [threading.Thread(target=streaming.publish_from_service, args=("topic", str(i), {})) for i in range(3)]
    for thread in threads:
        thread.start()
        thread.join()
    assert published == []
    streaming.settle()
    assert published == ["0", "1", "2"]
    streaming.settle()
    assert published == ["0", "1", "2"]
