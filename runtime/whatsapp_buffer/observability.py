"""One way to log, count and report: the functions' Powertools Logger and Metrics (structured keys, never message
bodies or full phone numbers), and the guard that turns an SDK that rejects a request into one clear error."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

import botocore
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ParamValidationError

from whatsapp_buffer.errors import SdkRejectedRequest

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "WhatsAppBuffer"))


def count(name: str, value: float = 1, unit: str = MetricUnit.Count) -> None:
    metrics.add_metric(name=name, unit=unit, value=value)


F = TypeVar("F", bound=Callable[..., Any])
_VALUE = re.compile(r"value: .*?, (type|valid)", re.DOTALL)


def reports_sdk_rejections(function: F) -> F:
    """A ParamValidationError (botocore checks every request against its own model before sending) becomes one
    clear error log with the SDK version, a `SdkRejectedRequests` metric and `SdkRejectedRequest` — instead of an
    anonymous failure that retries until the dead-letter queue. Parameter values are redacted from the log."""

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
            count("SdkRejectedRequests")
            raise SdkRejectedRequest(f"botocore {botocore.__version__}: {problem}") from exc

    return guarded  # type: ignore[return-value]
