"""The Lambda service's side of an invoke: one warm worker per function, and what every invoke leaves behind.

Each invoke is recorded (result, logs, EMF metrics, API calls), the calls the handler made are checked against the
function's role, and the delivery paths are told about them (a write to a streamed table means new stream records;
a message sent to a mapped queue means a poll).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.delivery.dead_letters import DeadLetters
from sandbox.delivery.scheduler import Scheduler, VirtualClock
from sandbox.faults import FaultPlan, worker_spec
from sandbox.iam_check import RoleCheck
from sandbox.lambdas import FunctionProcess, Invocation
from sandbox.s3_missing_objects import ListingRole
from sandbox.sdk_events import ApiCall
from sandbox.wiring import FunctionSpec, Wiring

ASYNC_RETRY_DELAYS = (60.0, 120.0)
"""Lambda's asynchronous invocation: "If the function returns an error, Lambda attempts to run it two more times, with
a one-minute wait between the first two attempts, and two minutes between the second and third attempts."""


def async_retry_delay(spec: FunctionSpec, attempt: int, failed: Invocation) -> float:
    """Seconds from the start of a failed attempt to the next one. Virtual time stands still during an invoke, but a
    timed-out attempt ran for the function's whole timeout, and Lambda's wait starts when the attempt ended."""
    delay = ASYNC_RETRY_DELAYS[min(attempt, len(ASYNC_RETRY_DELAYS) - 1)]
    return delay + (spec.timeout_s if failed.timed_out else 0.0)


PLACEHOLDER_CREDENTIAL = "sandbox"
"""The functions' access key, secret and (unless a replay sets one) session token: moto and the fakes take any."""


@dataclass
class InvocationRecord:
    at: float
    function: str
    ok: bool
    error_type: str | None
    calls: int
    last_call: str | None = None
    """The operation of the invoke's last AWS call (where an injected crash struck), None when it made none."""


class Functions:
    """Starts, invokes and stops the function workers."""

    def __init__(
        self,
        wiring: Wiring,
        clock: VirtualClock,
        roles: RoleCheck,
        faults: FaultPlan,
        *,
        endpoints: dict[str, str],
        on_invocation: Callable[[str, Invocation], None] | None = None,
        session_token: str = PLACEHOLDER_CREDENTIAL,
    ) -> None:
        self.wiring = wiring
        self.session_token = session_token
        """Every function's AWS_SESSION_TOKEN (Lambda gives a role's temporary credentials, whose token STS does not
        fix in length; it is part of every pre-signed URL a function makes)."""
        self.clock = clock
        self.roles = roles
        self.faults = faults
        self.endpoints = endpoints
        """The `AWS_ENDPOINT_URL*` variables every function gets (moto and the fakes on loopback)."""
        self.on_invocation = on_invocation
        self.call_listeners: list[Callable[[list[ApiCall]], None]] = []
        """Delivery paths that act on what a handler called, told after each invoke."""
        self.workers: dict[str, FunctionProcess] = {}
        self.invocations: list[InvocationRecord] = []
        self.metrics: dict[str, dict[str, float]] = {}
        self.api_calls: Counter[tuple[str, str, str]] = Counter()
        """(function, service, operation) -> how many calls the handlers made."""
        self.logs: dict[str, list[str]] = {}
        self.injected_errors = 0
        self.whatsapp_sends_in_doubt = 0
        """AWS answers replaced by injected errors inside the functions (see sandbox.faults)."""

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        env = dict(spec.env)
        env.update(self.endpoints)
        env.update(
            {
                "AWS_ACCESS_KEY_ID": PLACEHOLDER_CREDENTIAL,
                "AWS_SECRET_ACCESS_KEY": PLACEHOLDER_CREDENTIAL,
                "AWS_SESSION_TOKEN": self.session_token,
                # botocore reads AWS_SECURITY_TOKEN first: one the parent has (the test suite sets it) is not the
                # function's.
                "AWS_SECURITY_TOKEN": self.session_token,
                "AWS_REGION": self.wiring.account.region,
                "AWS_DEFAULT_REGION": self.wiring.account.region,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        return env

    def start(self) -> None:
        """Start every worker, then wait for each cold start (its calls are checked against its role too)."""
        for spec in self.wiring.functions.values():
            worker = FunctionProcess(
                function_name=spec.name,
                function_arn=spec.arn,
                handler=spec.handler,
                env=self.environment(spec),
                memory_mb=spec.memory_mb,
                timeout_s=spec.timeout_s,
                faults=worker_spec(self.faults, spec.key),
                fault_seed=f"{self.faults.seed}:{spec.key}",
                role=ListingRole(spec.policy, self.wiring.account.partition),
            )
            worker.start(self.clock.now)
            self.workers[spec.key] = worker
        for key, worker in self.workers.items():
            worker.wait_ready()
            self.roles.calls(key, worker.init_calls)
            self.logs.setdefault(key, []).extend(worker.init_output)

    def invoke(self, key: str, event: dict[str, Any]) -> Invocation:
        invocation = self.workers[key].invoke(event, self.clock.now)
        self.invocations.append(
            InvocationRecord(
                self.clock.elapsed,
                key,
                invocation.ok,
                invocation.error_type,
                len(invocation.calls),
                invocation.calls[-1].operation if invocation.calls else None,
            )
        )
        self.logs.setdefault(key, []).extend(invocation.output)
        totals = self.metrics.setdefault(key, {})
        for name, value in invocation.metrics().items():
            totals[name] = totals.get(name, 0.0) + value
        self.roles.calls(key, invocation.calls)
        self.roles.calls(key, invocation.signed)
        self.api_calls.update((key, call.service, call.operation) for call in invocation.calls)
        self.injected_errors += invocation.injected
        self.whatsapp_sends_in_doubt += invocation.whatsapp_send_in_doubt
        for listener in self.call_listeners:
            listener(invocation.calls)
        if self.on_invocation:
            self.on_invocation(key, invocation)
        return invocation

    def stop(self) -> None:
        for worker in self.workers.values():
            worker.stop()


class DeliveryPath:
    """What every delivery path works with: the program's wiring, the scheduler and its clock, the functions."""

    def __init__(self, wiring: Wiring, scheduler: Scheduler, functions: Functions) -> None:
        self.wiring = wiring
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self.functions = functions


class AsyncDeliveryPath(DeliveryPath):
    """A path whose target functions Lambda invokes asynchronously (SNS, EventBridge): a failed invoke is retried
    (`async_retry_delay`, up to the function's MaximumRetryAttempts), then its event goes to the function's
    on-failure destination or dead-letter queue (sandbox.delivery.dead_letters), as Lambda does."""

    source = "sns"
    """The path's name in the scheduler's labels (`<source>-><function>`) and in the dead letters."""

    def __init__(self, wiring: Wiring, scheduler: Scheduler, functions: Functions, dead_letters: DeadLetters) -> None:
        super().__init__(wiring, scheduler, functions)
        self.dead_letters = dead_letters

    def deliver(self, key: str, event: dict[str, Any], delays: list[float]) -> None:
        """`event` reaches function `key` once after each of `delays` seconds (two: an at-least-once duplicate)."""
        for delay in delays:
            self.scheduler.after(
                delay,
                f"{self.source}->{key}",
                functools.partial(self._invoke_async, key, event, attempt=0, first_at=self.clock.elapsed),
            )

    def attempting(self, key: str, event: dict[str, Any]) -> None:
        """Told before every attempt, retries included."""

    def _invoke_async(self, key: str, event: dict[str, Any], *, attempt: int, first_at: float) -> None:
        spec = self.wiring.functions[key]
        self.attempting(key, event)
        invocation = self.functions.invoke(key, event)
        if invocation.ok:
            return
        if attempt < spec.async_retries:
            delay = async_retry_delay(spec, attempt, invocation)
            retry: Callable[[], None] = lambda: self._invoke_async(key, event, attempt=attempt + 1, first_at=first_at)  # noqa: E731
            self.scheduler.after(delay, f"retry->{key}", retry)
            return
        self.dead_letters.async_retries_exhausted(spec, event, invocation, first_at, source=self.source)
