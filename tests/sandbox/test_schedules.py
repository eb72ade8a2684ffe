"""EventBridge Scheduler in the sandbox: the program's schedule, wired from the resource graph, runs its target on the
virtual clock at the rate it declares.

Sources: the botocore model of `scheduler` (CreateSchedule `ScheduleExpression`: "rate expression - rate(value
unit)", "a value as a positive integer, and a unit with the following options: minute | minutes | hour | hours | day
| days"; `Target.Input`: "The text, or well-formed JSON, passed to the target"); EventBridge's rate expressions
reference: "If the value is equal to 1, then the unit must be singular. If the value is greater than 1, the unit must
be plural."
"""

from __future__ import annotations

import json

import pytest

from sandbox.delivery.schedules import period_seconds
from sandbox.program import ACCOUNT_ID, DEFAULT_REGION, deployed_graph
from sandbox.wiring import from_graph
from whatsapp_buffer.entrypoints import inbound


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)],
)
def test_a_rate_expression_runs_every_period(expression, seconds):
    assert period_seconds(expression) == seconds


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "cron(* * * * ? *)"])
def test_an_expression_scheduler_would_refuse_is_refused_by_the_sandbox_too(expression):
    with pytest.raises(ValueError, match="is not a rate"):
        period_seconds(expression)


def test_the_sweep_schedule_is_wired_from_the_program():
    wiring = from_graph(deployed_graph({}, stack="dev"), region=DEFAULT_REGION, account_id=ACCOUNT_ID)

    (schedule,) = wiring.schedules
    assert (schedule.function, schedule.expression, schedule.input) == ("sweeper", "rate(1 minute)", "{}")


def test_a_transcribing_stack_also_runs_the_transcripts_sweep_on_the_inbound_function_every_minute():
    wiring = from_graph(
        deployed_graph({"transcribeLanguages": "en-US"}, stack="dev"), region=DEFAULT_REGION, account_id=ACCOUNT_ID
    )

    schedules = {s.function: s for s in wiring.schedules}
    assert set(schedules) == {"sweeper", "inbound"}
    assert schedules["inbound"].expression == "rate(1 minute)"
    assert inbound.trigger_of(json.loads(schedules["inbound"].input)).source == (
        "the owed transcripts' sweep (EventBridge Scheduler)"
    )
