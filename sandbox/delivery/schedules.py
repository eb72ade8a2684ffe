"""EventBridge Scheduler -> Lambda: the program's recurring schedules, run on the virtual clock.

A schedule's expression, target function and input come from the program (sandbox.wiring). The botocore model's
documentation strings (service `scheduler`) are the rules kept here: `ScheduleExpression` "rate expression -
rate(value unit)" makes a recurring schedule; `Target.Input` is "the text, or well-formed JSON, passed to the target",
so the function is invoked with the declared input parsed as JSON. A rate schedule first runs one period after it is
created (here: after the sandbox starts). A failed invoke is not retried here: the program declares
`MaximumRetryAttempts` 0, and the next run comes one period later.
"""

from __future__ import annotations

import json
import re

from sandbox.delivery.functions import DeliveryPath
from sandbox.wiring import ScheduleSpec

_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)(s?)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def period_seconds(expression: str) -> float:
    """`rate(1 minute)` -> 60, `rate(5 minutes)` -> 300. Other forms (cron, at) are refused: the program declares
    none. Scheduler's `ScheduleExpression` documentation: "a value as a positive integer, and a unit with the
    following options: minute | minutes | hour | hours | day | days"; it says nothing on agreement, EventBridge's rate
    expressions reference does: "If the value is equal to 1, then the unit must be singular. If the value is greater
    than 1, the unit must be plural." The stricter rule is kept."""
    match = _RATE.match(expression)
    if match is None or int(match[1]) < 1 or (int(match[1]) == 1) == bool(match[3]):
        raise ValueError(f"schedule expression {expression!r} is not a rate(value unit) the sandbox runs")
    return float(int(match[1]) * _UNIT_SECONDS[match[2]])


class ScheduleToLambda(DeliveryPath):
    def start(self) -> None:
        for schedule in self.wiring.schedules:
            self._next(schedule, period_seconds(schedule.expression))

    def _next(self, schedule: ScheduleSpec, period: float) -> None:
        def run() -> None:
            self.functions.invoke(schedule.function, json.loads(schedule.input or "{}"))
            self._next(schedule, period)

        self.scheduler.after(period, f"schedule->{schedule.function}", run)
