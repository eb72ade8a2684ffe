"""`make demo` draws the stack's dashboard from the demo replay: every declared panel, from metrics it emitted."""

from __future__ import annotations

import json

from components.dashboard import CUSTOM, WIDGETS
from sandbox.dashboard import Recorder, panel_lines
from sandbox.program import run_program
from sandbox.replay import draw_dashboard, replay_file
from tests.e2e.conftest import EXAMPLES

SEEN_IN_THE_DEMO = {"MessagesStored", "BurstsDelivered", "MessagesPerBurst", "AddedLatency", "FollowUpGap"}
"""What the morning rush exercises; refusals, late transcripts and SDK rejections come from the replays of
test_dashboard_metrics_emitted.py."""


def test_the_demo_replay_draws_every_declared_panel_from_what_its_functions_emitted(tmp_path):
    recorder = Recorder()
    _, transcript = replay_file(str(EXAMPLES / "morning_rush.jsonl"), {}, on_ready=recorder.attach)
    out = tmp_path / "dashboard.png"

    drawn = draw_dashboard(recorder, {}, str(out))

    # THEN every panel the stack deploys is drawn, in its order, to a PNG
    assert drawn == [w.title for w in WIDGETS]
    assert out.stat().st_size > 50_000
    # AND the panels' own metrics were emitted by the functions during the replay, with the transcript's totals
    emitted = {name.split("[")[0] for _, name, _ in recorder.samples}
    custom = {s.metric for w in WIDGETS if w.source == CUSTOM for s in w.series}
    assert emitted & custom >= SEEN_IN_THE_DEMO
    stored = sum(v for _, name, v in recorder.samples if name == "MessagesStored")
    assert stored == transcript["metrics"]["ingest"]["MessagesStored"]
    # AND the rejected input the demo carries shows on the ingest dead-letter queue's line
    body = json.loads(
        run_program({}, stack="sandbox").by_type("aws:cloudwatch/dashboard:Dashboard")[0].inputs["dashboardBody"]
    )
    (queues,) = [w for w in body["widgets"] if w["properties"]["title"] == "Dead-letter queue depths"]
    assert max(panel_lines(queues, recorder)["ingest"].values()) == 1
