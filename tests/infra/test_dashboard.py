"""The stack's CloudWatch dashboard (components/dashboard.py): declared under WhatsAppBuffer, drawing only metrics the
Lambda code emits, under the namespace and service the functions report with, and every dead-letter queue and
function the stack declares."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from infra_helpers import env

from components.dashboard import CUSTOM, DEAD_LETTER_QUEUES, FUNCTIONS, WIDGETS, Series, Widget
from components.stack_config import RUNTIME_DIR
from sandbox.program import Resource, ResourceGraph, deployed_graph

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
PACKAGE = RUNTIME_DIR / "whatsapp_buffer"
METRIC_METHODS = {"add_metric"}
METRIC_FUNCTIONS = {"single_metric", "count", "_count"}
"""Powertools' `metrics.add_metric(...)` and `single_metric(...)`, and the runtime's thin wrappers of them
(`observability.count`, `aggregator/flush._count`): the calls whose `name` (keyword or first argument) names a metric.
Methods and plain functions apart, so that `text.count("x")` is no metric."""


# --- what the runtime emits, read from its code -----------------------------------------------------------------


def _strings(node: ast.AST, function: ast.AST | None) -> set[str]:
    """The metric names an expression can take: a literal, either side of `a if c else b`, or a loop variable over a
    literal table (`for name, value in (("MessagesStored", ...), ...)`). A parameter (a wrapper's `name`) is none:
    its callers name the metric."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, function) | _strings(node.orelse, function)
    if isinstance(node, ast.Name) and function is not None:
        found: set[str] = set()
        for loop in ast.walk(function):
            if not isinstance(loop, ast.For) or not isinstance(loop.iter, ast.Tuple | ast.List):
                continue
            targets = loop.target.elts if isinstance(loop.target, ast.Tuple) else [loop.target]
            for position, target in enumerate(targets):
                if isinstance(target, ast.Name) and target.id == node.id:
                    for row in loop.iter.elts:
                        cell = row.elts[position] if isinstance(row, ast.Tuple) else row
                        found |= _strings(cell, None)
        return found
    return set()


def _calls(tree: ast.AST):
    """(call, enclosing function) for every call in a module."""
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for function in functions:
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                yield node, function


def _names_a_metric(call: ast.Call) -> bool:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr in METRIC_METHODS
    return isinstance(call.func, ast.Name) and call.func.id in METRIC_FUNCTIONS


def _adds_a_dimension(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr == "add_dimension"


def _argument(call: ast.Call, keyword: str) -> ast.AST | None:
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    return call.args[0] if call.args else None


def emitted_by(package: Path) -> tuple[set[str], set[str]]:
    """(metric names, dimension names) the code under `package` emits through Powertools."""
    names: set[str] = set()
    dimensions: set[str] = set()
    for path in sorted(package.rglob("*.py")):
        for call, function in _calls(ast.parse(path.read_text(), str(path))):
            name = _argument(call, "name")
            if name is not None and _names_a_metric(call):
                names |= _strings(name, function)
            elif name is not None and _adds_a_dimension(call):
                dimensions |= _strings(name, function)
    return names, dimensions


@pytest.fixture(scope="module")
def emitted() -> tuple[set[str], set[str]]:
    return emitted_by(PACKAGE)


def unknown_metrics(widgets: tuple[Widget, ...], names: set[str], dimensions: set[str]) -> list[str]:
    problems = [
        f"{widget.title}: {series.metric} is never emitted"
        for widget in widgets
        if widget.source == CUSTOM
        for series in widget.series
        if series.metric not in names
    ]
    problems += [f"{w.title}: dimension {w.by} is never added" for w in widgets if w.by and w.by not in dimensions]
    return problems


# --- the declared dashboard ---------------------------------------------------------------------------------------


def _dashboard(graph: ResourceGraph) -> Resource:
    (found,) = graph.by_type(DASHBOARD)
    return found


def _widgets(graph: ResourceGraph) -> dict[str, dict]:
    body = json.loads(_dashboard(graph).inputs["dashboardBody"])
    return {w["properties"]["title"]: w["properties"] for w in body["widgets"]}


def _dimension_values(properties: dict, dimension: str) -> set[str]:
    return {m[3] for m in properties["metrics"] if len(m) >= 4 and m[2] == dimension}


def _dead_letter_queue_arns(graph: ResourceGraph) -> set[str]:
    """Every queue the stack sends failed work to: a queue's or a subscription's redrive target, a stream mapping's or
    an async invoke's on-failure destination, a function's dead-letter queue."""
    arns: set[str] = set()
    for resource in graph.resources:
        inputs = resource.inputs
        redrive = inputs.get("redrivePolicy")
        if isinstance(redrive, str) and redrive:
            arns.add(json.loads(redrive)["deadLetterTargetArn"])
        on_failure = (inputs.get("destinationConfig") or {}).get("onFailure") or {}
        arns.update(v for k, v in on_failure.items() if k in ("destination", "destinationArn"))
        if (inputs.get("deadLetterConfig") or {}).get("targetArn"):
            arns.add(inputs["deadLetterConfig"]["targetArn"])
    return arns


STACKS = {
    "sample-stack": {},
    "every-optional-resource": {"transcribeLanguages": "en-US", "alarmEmail": "ops@example.com"},
}


@pytest.fixture(scope="module", params=list(STACKS.values()), ids=list(STACKS))
def stack(request) -> ResourceGraph:
    return deployed_graph(request.param, stack="dev")


def test_one_dashboard_is_declared_under_whatsapp_buffer(stack):
    dashboard = _dashboard(stack)
    (component,) = [r for r in stack.resources if r.urn == dashboard.parent]
    (bridge,) = stack.by_type("whatsapp-buffer:index:WhatsAppBuffer")

    assert component.type == "whatsapp-buffer:index:Dashboard"
    assert component.parent == bridge.urn
    assert dashboard.inputs["dashboardName"] == "whatsapp-buffer-dev-dashboard"
    assert list(_widgets(stack)) == [w.title for w in WIDGETS]


def test_every_custom_metric_a_widget_draws_is_one_the_runtime_emits(graph, emitted):
    names, dimensions = emitted

    assert unknown_metrics(WIDGETS, names, dimensions) == []
    # The deployed body too: each custom metric and SEARCH expression names an emitted metric.
    namespace = env(graph.by_type("aws:lambda/function:Function")[0])["POWERTOOLS_METRICS_NAMESPACE"]
    for title, properties in _widgets(graph).items():
        for metric in properties["metrics"]:
            if metric[0] == namespace:
                assert metric[1] in names, (title, metric)
            elif isinstance(metric[0], dict):
                searched = [n for n in names if f'MetricName="{n}"' in metric[0]["expression"]]
                assert len(searched) == 1, (
                    f"{title}: {metric[0]['expression']} names {searched}, not one emitted metric"
                )


def test_the_check_fails_a_widget_of_a_metric_the_runtime_never_emits(emitted):
    names, dimensions = emitted
    invented = (
        *WIDGETS,
        Widget("Invented", CUSTOM, (Series("MessagesTeleported"),)),
        Widget("By colour", CUSTOM, (Series("RepliesRefused"),), by="Colour"),
    )

    assert unknown_metrics(invented, names, dimensions) == [
        "Invented: MessagesTeleported is never emitted",
        "By colour: dimension Colour is never added",
    ]


def test_the_scan_finds_every_custom_metric_an_alarm_watches(graph, emitted):
    # GIVEN the alarms on the functions' own metrics (written apart from the dashboard)
    namespace = env(graph.by_type("aws:lambda/function:Function")[0])["POWERTOOLS_METRICS_NAMESPACE"]
    watched = {
        a.inputs["metricName"]
        for a in graph.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["namespace"] == namespace
    }
    # THEN the scan of the code finds each: it does not miss metrics named through the wrappers
    assert watched
    assert watched <= emitted[0]
    assert {"AddedLatency", "MessagesPerBurst", "SdkRejectedRequests", "MessagesStored"} <= emitted[0]


def test_custom_metrics_are_read_under_the_namespace_and_service_the_functions_report_with(stack):
    # GIVEN each function's environment as declared
    functions = stack.by_type("aws:lambda/function:Function")
    namespaces = {env(f)["POWERTOOLS_METRICS_NAMESPACE"] for f in functions}
    services = {env(f)["POWERTOOLS_SERVICE_NAME"] for f in functions}
    assert len(namespaces) == len(services) == 1
    (namespace,), (service,) = namespaces, services
    # WHEN the runtime's Metrics is built from that environment (a fresh interpreter, as Lambda starts one)
    code = "from whatsapp_buffer.observability import metrics; print(metrics.namespace, metrics.service)"
    variables = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    variables.update(env(functions[0]), PYTHONPATH=str(RUNTIME_DIR))
    shown = subprocess.run([sys.executable, "-c", code], env=variables, capture_output=True, text=True, check=True)
    # THEN it reports under the dashboard's namespace and service
    assert shown.stdout.split() == [namespace, service]
    for title, properties in _widgets(stack).items():
        for metric in properties["metrics"]:
            if isinstance(metric[0], dict):
                assert f"{{{namespace}," in metric[0]["expression"], title
                assert f'service="{service}"' in metric[0]["expression"], title
            elif metric[0] not in ("AWS/SQS", "AWS/Lambda"):
                assert metric[:4] == [namespace, metric[1], "service", service], title


def test_every_dead_letter_queue_of_the_stack_is_drawn(stack):
    by_arn = {q.outputs["arn"]: q.outputs["name"] for q in stack.by_type("aws:sqs/queue:Queue")}
    expected = {by_arn[arn] for arn in _dead_letter_queue_arns(stack)}
    (widget,) = [w for w in WIDGETS if w.source == DEAD_LETTER_QUEUES]

    assert len(expected) >= 4
    assert _dimension_values(_widgets(stack)[widget.title], "QueueName") == expected


def test_every_function_of_the_stack_is_drawn_with_its_errors_and_throttles(stack):
    names = {f.outputs["name"] for f in stack.by_type("aws:lambda/function:Function")}
    widgets = _widgets(stack)
    drawn = {s.metric: w.title for w in WIDGETS if w.source == FUNCTIONS for s in w.series}

    assert set(drawn) == {"Errors", "Throttles"}
    for title in drawn.values():
        assert _dimension_values(widgets[title], "FunctionName") == names
        assert {m[0] for m in widgets[title]["metrics"]} == {"AWS/Lambda"}


# --- the follow-up gap beside bufferSeconds --------------------------------------------------------------------------


def _gap_panel(graph: ResourceGraph) -> dict:
    (title,) = [w.title for w in WIDGETS if any(s.metric == "FollowUpGap" for s in w.series)]
    return _widgets(graph)[title]


@pytest.mark.parametrize(("config", "buffer_seconds"), [({}, 20), ({"bufferSeconds": "12"}, 12)])
def test_the_follow_up_gap_is_drawn_at_p50_and_p90_beside_the_stacks_buffer_seconds(config, buffer_seconds):
    # GIVEN a stack with its bufferSeconds (the default, or set)
    panel = _gap_panel(deployed_graph(config, stack="dev"))
    # THEN the panel draws ingest's FollowUpGap at p50 and p90, in seconds
    assert [(m[1], m[-1]["stat"]) for m in panel["metrics"]] == [("FollowUpGap", "p50"), ("FollowUpGap", "p90")]
    assert panel["yAxis"]["left"]["label"] == "Seconds"
    # AND a horizontal line at the configured quiet period
    assert panel["annotations"] == {
        "horizontal": [{"label": f"bufferSeconds {buffer_seconds}", "value": buffer_seconds}]
    }


def test_every_panel_mark_is_a_declared_config_key_read_from_the_stacks_settings():
    from components.dashboard import marked_values
    from components.stack_config import SETTINGS, parse_settings

    marked = {key for widget in WIDGETS for key in widget.marks}
    settings = parse_settings(
        {
            "connectInstanceId": "c800978e-fdc0-406e-bbb0-4f575f5842a6",
            "contactFlowId": "7d3e0a55-1111-4222-8333-444455556666",
            "bufferSeconds": "7",
        }
    )

    assert marked == {"bufferSeconds"}
    assert marked <= {s.key for s in SETTINGS}
    assert marked_values(settings) == {"bufferSeconds": 7}


def test_a_panel_marking_a_key_without_a_value_is_refused_by_name():
    from components.dashboard import dashboard_body

    marked = (Widget("Gap", CUSTOM, (Series("FollowUpGap", "p50"),), marks=("bufferSeconds",)),)

    with pytest.raises(ValueError, match="panel 'Gap' marks bufferSeconds: no value given"):
        dashboard_body(
            region="us-east-1", namespace="N", service="s", dead_letter_queues={}, functions={}, widgets=marked
        )
