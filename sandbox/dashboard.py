"""`replay TRACE --dashboard out.png`: the stack's CloudWatch dashboard, drawn from what a replay emitted.

The panels, their lines, statistics, labels and marks are read from the dashboard body the Pulumi program declares
(components/dashboard.py, one declaration for both). The values come from the replay, one point per period of
virtual time: the functions' EMF metrics, each dead-letter queue's depth sampled every period and once after the
drain (AWS/SQS), failed invokes (AWS/Lambda Errors). The sandbox never throttles a function, so Throttles stay at 0.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.dashboard import COLUMNS, PERIOD_SECONDS
from sandbox.lambdas import emitted_values

SEARCH_METRIC = re.compile(r"MetricName=\"?(\w+)\"?")
"""The metric a panel's SEARCH expression looks for (one line per value of its further dimension)."""


@dataclass
class Recorder:
    """Collects a replay's metric samples; `attach` is the Replay's `on_ready` hook."""

    samples: list[tuple[float, str, float]] = field(default_factory=list)
    """(seconds into the trace, metric name with `[Dim=value]` for a further dimension, one emitted value)."""
    depths: list[tuple[float, str, int]] = field(default_factory=list)
    """(seconds into the trace, queue name, messages visible)."""
    errors: list[tuple[float, str]] = field(default_factory=list)
    """(seconds into the trace, function name) of each failed invoke."""
    _last_invoke: float = -math.inf
    _armed: bool = False

    def attach(self, replay: Any) -> None:
        """Record every invoke's metrics; sample the queues' depths each minute while functions run (a depth moves
        only after an invoke: a failure dead-lettered, a redrive), so a quiet day of virtual time costs nothing."""
        wiring, clock, pipeline = replay.wiring, replay.clock, replay.pipeline
        names = {key: spec.name for key, spec in wiring.functions.items()}
        start = clock.now

        def arm() -> None:
            self._armed = True
            pipeline.schedule(start + (clock.elapsed // PERIOD_SECONDS + 1) * PERIOD_SECONDS, "dashboard", sample)

        def record(key: str, invocation: Any) -> None:
            self._last_invoke = at = clock.elapsed
            self.samples += [(at, name, value) for name, value in emitted_values(invocation.output)]
            if not invocation.ok:
                self.errors.append((at, names[key]))
            if not self._armed:
                arm()

        def depths() -> None:
            self.depths += [(clock.elapsed, q.name, pipeline.dead_letter_depth(q)) for q in wiring.queues.values()]

        def sample() -> None:
            depths()
            self._armed = False
            if self._last_invoke >= clock.elapsed - 2 * PERIOD_SECONDS:
                arm()

        pipeline.on_invocation = record
        # A message dead-lettered in the drain's last minute is after the last periodic sample: read the depths once
        # more when the drain is over.
        replay.on_drained = lambda _: depths()


def statistic(values: list[float], stat: str) -> float:
    """CloudWatch's statistics over one period: Sum, Average, Maximum, Minimum, SampleCount, pNN (nearest rank)."""
    if stat == "Sum":
        return sum(values)
    if stat == "Average":
        return sum(values) / len(values)
    if stat in ("Maximum", "Minimum"):
        return max(values) if stat == "Maximum" else min(values)
    if stat == "SampleCount":
        return float(len(values))
    if re.fullmatch(r"p\d+(\.\d+)?", stat):
        ordered = sorted(values)
        return ordered[max(0, math.ceil(float(stat[1:]) / 100 * len(ordered)) - 1)]
    raise ValueError(f"statistic {stat!r} is not drawn")


def _per_period(points: list[tuple[float, float]], stat: str) -> dict[int, float]:
    buckets: dict[int, list[float]] = defaultdict(list)
    for at, value in points:
        buckets[int(at // PERIOD_SECONDS)].append(value)
    return {period: statistic(values, stat) for period, values in buckets.items()}


def _searched(expression: str) -> tuple[str, str]:
    """The metric and the statistic of a panel's `SEARCH('{…} MetricName="M"', 'Stat', period)`."""
    metric = SEARCH_METRIC.search(expression)
    stat = re.search(r"'(\w+)'", expression.split(",")[-2])
    if metric is None or stat is None:
        raise ValueError(f"not a SEARCH expression the sandbox draws: {expression}")
    return metric.group(1), stat.group(1)


def panel_lines(widget: Mapping[str, Any], recorder: Recorder) -> dict[str, dict[int, float]]:
    """Each line of one declared panel -> its value per period in the replay."""
    lines: dict[str, dict[int, float]] = {}
    for entry in widget["properties"]["metrics"]:
        options = entry[-1] if isinstance(entry[-1], dict) else {}
        if "expression" in options:
            metric, stat = _searched(options["expression"])
            by_value: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for at, name, value in recorder.samples:
                if name.startswith(metric + "["):
                    by_value[name[len(metric) :]].append((at, value))
            for value_name, points in sorted(by_value.items()):
                lines[value_name.strip("[]")] = _per_period(points, stat)
            continue
        namespace, metric, _, dimension = entry[:4]
        label, stat = options.get("label", metric), options.get("stat", "Sum")
        if namespace == "AWS/SQS":
            depths = _per_period([(at, float(d)) for at, queue, d in recorder.depths if queue == dimension], stat)
            lines[label] = _held(depths, _last_period(recorder))
            continue
        elif namespace == "AWS/Lambda":
            failed = [(at, 1.0) for at, function in recorder.errors if function == dimension]
            points = failed if metric == "Errors" else []
        else:
            points = [(at, value) for at, name, value in recorder.samples if name == metric]
            if not points:
                continue  # a metric never emitted has no data in CloudWatch either
        lines[label] = _per_period(points, stat)
    return lines


def _held(values: dict[int, float], last: int) -> dict[int, float]:
    """A depth sampled only while functions ran, held through the quiet periods after each sample."""
    held, current = {}, 0.0
    for period in range(last + 1):
        current = values.get(period, current)
        held[period] = current
    return held if values else {}


def _last_period(recorder: Recorder) -> int:
    """The period after which nothing changes: the last non-zero value or failure, plus a few quiet periods."""
    busy = [at for at, _, value in recorder.samples if value] + [at for at, _ in recorder.errors]
    depths: dict[str, int] = {}
    for at, queue, depth in recorder.depths:
        if depths.get(queue, 0) != depth:
            busy.append(at)
        depths[queue] = depth
    return max(10, int(max(busy, default=0.0) // PERIOD_SECONDS) + 5)


def draw(body: str, recorder: Recorder, out: str | Path) -> list[str]:
    """Draw every panel of the declared dashboard `body` to a PNG; returns the titles drawn, in order."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    widgets = json.loads(body)["widgets"]
    rows = math.ceil(len(widgets) / COLUMNS)
    last = _last_period(recorder)
    minutes = list(range(last + 1))
    figure, axes = plt.subplots(rows, COLUMNS, figsize=(7 * COLUMNS, 2.8 * rows), squeeze=False)
    drawn = []
    for index, widget in enumerate(widgets):
        axis = axes[index // COLUMNS][index % COLUMNS]
        properties = widget["properties"]
        lines = panel_lines(widget, recorder)
        for label, values in lines.items():
            axis.plot(minutes, [values.get(m, 0.0) for m in minutes], label=label, linewidth=1.4)
        if not lines:
            axis.text(0.5, 0.5, "no data in this replay", transform=axis.transAxes, ha="center", color="grey")
        axis.set_xlim(0, last)
        for mark in properties.get("annotations", {}).get("horizontal", []):
            axis.axhline(mark["value"], color="grey", linestyle="--", linewidth=1)
            axis.annotate(mark["label"], (0, mark["value"]), fontsize=7, color="grey", va="bottom")
        axis.set_title(properties["title"], fontsize=10)
        axis.set_ylabel(properties["yAxis"]["left"]["label"], fontsize=8)
        axis.set_ylim(bottom=0)
        axis.tick_params(labelsize=7)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7, loc="upper right")
        drawn.append(properties["title"])
    for spare in range(len(widgets), rows * COLUMNS):
        axes[spare // COLUMNS][spare % COLUMNS].axis("off")
    for axis in axes[-1]:
        axis.set_xlabel("minutes into the trace (virtual time)", fontsize=8)
    figure.suptitle("whatsapp-buffer dashboard, drawn from a sandbox replay", fontsize=12)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return drawn
