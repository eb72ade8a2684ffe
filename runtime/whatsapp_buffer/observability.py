"""One way to log, count and report: the functions' Powertools Logger and Metrics, the one decorator every entry
module's handler wears (`lambda_handler`), and the guard that turns an SDK that rejects a request into one clear error.
Log keys are keyword arguments (structured fields), never values formatted into the message, never a message body or a
full phone number (`Conversation.masked_customer`). The conventions, correlation ids included:
docs/architecture.md#logs-and-metrics.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import botocore
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from botocore.exceptions import ParamValidationError

from whatsapp_buffer.errors import SdkRejectedRequest
from whatsapp_buffer.settings import METRICS_NAMESPACE

logger = Logger()
SNS_MESSAGE_ID = "Records[0].Sns.MessageId"
"""SNS invokes a function with exactly one record: its message id is the invocation's correlation id."""
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE))
# An invoke that counts nothing is normal (a sweep that finds nothing, a status event): no plain-text warning among the
# JSON logs, as Powertools' Metrics docs advise ("Suppressing warning messages on empty metrics").
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
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
                botocore_version=botocore.__version__,
                problem=problem,
            )
            count("SdkRejectedRequests")
            raise SdkRejectedRequest(f"botocore {botocore.__version__}: {problem}") from exc

    return guarded  # type: ignore[return-value]


class _DirectCall:
    """The context keys of a handler called outside Lambda (a test or a script passing no context)."""

    function_name = ""
    memory_limit_in_mb = 0
    invoked_function_arn = ""
    aws_request_id = ""


def lambda_handler(correlation_id_path: str | None = None) -> Callable[[F], F]:
    """The one way a Lambda handler is wrapped (outermost first): inject the Lambda context and the correlation id
    found at `correlation_id_path` (JMESPath into the event) with the previous invocation's keys cleared; flush the
    metrics; report an SDK that rejects a request."""

    def decorate(handler: F) -> F:
        wrapped = logger.inject_lambda_context(
            metrics.log_metrics(reports_sdk_rejections(handler)),
            clear_state=True,
            correlation_id_path=correlation_id_path,
        )

        @functools.wraps(handler)
        def entry(event: Any, context: Any) -> Any:
            return wrapped(event, _DirectCall() if context is None else context)

        return entry  # type: ignore[return-value]

    return decorate


def count_refusal(reason: str) -> None:
    """`RepliesRefused` in the function's metrics (what the alarm watches) and once more by `Reason`."""
    count("RepliesRefused")
    with single_metric(name="RepliesRefused", unit=MetricUnit.Count, value=1, namespace=metrics.namespace) as by_reason:
        by_reason.add_dimension(name="Reason", value=reason)
