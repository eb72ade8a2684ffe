"""Scale: many concurrent conversations through the sandbox at once: drain time, peak memory, DynamoDB requests."""

from __future__ import annotations

from typing import Any

from bench import metrics, quality, sandbox_run, traces

CUSTOMERS = 1_000
RUSH_WINDOW = 60.0


def run(customers: int = CUSTOMERS) -> dict[str, Any]:
    messages = traces.rush(customers=customers, window=RUSH_WINDOW)
    with sandbox_run.MemorySampler() as memory:
        # At the synthetic trace's point (20 s, endOfTurn fixed, windowSeconds 1), like the quality section.
        overrides = quality.overrides(quality.BUFFER_SECONDS, quality.WINDOW_SECONDS)
        run = sandbox_run.replay("rush", messages, overrides)
    transcript = run.transcript
    last_message = max(m.at for m in messages)
    last_connect = max((c["at"] for c in transcript["connect"]), default=float("nan"))
    ddb = sandbox_run.dynamodb_requests(run.replay)
    n = len(messages)
    invocations = transcript["stats"]["invocations"]
    return {
        "customers": customers,
        "buffer_seconds": quality.BUFFER_SECONDS,
        "window_seconds": quality.WINDOW_SECONDS,
        "whatsapp_messages": n,
        "messages_within_s": round(last_message - min(m.at for m in messages), 1),
        "connect_messages": transcript["stats"]["connect_messages"],
        "score": metrics.score(messages, metrics.deliveries_from_transcript(transcript)),
        "drain_virtual_s": round(last_connect - last_message, 3),
        "replay_wall_s": round(run.wall_seconds, 1),
        "memory": memory.result(),
        "dynamodb_requests": sum(ddb.values()),
        "dynamodb_requests_per_message": round(sum(ddb.values()) / n, 2),
        "dynamodb_requests_per_message_by_function": {k: round(v / n, 2) for k, v in sorted(ddb.items())},
        "invocations": invocations,
        "rejected": len(transcript["rejected"]),
    }
