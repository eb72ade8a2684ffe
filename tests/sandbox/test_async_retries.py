"""Lambda's asynchronous retries as the sandbox schedules them (SNS and EventBridge deliveries share them).

Lambda developer guide, "Error handling and automatic retries in Lambda" / "asynchronous invocation": "If the function
returns an error, Lambda attempts to run it two more times, with a one-minute wait between the first two attempts, and
two minutes between the second and third attempts." The wait follows the failed attempt; a timed-out attempt ends only
when the function's timeout has passed, which virtual time (standing still during an invoke) does not show by itself.
"""

from __future__ import annotations

import pytest

from sandbox.delivery.functions import async_retry_delay
from sandbox.lambdas import Invocation
from sandbox.sdk_events import ApiCall
from sandbox.wiring import FunctionSpec


def spec(timeout_s: float = 120.0) -> FunctionSpec:
    fields = {name: None for name in FunctionSpec.__dataclass_fields__}
    return FunctionSpec(**{**fields, "timeout_s": timeout_s})


def failed(message: str, calls: list[ApiCall] | None = None) -> Invocation:
    return Invocation(ok=False, error_type="InjectedCrash", error_message=message, calls=calls or [])


@pytest.mark.parametrize(("attempt", "wait"), [(0, 60.0), (1, 120.0)])
def test_a_crashed_attempt_is_retried_one_then_two_minutes_after_it(attempt, wait):
    assert async_retry_delay(spec(), attempt, failed("crashed after PutItem (injected)")) == wait


@pytest.mark.parametrize(("attempt", "wait"), [(0, 180.0), (1, 240.0)])
def test_a_timed_out_attempt_is_retried_after_its_whole_timeout_and_then_the_wait(attempt, wait):
    # With a 120 s timeout, an idempotency record left in progress by the attempt (Powertools: expiry = the time the
    # attempt had left) has expired when the retry comes, as in Lambda: the first retry is not wasted on it.
    assert async_retry_delay(spec(120.0), attempt, failed("Task timed out (injected)")) == wait


def test_a_send_whose_outcome_no_one_recorded_is_in_doubt_and_a_refused_one_is_not():
    sent = ApiCall(service="social-messaging", operation="SendWhatsAppMessage", params={})
    refused = ApiCall(service="social-messaging", operation="SendWhatsAppMessage", params={}, error="Throttled")
    recorded = ApiCall(service="dynamodb", operation="UpdateItem", params={})

    assert failed("Task timed out (injected)", [sent]).whatsapp_send_in_doubt
    assert not failed("Task timed out (injected)", [refused]).whatsapp_send_in_doubt
    assert not failed("Task timed out (injected)", [sent, recorded]).whatsapp_send_in_doubt
    assert not Invocation(ok=True, calls=[sent]).whatsapp_send_in_doubt
