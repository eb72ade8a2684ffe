"""`make faults`: replay one seeded random trace under each fault mix and print what the customer and agent lived through.

For every mix: WhatsApp messages accepted, lost, duplicated, reordered, dead-lettered, and agent replies lost or
duplicated. The promise is 0/0/0 everywhere (dead letters only for deliberate poison inputs, of which this trace has
none). Results go to bench/faults.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import traces
from sandbox import faults, trace, verify
from sandbox.replay import Replay
from whatsapp_buffer.settings import SETTINGS

OUT = Path(__file__).resolve().parent / "faults.json"
DEFAULT_MIXES = ("none", *faults.MIXES, "all")
MAX_WAIT_SECONDS = next(s.default for s in SETTINGS if s.key == "maxWaitSeconds")


def fault_trace(messages: int, seed: int) -> list[trace.TraceEvent]:
    """About `messages` customer messages in bursts, and an agent reply 40 s after each burst's last message."""
    customers = max(1, messages // 14)
    lines = [m.to_line() for m in traces.conversations(customers=customers, bursts_per_customer=(3, 5), seed=seed)]
    lines = lines[:messages]
    last_of_burst: dict[str, dict[str, Any]] = {}
    for line in lines:
        last_of_burst[line["burst"]] = line
    for burst, line in last_of_burst.items():
        lines.append(
            {"at": round(line["at"] + 40.0, 3), "type": "agent", "to": line["from"], "text": f"answer to {burst}"}
        )
    events = [trace._validate(number, line) for number, line in enumerate(lines, start=1)]
    return sorted(events, key=lambda e: (e.at, e.line))


def run(mixes: list[str], messages: int, seed: int, rate: float) -> list[dict[str, Any]]:
    events = fault_trace(messages, seed)
    rows = []
    for mix in mixes:
        plan = faults.parse(mix, rate=rate, seed=seed)
        started = time.perf_counter()
        rep = Replay(events, faults=plan)
        transcript = rep.run()
        result = verify.audit(events, transcript)
        pipeline = rep.pipeline
        assert pipeline is not None  # the replay ran
        rows.append(
            {
                "mix": mix,
                "date": time.strftime("%Y-%m-%d"),
                **result.as_dict(),
                "max_delay_s": max_delay(transcript),
                "sns_duplicates": pipeline.sns_duplicates,
                "stream_batches_dropped": pipeline.stream.dropped,
                "failed_invocations": sum(1 for i in pipeline.invocations if not i.ok),
                "wall_seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(_row(rows[-1]), file=sys.stderr)
    return rows


def max_delay(transcript: dict[str, Any]) -> float | None:
    """The longest time from a message reaching the bridge (stored by ingest) to its first Connect message, in s."""
    shown: dict[str, float] = {}
    for item in transcript["connect"]:
        for message_id in item["message_ids"]:
            shown.setdefault(message_id, item["at"])
    delays = [shown[m] - at for m, at in transcript["stored_at"].items() if m in shown]
    return round(max(delays), 1) if delays else None


_COLUMNS = (
    "mix",
    "messages",
    "lost",
    "duplicated",
    "reordered",
    "late",
    "dead_lettered",
    "replies",
    "replies_lost",
    "replies_duplicated",
    "replies_in_doubt",
    "failed_invocations",
    "max_delay_s",
    "wall_seconds",
)


def _row(row: dict[str, Any]) -> str:
    return "  ".join(f"{str(row[c]):>{max(len(c), 6)}}" for c in _COLUMNS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rate", type=float, default=0.05, help="fault rate of each mix (default 0.05)")
    parser.add_argument("--mix", action="append", help=f"mixes to run (default: {', '.join(DEFAULT_MIXES)})")
    args = parser.parse_args(argv)
    print("  ".join(f"{c:>{max(len(c), 6)}}" for c in _COLUMNS), file=sys.stderr)
    rows = run(args.mix or list(DEFAULT_MIXES), args.messages, args.seed, args.rate)
    OUT.write_text(json.dumps(merged(rows, args.messages, args.seed, args.rate), indent=2) + "\n")
    promised = all(kept(r) for r in rows)
    print(f"\n{'all promises kept' if promised else 'PROMISE BROKEN'}: results in {OUT.name}", file=sys.stderr)
    return 0 if promised else 1


def merged(rows: list[dict[str, Any]], messages: int, seed: int, rate: float) -> dict[str, Any]:
    """faults.json with `rows` in place of the same mixes' earlier rows (each row carries its date), so running one
    mix (`--mix stream-drop`) keeps the others; a different trace or rate starts the file afresh."""
    head = {"messages": messages, "seed": seed, "rate": rate}
    try:
        earlier = json.loads(OUT.read_text())
    except (OSError, ValueError):
        earlier = {}
    kept_rows = earlier.get("rows", []) if all(earlier.get(k) == v for k, v in head.items()) else []
    fresh = {row["mix"] for row in rows}
    order = [*DEFAULT_MIXES]
    combined = [r for r in kept_rows if r["mix"] not in fresh] + rows
    combined.sort(key=lambda r: order.index(r["mix"]) if r["mix"] in order else len(order))
    return {**head, "rows": combined}


def kept(row: dict[str, Any]) -> bool:
    """Customer messages: none lost, duplicated or reordered. Agent replies: none lost, none duplicated, except that
    WhatsApp's send API has no idempotency key, so an outbound Lambda killed between WhatsApp accepting a reply and
    recording it resends that reply on retry (only mixes with Lambda timeouts can do that; docs/faults.md says so)."""
    replies_ok = row["replies_duplicated"] <= row.get("replies_in_doubt", 0)
    # A batch the stream mapping dropped strands no conversation: the sweeper brings it back within 3 minutes past
    # maxWaitSeconds (the stack default here).
    in_time = "stream-drop" not in row["mix"] or (row["max_delay_s"] or 0) <= MAX_WAIT_SECONDS + 180
    return row["lost"] == row["duplicated"] == row["reordered"] == row["replies_lost"] == 0 and replies_ok and in_time


if __name__ == "__main__":
    sys.exit(main())
