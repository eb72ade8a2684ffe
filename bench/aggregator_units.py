"""`python -m bench.aggregator_units [BUFFER WINDOW]`: the aggregator's DynamoDB request units per burst on the
205-message sweep trace (`quality.SWEEP_SANDBOX_TRACE`, 49 bursts) through the sandbox, and its calls by operation.

Units come from `bench.cost.Meter` (item sizes: writes 1 per started KB, consistent reads 1 per 4 KB); the calls are
counted by wrapping `Meter.call`, which sees every call the handlers make. Counts, not timings: a busy machine does
not move them."""

from __future__ import annotations

import collections
import json
import sys
from typing import Any

from bench import cost, metrics, quality, sandbox_run, traces


def run(buffer_seconds: float = 20, window_seconds: float = 1) -> dict[str, Any]:
    messages = traces.conversations(**quality.SWEEP_SANDBOX_TRACE)
    bursts = len(traces.true_bursts(messages))
    operations: collections.Counter[str] = collections.Counter()
    call = cost.Meter.call

    def counting(meter: cost.Meter, function: str, api_call: Any) -> None:
        if function == "aggregator" and api_call.service == "dynamodb":
            operations[api_call.operation] += 1
        call(meter, function, api_call)

    cost.Meter.call = counting  # type: ignore[method-assign]
    try:
        replay = sandbox_run.replay("aggregator-units", messages, quality.overrides(buffer_seconds, window_seconds))
    finally:
        cost.Meter.call = call  # type: ignore[method-assign]
    usage = replay.meter.finish(replay.transcript)
    wru = usage.dynamodb_write_units_by_function.get("aggregator", 0.0)
    rru = usage.dynamodb_read_units_by_function.get("aggregator", 0.0)
    score = metrics.score(messages, metrics.deliveries_from_transcript(replay.transcript))
    return {
        "trace": {"messages": len(messages), "true_bursts": bursts},
        "buffer_seconds": buffer_seconds,
        "window_seconds": window_seconds,
        "aggregator_wru": wru,
        "aggregator_rru": rru,
        "ru_per_burst": round((wru + rru) / bursts, 2),
        "wru_per_burst": round(wru / bursts, 2),
        "rru_per_burst": round(rru / bursts, 2),
        "ru_per_message": round((wru + rru) / len(messages), 2),
        "aggregator_calls": dict(operations),
        "integrity_pct": score["integrity_pct"],
        "latency_p95_s": score["latency_p95_s"],
    }


if __name__ == "__main__":  # the sandbox's function workers are spawned: they import this module again
    print(json.dumps(run(*(float(a) for a in sys.argv[1:3])), indent=1))
