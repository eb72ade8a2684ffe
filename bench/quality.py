"""Buffering quality: our debounce (through the sandbox) against the AWS sample's fixed window (modelled) on the same
seeded traces, and the bufferSeconds x windowSeconds sweep."""

from __future__ import annotations

import statistics
from typing import Any

from bench import cost, debounce_model, metrics, sample_model, sandbox_run, traces
from bench.metrics import Delivery
from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.settings import SETTINGS

_DEFAULTS = {setting.key: setting.default for setting in SETTINGS}
BUFFER_SECONDS = 20
WINDOW_SECONDS = 1
END_OF_TURN = "fixed"
"""The synthetic trace is quoted at 20 x 1 with endOfTurn fixed (the defaults before real chat timing chose them), so
its figures stay comparable run to run; the current defaults are measured on real timing (`bench.real_timing`)."""
MAX_WAIT_SECONDS = _DEFAULTS["maxWaitSeconds"]
MAX_MESSAGES = _DEFAULTS["maxMessages"]
MAIN_TRACE: dict[str, Any] = {"customers": 80, "seed": 8}
FOUR_TRACE: dict[str, Any] = {"customers": 15, "seed": 4, "sizes": {4: 1}}
SWEEP_BUFFERS = (5, 10, 20, 30)
SWEEP_WINDOWS = (1, 2, 5)
SWEEP_SANDBOX_TRACE: dict[str, Any] = {"customers": 12, "seed": 12}
SWEEP_SANDBOX_POINTS = tuple((b, w) for b in SWEEP_BUFFERS for w in SWEEP_WINDOWS if w <= b)
"""Grid points also replayed through the sandbox (a smaller trace, to fit the time budget), for the dollar table."""
SWEEP_QUICK_POINTS = ((20, 1), (20, 2), (20, 5))
"""`python -m bench --quick`: only the default bufferSeconds' windows through the sandbox."""


def policy(buffer_seconds: float, window_seconds: float) -> BufferPolicy:
    return BufferPolicy(
        buffer_seconds, max(MAX_WAIT_SECONDS, buffer_seconds), MAX_MESSAGES, window_seconds, END_OF_TURN
    )


def overrides(buffer_seconds: float, window_seconds: float) -> dict[str, str]:
    return {"bufferSeconds": str(buffer_seconds), "windowSeconds": str(window_seconds), "endOfTurn": END_OF_TURN}


def delivery_offset(sandbox: list[Delivery], model: list[Delivery]) -> dict[str, Any]:
    """How the sandbox's Connect messages compare with the model's flushes: same message sets, and how much later
    (queue + Connect calls) they reach Connect."""
    by_ids = {d.message_ids: d.at for d in model}
    offsets = [d.at - by_ids[d.message_ids] for d in sandbox if d.message_ids in by_ids]
    return {
        "same_grouping_pct": round(100 * len(offsets) / len(sandbox), 2) if sandbox else None,
        "offset_median_s": round(statistics.median(offsets), 3) if offsets else None,
        "offset_max_s": round(max(offsets), 3) if offsets else None,
    }


def compare(name: str, messages: list[traces.Message], buffer_seconds: float, window_seconds: float) -> dict[str, Any]:
    run = sandbox_run.replay(name, messages, overrides(buffer_seconds, window_seconds))
    ours = metrics.deliveries_from_transcript(run.transcript)
    model = debounce_model.debounce_deliveries(messages, policy(buffer_seconds, window_seconds))
    usage = run.meter.finish(run.transcript)
    pipeline = run.replay.pipeline
    assert pipeline is not None  # the replay ran
    assert run.meter.calls_seen == sum(pipeline.api_calls.values()), "the meter saw other calls than api_calls"
    return {
        "trace": {
            "name": name,
            "messages": len(messages),
            "customers": len({m.customer for m in messages}),
            "true_bursts": len(traces.true_bursts(messages)),
        },
        "buffer_seconds": buffer_seconds,
        "window_seconds": window_seconds,
        "ours_sandbox": metrics.score(messages, ours),
        "ours_model": metrics.score(messages, model),
        "seed_model": metrics.score(messages, sample_model.sample_deliveries(messages, buffer_seconds)),
        "unbuffered": metrics.score(messages, sample_model.unbuffered_deliveries(messages)),
        "sandbox_vs_model": delivery_offset(ours, model),
        "dynamodb_requests_per_message": round(
            sum(sandbox_run.dynamodb_requests(run.replay).values()) / len(messages), 2
        ),
        "invocations": run.transcript["stats"]["invocations"],
        "usage": usage.as_dict(),
        "cost": cost.dollars(usage),
        "replay_wall_s": round(run.wall_seconds, 1),
        "replay_virtual_s": run.transcript["stats"]["virtual_seconds"],
        "rejected": len(run.transcript["rejected"]),
    }


def main_trace() -> list[traces.Message]:
    return traces.conversations(**MAIN_TRACE)


def four_message_trace() -> list[traces.Message]:
    return traces.conversations(**FOUR_TRACE)


def sweep(
    messages: list[traces.Message], sandbox_points: dict[tuple[int, int], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every grid point through the model on the main trace, plus the sandbox's figures where it ran."""
    rows = []
    for b in SWEEP_BUFFERS:
        for w in SWEEP_WINDOWS:
            if w > b:
                continue
            ours = metrics.score(messages, debounce_model.debounce_deliveries(messages, policy(b, w)))
            seed = metrics.score(messages, sample_model.sample_deliveries(messages, b))
            row = {"buffer_seconds": b, "window_seconds": w, "ours_model": ours, "seed_model": seed}
            if (b, w) in sandbox_points:
                row["ours_sandbox"] = sandbox_points[(b, w)]
            rows.append(row)
    return rows
