"""The stack's CloudWatch dashboard: what a customer's messages go through, on one page.

`WIDGETS` is the one list of panels. The stack deploys it as a CloudWatch dashboard body (`dashboard_body`), and the
sandbox draws the same panels from a replay's metrics (sandbox/dashboard.py). Three kinds of panel: `CUSTOM` (the
functions' own Powertools metrics, `by` one line per value of a further dimension, found with SEARCH),
`DEAD_LETTER_QUEUES` (messages visible on every dead-letter and failure queue) and `FUNCTIONS` (an AWS/Lambda metric
of every function); a panel's `marks` are horizontal lines at the stack's configured values. The body format and
its source: docs/architecture.md#the-dashboard-body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from components.stack_config import SETTINGS
from components.stack_settings import StackSettings
from whatsapp_buffer.settings import METRICS_NAMESPACE

if TYPE_CHECKING:
    from components.aggregator import Aggregator
    from components.inbound import Inbound
    from components.ingest import Ingest
    from components.outbound import Outbound

TYPE = "whatsapp-buffer:index:Dashboard"
CUSTOM = "custom"
DEAD_LETTER_QUEUES = "dead-letter queues"
FUNCTIONS = "functions"
PERIOD_SECONDS = 60
"""One datapoint a minute: Lambda's and SQS's standard resolution, and the bursts' own time scale."""
COLUMNS = 2
WIDTH, HEIGHT = 12, 6
"""Two panels a row on CloudWatch's 24-unit grid."""


@dataclass(frozen=True)
class Series:
    """One line of a panel: a metric under one statistic (Sum, Average, Maximum, p50, p95, ...)."""

    metric: str
    stat: str = "Sum"
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.metric


@dataclass(frozen=True)
class Widget:
    title: str
    source: str
    """CUSTOM, DEAD_LETTER_QUEUES (one line per queue) or FUNCTIONS (one line per function)."""
    series: tuple[Series, ...]
    unit: str = "Count"
    by: str | None = None
    """A CUSTOM metric's further dimension: one line per value (e.g. `Reason`)."""
    marks: tuple[str, ...] = ()
    """Stack config keys drawn as horizontal lines at their configured values (e.g. `bufferSeconds`)."""


WIDGETS: tuple[Widget, ...] = (
    Widget("Messages in", CUSTOM, (Series("MessagesStored", label="messages stored"),)),
    Widget("Bursts out", CUSTOM, (Series("BurstsDelivered", label="bursts delivered to Connect"),)),
    Widget(
        "Messages per burst",
        CUSTOM,
        (Series("MessagesPerBurst", "Average", "average"), Series("MessagesPerBurst", "Maximum", "largest")),
    ),
    Widget(
        "Added latency (first message to Connect)",
        CUSTOM,
        (Series("AddedLatency", "p50", "p50"), Series("AddedLatency", "p95", "p95")),
        unit="Seconds",
    ),
    Widget(
        "Follow-up gap (seconds between a customer's messages)",
        CUSTOM,
        (Series("FollowUpGap", "p50", "p50"), Series("FollowUpGap", "p90", "p90")),
        unit="Seconds",
        marks=("bufferSeconds",),
    ),
    Widget("Dead-letter queue depths", DEAD_LETTER_QUEUES, (Series("ApproximateNumberOfMessagesVisible", "Maximum"),)),
    Widget("Replies refused by reason", CUSTOM, (Series("RepliesRefused"),), by="Reason"),
    Widget(
        "Late transcripts",
        CUSTOM,
        (
            Series("LateTranscriptsOwed", label="owed"),
            Series("LateTranscriptsPosted", label="posted"),
            Series("TranscriptsGivenUp", label="given up"),
            Series("LateTranscriptSweepFailures", label="sweep failures"),
        ),
    ),
    Widget("SDK rejections", CUSTOM, (Series("SdkRejectedRequests", label="requests botocore refused"),)),
    Widget("Function errors", FUNCTIONS, (Series("Errors"),)),
    Widget("Function throttles", FUNCTIONS, (Series("Throttles"),)),
)


def custom_metric_names(widgets: tuple[Widget, ...] = WIDGETS) -> set[str]:
    """Every metric of the functions' own that the panels draw."""
    return {series.metric for widget in widgets if widget.source == CUSTOM for series in widget.series}


def marked_values(settings: StackSettings, widgets: tuple[Widget, ...] = WIDGETS) -> dict[str, float]:
    """Each config key a panel marks -> the stack's value of it."""
    fields = {s.key: s.field for s in SETTINGS}
    return {key: getattr(settings, fields[key]) for widget in widgets for key in widget.marks}


def dashboard_name(context: StackContext) -> str:
    """`<project>-<stack>` with what a dashboard name may not hold replaced by `-` (botocore PutDashboard
    DashboardName: "The maximum length is 255, and valid characters are A-Z, a-z, 0-9, "-", and "_")."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", context.physical_name("dashboard", 255))


def dashboard_body(
    *,
    region: str,
    namespace: str,
    service: str,
    dead_letter_queues: Mapping[str, str],
    functions: Mapping[str, str],
    widgets: tuple[Widget, ...] = WIDGETS,
    marks: Mapping[str, float] | None = None,
) -> str:
    """The dashboard's JSON: `dead_letter_queues` and `functions` map each line's label to the queue's or function's
    name (the dimension value); `marks` each config key a panel marks to its value (`marked_values`)."""
    marks = marks or {}
    per_resource = {
        DEAD_LETTER_QUEUES: ("AWS/SQS", "QueueName", dead_letter_queues),
        FUNCTIONS: ("AWS/Lambda", "FunctionName", functions),
    }
    placed = []
    for index, widget in enumerate(widgets):
        properties = {
            "title": widget.title,
            "region": region,
            "period": PERIOD_SECONDS,
            "view": "timeSeries",
            "stacked": False,
            "metrics": _metrics(widget, namespace, service, per_resource),
            "yAxis": {"left": {"min": 0, "label": widget.unit, "showUnits": False}},
        }
        unmarked = [key for key in widget.marks if key not in marks]
        if unmarked:
            raise ValueError(f"panel {widget.title!r} marks {', '.join(unmarked)}: no value given")
        if widget.marks:
            properties["annotations"] = {
                "horizontal": [{"label": f"{key} {marks[key]:g}", "value": marks[key]} for key in widget.marks]
            }
        column, row = index % COLUMNS, index // COLUMNS
        placed.append(
            {"type": "metric", "x": column * WIDTH, "y": row * HEIGHT, "width": WIDTH, "height": HEIGHT}
            | {"properties": properties}
        )
    return json.dumps({"periodOverride": "inherit", "widgets": placed})


def _metrics(
    widget: Widget, namespace: str, service: str, per_resource: Mapping[str, tuple[str, str, Mapping[str, str]]]
) -> list[list[object]]:
    """`per_resource`: for DEAD_LETTER_QUEUES and FUNCTIONS, the AWS namespace, the dimension and the resources."""
    if widget.source in per_resource:
        return _one_line_each(widget, *per_resource[widget.source])
    if widget.by:
        return [
            [
                {
                    "expression": (
                        f'SEARCH(\'{{{namespace},{widget.by},service}} MetricName="{s.metric}" '
                        f"service=\"{service}\"', '{s.stat}', {PERIOD_SECONDS})"
                    ),
                    "id": f"by{index}",
                    "label": "",
                }
            ]
            for index, s in enumerate(widget.series)
        ]
    return [[namespace, s.metric, "service", service, {"stat": s.stat, "label": s.name}] for s in widget.series]


def _one_line_each(widget: Widget, namespace: str, dimension: str, named: Mapping[str, str]) -> list[list[object]]:
    """A line of each series for each resource in `named` (label -> the dimension's value)."""
    return [
        [namespace, s.metric, dimension, value, {"stat": s.stat, "label": label}]
        for s in widget.series
        for label, value in named.items()
    ]


def lines(body: str) -> dict[str, list[tuple[str, str]]]:
    """Each panel's title -> (label, dimension value) of each of its lines, read back from a dashboard body (the
    sandbox draws the queues and functions the stack's dashboard names)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for widget in json.loads(body)["widgets"]:
        properties = widget["properties"]
        found[properties["title"]] = [
            (str(metric[-1].get("label", "")), str(metric[3]))
            for metric in properties["metrics"]
            if len(metric) == 5 and isinstance(metric[-1], dict)
        ]
    return found


@dataclass(frozen=True)
class StackDashboardArgs:
    context: StackContext
    namespace: str
    """The functions' Powertools metrics namespace (POWERTOOLS_METRICS_NAMESPACE)."""
    dead_letter_queues: Mapping[str, aws.sqs.Queue]
    """label -> every queue where the stack's failed work waits."""
    functions: Mapping[str, aws.lambda_.Function]
    """label -> every function of the stack."""
    marks: Mapping[str, float] = field(default_factory=dict)
    """Config key -> the stack's value, for the panels that mark it (`marked_values`)."""


class StackDashboard(pulumi.ComponentResource):
    """One CloudWatch dashboard of the stack, `<project>-<stack>-dashboard`, drawing `WIDGETS`."""

    dashboard: aws.cloudwatch.Dashboard

    def __init__(self, name: str, args: StackDashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        context = args.context
        queue_labels, function_labels = list(args.dead_letter_queues), list(args.functions)

        def body(names: list[str]) -> str:
            queues, functions = names[: len(queue_labels)], names[len(queue_labels) :]
            return dashboard_body(
                region=context.region,
                namespace=args.namespace,
                service=context.service_name,
                dead_letter_queues=dict(zip(queue_labels, queues, strict=True)),
                functions=dict(zip(function_labels, functions, strict=True)),
                marks=args.marks,
            )

        names = [q.name for q in args.dead_letter_queues.values()] + [f.name for f in args.functions.values()]
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-cloudwatch",
            dashboard_name=dashboard_name(context),
            dashboard_body=pulumi.Output.all(*names).apply(body),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"dashboardName": self.dashboard.dashboard_name})


def stack_dashboard(
    name: str,
    parent: pulumi.Resource,
    context: StackContext,
    ingest: Ingest,
    aggregator: Aggregator,
    inbound: Inbound,
    outbound: Outbound,
    outreach: aws.lambda_.Function | None = None,
    *,
    settings: StackSettings,
) -> StackDashboard:
    """The dashboard of every dead-letter and failure queue and every function the components declare (`outreach`:
    the function contact flows invoke, Outreach's), with the stack's `settings` that panels mark."""
    queues = {
        "ingest": ingest.dead_letter_queue,
        "bursts": aggregator.bursts_dead_letter_queue,
        "aggregator failures": aggregator.failures_queue,
        "outbound": outbound.dead_letter_queue,
    }
    if inbound.raw_stream_failures_queue is not None:
        queues["raw-stream failures"] = inbound.raw_stream_failures_queue
    if inbound.transcripts_dead_letter_queue is not None:
        queues["transcripts"] = inbound.transcripts_dead_letter_queue
    functions = {
        "ingest": ingest.function,
        "aggregator": aggregator.function,
        "sweeper": aggregator.sweeper_function,
        "inbound": inbound.function,
        "outbound": outbound.function,
        **({"outreach": outreach} if outreach is not None else {}),
    }
    return StackDashboard(
        name,
        StackDashboardArgs(context, METRICS_NAMESPACE, queues, functions, marked_values(settings)),
        pulumi.ResourceOptions(parent=parent),
    )
