"""Lambda entry points: `whatsapp_buffer.handlers.<name>.handler`. Each parses its event, calls the runtime, shapes the
response; adapters are built once per cold start from the environment (settings.py)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import botocore
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ParamValidationError

from whatsapp_buffer.errors import SdkRejectedRequest


class _WithIdempotency(Protocol):
    idempotency: Any


R = TypeVar("R", bound=_WithIdempotency)


class Installed(Generic[R]):
    """The runtime a handler uses: installed by `configure` (tests and the sandbox inject theirs), otherwise built
    from the environment on the first invocation and kept for the warm container's life."""

    def __init__(self) -> None:
        self.current: R | None = None

    def install(self, runtime: R) -> R:
        self.current = runtime
        return runtime

    def reset(self) -> None:
        self.current = None

    def get(self, context: Any, build: Callable[[], R]) -> R:
        runtime = self.current or build()
        if context is not None:
            runtime.idempotency.register_lambda_context(context)
        return runtime


F = TypeVar("F", bound=Callable[..., Any])
_VALUE = re.compile(r"value: .*?, (type|valid)", re.DOTALL)


def reports_sdk_rejections(logger: Any, metrics: Any) -> Callable[[F], F]:
    """A ParamValidationError (botocore checks every request against its own model before sending) becomes one
    clear error log with the SDK version, a `SdkRejectedRequests` metric and `SdkRejectedRequest` — instead of an
    anonymous failure that retries until the dead-letter queue. Parameter values are redacted from the log."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except ParamValidationError as exc:
                problem = _VALUE.sub(r"value: <redacted>, \1", str(exc))
                logger.error(
                    "the AWS SDK refused a request before sending it: this function's botocore does not match the "
                    "code (is the stack's SDK layer attached?)",
                    extra={"botocore_version": botocore.__version__, "problem": problem},
                )
                metrics.add_metric(name="SdkRejectedRequests", unit=MetricUnit.Count, value=1)
                raise SdkRejectedRequest(f"botocore {botocore.__version__}: {problem}") from exc

        return guarded  # type: ignore[return-value]

    return decorate
