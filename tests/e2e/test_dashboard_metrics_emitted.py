"""Every metric the stack's dashboard draws is emitted by the functions in a replay, and every panel is drawn.

Two short replays on a transcribing stack, each run once for the module through the command line's `replay_file`:

* `examples/every_panel.jsonl`, whose `service` lines lose Transcribe's completion events (they are best effort), make
  Transcribe slow then stalled and have Connect throttle a few SendMessage calls: a voice note whose transcript comes
  after its burst (owed, then posted by the inbound function's sweep), a sweep whose post Connect throttles (the sweep
  fails, the next one posts), a voice note Transcribe never finishes (given up), a reply WhatsApp reports failed
  (refused, by reason) and an in-topic event ingest cannot read (its failures dead-lettered);
* `burst.jsonl` under `--faults old-sdk` (sandbox/faults.py): the inbound function's botocore does not know
  StartChatContact's ChatStreamingConfiguration and refuses the request before sending it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.dashboard import custom_metric_names
from sandbox import faults, trace
from sandbox import replay as sandbox_replay
from sandbox.__main__ import main as sandbox_main
from sandbox.dashboard import SEARCH_METRIC, Recorder, draw, panel_lines
from sandbox.program import run_program
from sandbox.replay import START_EPOCH, Replay, draw_dashboard, replay_file
from tests.e2e.conftest import EXAMPLES, TRACES

STACK = {"transcribeLanguages": "en-US"}
EVERY_PANEL = EXAMPLES / "every_panel.jsonl"
(THROTTLE,) = [e for e in trace.read_trace(EVERY_PANEL) if e.type == "service" and "error" in e.data]
"""The trace's `service` line from which Connect throttles the next SendMessage calls: the post of the first sweep that
finds the debt (a debt is swept 120 s after it was recorded; the chat is quiet from 60 s to 300 s). Before it,
Transcribe finishes the first voice note (at 2 s) 90 s after its start, after its burst went out (bufferSeconds 20 +
transcriptWaitSeconds 10), so its transcript is owed; from 200 s it finishes no job within the replay, so the second
voice note (at 300 s) is given up."""
THROTTLED_AT, THROTTLED_CALLS = THROTTLE.at, int(THROTTLE.data["times"])
LATE_LINE = '🔊 voice-2.wav: "the parcel came open and the charger is missing"'
GIVEN_UP_LINE = "🔊 voice-1.wav: (no transcript: the recording was not transcribed within 15 minutes)"


def _replayed(path: Path, plan: faults.FaultPlan | None = None) -> tuple[dict[str, Any], Recorder, Replay]:
    """A trace replayed as `python -m sandbox replay` does (`replay_file`), with what its dashboard draws from."""
    recorder, ran = Recorder(), []

    def on_ready(replay: Replay) -> None:
        recorder.attach(replay)
        ran.append(replay)

    _, transcript = replay_file(str(path), STACK, plan, on_ready)
    return transcript, recorder, ran[0]


@pytest.fixture(scope="module")
def late_transcripts() -> tuple[dict[str, Any], Recorder, Replay]:
    return _replayed(EVERY_PANEL)


@pytest.fixture(scope="module")
def old_sdk() -> tuple[dict[str, Any], Recorder, Replay]:
    return _replayed(TRACES / "burst.jsonl", faults.parse("old-sdk"))


@pytest.fixture(scope="module")
def deployed() -> dict[str, Any]:
    """The dashboard body the program deploys for the replays' stack."""
    (dashboard,) = run_program(STACK, stack="sandbox").by_type("aws:cloudwatch/dashboard:Dashboard")
    return json.loads(dashboard.inputs["dashboardBody"])


@pytest.fixture(scope="module")
def both(late_transcripts, old_sdk) -> Recorder:
    """What the two replays recorded, together (each metric, queue depth and failed invoke of either)."""
    first, second = late_transcripts[1], old_sdk[1]
    return Recorder(first.samples + second.samples, first.depths + second.depths, first.errors + second.errors)


def _panel(deployed: dict[str, Any], title: str) -> dict[str, Any]:
    (widget,) = [w for w in deployed["widgets"] if w["properties"]["title"] == title]
    return widget


def test_the_deployed_dashboard_names_exactly_the_declared_metrics(deployed):
    named = set()
    for widget in deployed["widgets"]:
        for metric in widget["properties"]["metrics"]:
            if isinstance(metric[0], dict):
                named.add(SEARCH_METRIC.search(metric[0]["expression"]).group(1))
            elif metric[0] not in ("AWS/SQS", "AWS/Lambda"):
                named.add(metric[1])
    assert named == custom_metric_names()


@pytest.mark.parametrize("metric", sorted(custom_metric_names()))
def test_each_metric_the_dashboard_draws_is_emitted_by_the_functions_in_a_replay(metric, both):
    assert sum(value for _, name, value in both.samples if name.split("[")[0] == metric) > 0


def test_every_panel_of_the_deployed_dashboard_is_drawn_with_the_replays_data(deployed, both, tmp_path):
    out = tmp_path / "dashboard.png"

    drawn = draw(json.dumps(deployed), both, out)

    assert drawn == [w["properties"]["title"] for w in deployed["widgets"]]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for widget in deployed["widgets"]:
        title, lines = widget["properties"]["title"], panel_lines(widget, both)
        if title == "Function throttles":
            # The sandbox never throttles a function: one line per function, at 0.
            assert lines and not any(v for values in lines.values() for v in values.values()), lines
        else:
            assert any(v for values in lines.values() for v in values.values()), title


def test_a_late_transcript_is_owed_then_posted_once_by_the_sweep_after_a_sweep_connect_throttled(late_transcripts):
    transcript, recorder, replay = late_transcripts
    contents = [m["content"] for m in transcript["connect"]]
    assert contents.count(LATE_LINE) == 1
    assert replay.pipeline.events.delivered == [] and len(replay.pipeline.events.lost) == 1  # the other never ends
    inbound = transcript["metrics"]["inbound"]
    assert inbound["LateTranscriptsOwed"] == 2
    assert inbound["LateTranscriptSweepFailures"] >= 1
    assert inbound["LateTranscriptsPosted"] == 2  # the transcript, then the line saying there is none
    throttled = [c for c in replay.services.fake.calls_to("SendMessage") if c.error == "ThrottlingException"]
    assert len(throttled) == THROTTLED_CALLS and all(c.at >= START_EPOCH + THROTTLED_AT for c in throttled)


def test_a_transcript_transcribe_never_finishes_is_given_up_once(late_transcripts):
    transcript, _, _ = late_transcripts
    assert [m["content"] for m in transcript["connect"]].count(GIVEN_UP_LINE) == 1
    assert transcript["metrics"]["inbound"]["TranscriptsGivenUp"] == 1
    assert [r["function"] for r in transcript["rejected"]] == ["ingest"]  # the unreadable event, nothing else


def test_replies_whatsapp_refuses_are_drawn_by_reason_from_a_replay(late_transcripts, deployed):
    # GIVEN an agent's reply WhatsApp accepts, then reports failed with 131047 (the window it never saw open)
    _, recorder, _ = late_transcripts

    # THEN the panel's SEARCH line for the reason counts the refusal
    lines = panel_lines(_panel(deployed, "Replies refused by reason"), recorder)

    assert {label: sum(values.values()) for label, values in lines.items()} == {"Reason=window_closed": 1}


def test_an_sdk_that_refuses_a_request_is_counted_on_each_receive_and_the_burst_is_dead_lettered(old_sdk):
    transcript, _, replay = old_sdk
    (receives,) = [
        q.max_receive_count for q in replay.wiring.queues.values() if q.max_receive_count and "bursts" in q.name
    ]
    (dead,) = transcript["rejected"]
    assert dead["function"] == "inbound" and dead["reason"].endswith(f"after {receives} receives")
    assert transcript["metrics"]["inbound"] == {"SdkRejectedRequests": receives}
    assert transcript["connect"] == []
    refused = [line for line in replay.pipeline.logs["inbound"] if "the AWS SDK refused a request" in line]
    assert len(refused) == receives and all("ChatStreamingConfiguration" in line for line in refused)


def test_a_burst_dead_lettered_in_the_drains_last_minute_is_drawn_in_the_dead_letter_panel(old_sdk, deployed):
    # GIVEN the replay whose burst reaches the bursts dead-letter queue after its last receive, late in the drain
    transcript, recorder, _ = old_sdk
    assert [r["function"] for r in transcript["rejected"]] == ["inbound"]

    # THEN the dead-letter panel's line for that queue ("bursts") shows the message, read after the drain
    lines = panel_lines(_panel(deployed, "Dead-letter queue depths"), recorder)

    assert max(lines["bursts"].values()) == 1, {label: max(v.values(), default=0) for label, v in lines.items()}
    assert recorder.depths[-1][0] >= max(at for at, _, _ in recorder.samples)


def test_the_replay_command_draws_the_late_transcripts_panel_from_the_every_panel_example(
    deployed, tmp_path, monkeypatch, capsys
):
    # GIVEN the command line's replay of the example, with the recorder it draws the dashboard from kept
    drawn_from = []

    def drawing(recorder: Recorder, overrides: Any, out: str) -> list[str]:
        drawn_from.append(recorder)
        return draw_dashboard(recorder, overrides, out)

    monkeypatch.setattr(sandbox_replay, "draw_dashboard", drawing)
    out = tmp_path / "every-panel.png"
    argv = ["replay", str(EVERY_PANEL), "--set", "transcribeLanguages=en-US", "--dashboard", str(out)]

    # WHEN `python -m sandbox replay examples/every_panel.jsonl --set transcribeLanguages=en-US --dashboard OUT` runs
    code = sandbox_main(argv)

    # THEN it draws every panel, and each line of the late-transcripts panel has data
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{len(deployed['widgets'])} panels drawn" in capsys.readouterr().err
    lines = panel_lines(_panel(deployed, "Late transcripts"), drawn_from[0])
    assert {label: sum(values.values()) > 0 for label, values in lines.items()} == {
        "owed": True,
        "posted": True,
        "given up": True,
        "sweep failures": True,
    }, lines
