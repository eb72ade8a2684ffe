"""A trace's `service` lines (docs/sandbox.md#service-lines): how the services the sandbox stands in for behave from
the line's `at` on. `problem(data)` says what is wrong with a line (`trace` reads traces with it); `apply` sets the
line's conditions on a running replay's fake services and its EventBridge path; `describe` says them for the timeline.

An injected error must be one the real operation can return: one of the operation's errors in the botocore model
(`OperationModel.error_shapes`), for an operation the fake serves (`sandbox.fakes.services.SERVED`).
"""

from __future__ import annotations

import functools
import math
from typing import Any

TURNAROUND = "transcribe_turnaround_seconds"
"""Transcribe finishes each job started from then on this many seconds (virtual) after its start."""
EVENTS_LOST = "events_lost"
"""Share (0 to 1) of the services' events (Transcribe's job state changes) EventBridge never delivers from then on."""
FAULT = ("operation", "error", "times")
"""The next `times` calls of `operation` (`service:Operation`) are answered with the error code `error`."""
KEYS = (TURNAROUND, EVENTS_LOST, *FAULT)


def problem(data: dict[str, Any]) -> str | None:
    """What is wrong with a `service` line (None: nothing)."""
    unknown = sorted(set(data) - {"at", "type", *KEYS})
    if unknown:
        return f"a service line does not take {', '.join(unknown)} (it takes {', '.join(KEYS)})"
    if not any(key in data for key in KEYS):
        return f"a service line needs {TURNAROUND}, {EVENTS_LOST} or an error (operation, error, times)"
    if TURNAROUND in data and not (_number(data[TURNAROUND]) and data[TURNAROUND] > 0):
        return f"'{TURNAROUND}' must be a number of seconds > 0"
    if EVENTS_LOST in data and not (_number(data[EVENTS_LOST]) and 0 <= data[EVENTS_LOST] <= 1):
        return f"'{EVENTS_LOST}' must be a share from 0 to 1"
    if any(key in data for key in FAULT):
        return _fault_problem(data)
    return None


def _fault_problem(data: dict[str, Any]) -> str | None:
    missing = [key for key in FAULT if key not in data]
    if missing:
        return f"an injected error needs {', '.join(FAULT)} (missing {', '.join(missing)})"
    times = data["times"]
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        return "'times' must be a whole number of calls >= 1"
    operation, code = data["operation"], data["error"]
    from sandbox.fakes.services import SERVED

    service, _, name = str(operation).partition(":")
    if not isinstance(operation, str) or (service, name) not in SERVED:
        served = ", ".join(f"{s}:{o}" for s, o in SERVED)
        return f"'operation' {operation!r} is not one the fake serves (service:Operation, one of {served})"
    errors = _errors_of(service, name)
    if code not in errors:
        return f"{name} cannot return {code!r}: the botocore model lists {', '.join(errors)}"
    return None


@functools.cache
def _errors_of(service: str, operation: str) -> tuple[str, ...]:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    return tuple(shape.error_code for shape in model.error_shapes)


def _number(value: Any) -> bool:
    """A JSON number that is a finite float (json reads `Infinity`, and integers too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def apply(data: dict[str, Any], replay: Any) -> None:
    """Set a (valid) line's conditions on a running replay: its fake services and its EventBridge path."""
    fake, events = replay.services.fake, replay.pipeline.events
    if TURNAROUND in data:
        fake.transcribe.turnaround_seconds = float(data[TURNAROUND])
    if EVENTS_LOST in data:
        events.lose_events = float(data[EVENTS_LOST])
    if "error" in data:
        fake.inject(str(data["operation"]), str(data["error"]), times=int(data["times"]))


def describe(data: dict[str, Any]) -> str:
    """A (valid) line's conditions in words."""
    said = []
    if TURNAROUND in data:
        said.append(f"Transcribe takes {data[TURNAROUND]:g} s a job")
    if EVENTS_LOST in data:
        said.append(f"{data[EVENTS_LOST]:.0%} of service events lost")
    if "error" in data:
        said.append(f"{data['operation']} answers {data['error']} to the next {data['times']}")
    return "; ".join(said)
