"""The replay's dashboard (sandbox/dashboard.py): each declared panel's lines computed from recorded samples."""

from __future__ import annotations

import json

import pytest

from components.dashboard import WIDGETS, dashboard_body
from sandbox.dashboard import Recorder, draw, emitted_values, panel_lines, statistic

QUEUES = {"ingest": "stack-ingest-dlq", "bursts": "stack-bursts-dlq.fifo"}
FUNCTIONS = {"ingest": "stack-ingest", "inbound": "stack-inbound"}
BODY = dashboard_body(
    region="us-east-1",
    namespace="WhatsAppBuffer",
    service="stack",
    dead_letter_queues=QUEUES,
    functions=FUNCTIONS,
    marks={"bufferSeconds": 11},
)


def _panel(title: str) -> dict:
    (widget,) = [w for w in json.loads(BODY)["widgets"] if w["properties"]["title"] == title]
    return widget


@pytest.mark.parametrize(
    ("values", "stat", "expected"),
    [
        ([1, 2, 3, 4], "Sum", 10),
        ([1, 2, 3, 4], "Average", 2.5),
        ([1, 5, 3], "Maximum", 5),
        ([1, 5, 3], "SampleCount", 3),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "p50", 5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "p95", 10),
        ([7], "p90", 7),
    ],
)
def test_each_statistic_is_computed_over_the_periods_values(values, stat, expected):
    assert statistic([float(v) for v in values], stat) == expected


def test_a_statistic_the_dashboard_does_not_draw_is_refused():
    with pytest.raises(ValueError, match="is not drawn"):
        statistic([1.0], "TM(10%:90%)")


def test_emf_values_are_read_one_by_one_with_a_further_dimension_in_the_name():
    line = json.dumps(
        {
            "_aws": {"CloudWatchMetrics": [{"Dimensions": [["service", "Reason"]], "Metrics": [{"Name": "Refused"}]}]},
            "service": "stack",
            "Reason": "window-closed",
            "Refused": [1, 1],
        }
    )

    assert emitted_values(["a log line", line]) == [("Refused[Reason=window-closed]", 1.0)] * 2


def test_a_custom_panel_draws_each_series_per_minute():
    recorder = Recorder(samples=[(5, "AddedLatency", 10.0), (30, "AddedLatency", 20.0), (70, "AddedLatency", 4.0)])

    lines = panel_lines(_panel("Added latency (first message to Connect)"), recorder)

    assert lines == {"p50": {0: 10.0, 1: 4.0}, "p95": {0: 20.0, 1: 4.0}}


def test_a_panel_by_dimension_draws_one_line_per_value_seen():
    recorder = Recorder(
        samples=[(1, "RepliesRefused[Reason=window-closed]", 1.0), (2, "RepliesRefused[Reason=media]", 1.0)]
    )

    lines = panel_lines(_panel("Replies refused by reason"), recorder)

    assert lines == {"Reason=media": {0: 1.0}, "Reason=window-closed": {0: 1.0}}


def test_queue_and_function_panels_read_the_queues_depths_and_the_failed_invokes():
    recorder = Recorder(depths=[(0, "stack-ingest-dlq", 0), (60, "stack-ingest-dlq", 1)], errors=[(61, "stack-ingest")])

    depths = panel_lines(_panel("Dead-letter queue depths"), recorder)
    errors = panel_lines(_panel("Function errors"), recorder)
    throttles = panel_lines(_panel("Function throttles"), recorder)

    assert depths["bursts"] == {}
    assert depths["ingest"] == {0: 0.0} | {minute: 1.0 for minute in range(1, 11)}  # held after its last sample
    assert errors == {"ingest": {1: 1.0}, "inbound": {}}
    assert throttles == {"ingest": {}, "inbound": {}}


def test_a_metric_never_emitted_draws_no_line(tmp_path):
    assert panel_lines(_panel("SDK rejections"), Recorder()) == {}


def test_every_declared_panel_is_drawn_in_order(tmp_path):
    out = tmp_path / "dashboard.png"

    drawn = draw(BODY, Recorder(samples=[(1, "MessagesStored", 1.0)]), out)

    assert drawn == [w.title for w in WIDGETS]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
