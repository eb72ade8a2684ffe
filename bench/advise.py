"""`python -m bench advise TRACE.jsonl` (or `--table RAW_TABLE`): the buffering frontier for the customers of a replay
trace (docs/sandbox.md) or of a deployed stack's raw table (`bench.timings`: arrival times only, never a body), and
the `bufferSeconds` and `endOfTurn` it would choose for them.

Only `whatsapp` lines count (their `at`, `from`/`user_id`, `phone_number_id`, `kind`, and `text`/`caption` when
present); a timing-only trace (no words) works: every text then reads as `plain`, so cues decide by kind and cadence
only. A burst is one customer's run of messages with gaps of at most 30 s that no `agent` or `end_chat` line to that
customer interrupts. Chosen: the fewest split bursts among settings whose mean added latency is at most the AWS
sample's 20 s window's plus 1 s and whose p95 is no higher than the window's (`--budget` sets another mean).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from bench import gitter, real_timing, sample_model, timings
from bench.traces import Message
from sandbox.trace import TraceError, read_trace

BUFFERS = range(3, 31)
MIN_BURSTS = 100
"""Fewer multi-message bursts than this and the choice is noise: the advice says so and keeps the defaults."""


def messages_of(path: str) -> list[Message]:
    """The trace's customer messages as bench messages, each with its true burst."""
    events = read_trace(path)
    out: list[Message] = []
    last: dict[str, tuple[float, int]] = {}
    bursts = 0
    for event in events:
        key = f"{event.phone_number_id}#{event.customer}"
        if event.type in ("agent", "end_chat"):
            last.pop(key, None)
            continue
        if event.type != "whatsapp":
            continue
        previous = last.get(key)
        if previous is None or event.at - previous[0] > gitter.BURST_GAP_SECONDS:
            bursts += 1
            previous = (event.at, bursts)
        last[key] = (event.at, previous[1])
        words = event.data.get("text") or event.data.get("caption") or ""
        out.append(Message(float(event.at), key, f"b{previous[1]}", words, kind=event.data.get("kind", "text")))
    return [Message(m.at, m.customer, m.burst, m.text, f"advise.{i}", m.kind) for i, m in enumerate(out)]


def frontier(messages: Sequence[Message], wait: float, most: int) -> list[dict[str, Any]]:
    rows = []
    for mode, make in (("fixed", real_timing.fixed), ("cues", real_timing.cues)):
        for b in BUFFERS:
            rows.append(
                {"end_of_turn": mode, "buffer_seconds": b, **real_timing.score(messages, make(b, wait, most)(messages))}
            )
    return rows


def choose(rows: Sequence[dict[str, Any]], seed: dict[str, Any], budget: float | None) -> dict[str, Any] | None:
    mean_cap = seed["latency_mean_s"] + 1 if budget is None else budget
    fits = [
        r
        for r in rows
        if r["latency_mean_s"] <= mean_cap and r["latency_p95_s"] <= seed["latency_p95_s"] and r["lost_messages"] == 0
    ]
    if not fits:
        return None
    return min(fits, key=lambda r: (r["split_pct"], r["latency_mean_s"], r["end_of_turn"] != "fixed"))


def advise(path: str, budget: float | None = None) -> dict[str, Any]:
    from whatsapp_buffer.settings import SETTINGS

    d = {s.key: s.default for s in SETTINGS}
    messages = messages_of(path)
    if not messages:
        raise TraceError(f"trace {path} has no whatsapp lines")
    wait, most = d["maxWaitSeconds"], d["maxMessages"]
    seed = real_timing.score(messages, sample_model.sample_deliveries(messages, real_timing.SAMPLE_REFERENCE))
    rows = frontier(messages, wait, most)
    default = next(r for r in rows if (r["end_of_turn"], r["buffer_seconds"]) == (d["endOfTurn"], d["bufferSeconds"]))
    return {
        "customers": len({m.customer for m in messages}),
        "with_words": sum(1 for m in messages if m.text),
        "seed": seed,
        "defaults": default,
        "rows": rows,
        "chosen": choose(rows, seed, budget),
        "enough_bursts": seed["multi_message_bursts"] >= MIN_BURSTS,
    }


def lines(a: dict[str, Any]) -> list[str]:
    seed = a["seed"]
    out = [
        f"{seed['messages']:,} messages from {a['customers']:,} customers ({a['with_words']:,} with words), "
        f"{seed['bursts']:,} bursts, {seed['multi_message_bursts']:,} of several messages",
        f"{'endOfTurn':>10} {'buffer s':>9} {'split %':>8} {'merged %':>9} {'Connect/burst':>14} {'mean s':>7} {'p95 s':>7}",
    ]
    for r in [*a["rows"]]:
        if r["buffer_seconds"] % 5 and r is not a["chosen"] and r is not a["defaults"]:
            continue
        mark = " <- chosen" if r is a["chosen"] else (" <- defaults" if r is a["defaults"] else "")
        out.append(
            f"{r['end_of_turn']:>10} {r['buffer_seconds']:>9} {r['split_pct']:>8} {r['merged_pct']:>9} "
            f"{r['connect_per_burst']:>14} {r['latency_mean_s']:>7} {r['latency_p95_s']:>7}{mark}"
        )
    out.append(
        f"{'sample 20s':>10} {'':>9} {seed['split_pct']:>8} {seed['merged_pct']:>9} {seed['connect_per_burst']:>14} "
        f"{seed['latency_mean_s']:>7} {seed['latency_p95_s']:>7}  (the AWS sample's window, for reference)"
    )
    chosen = a["chosen"]
    if chosen is None:
        out.append("no setting keeps within the latency budget: keep the defaults")
    elif not a["enough_bursts"]:
        out.append(
            f"only {seed['multi_message_bursts']} multi-message bursts (fewer than {MIN_BURSTS}): too few to choose "
            f"from; keep the defaults (bufferSeconds {a['defaults']['buffer_seconds']}, endOfTurn "
            f"{a['defaults']['end_of_turn']})"
        )
    else:
        out.append(
            f"suggested: pulumi config set bufferSeconds {chosen['buffer_seconds']} && pulumi config set endOfTurn "
            f"{chosen['end_of_turn']}  ({chosen['split_pct']}% split at {chosen['latency_mean_s']} s mean)"
        )
    if a["with_words"] == 0:
        out.append("(a timing-only trace: cues read every text as plain; with words they can do better)")
    return out


def advise_table(
    table_name: str, budget: float | None = None, *, region: str | None = None, client: Any = None
) -> dict[str, Any]:
    """`advise` on the message times of a deployed stack's raw table, read as `python -m bench timings` reads them."""
    lines = timings.read_table(table_name, region=region, client=client)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as trace:
        trace.write("".join(json.dumps(line) + "\n" for line in lines))
        trace.flush()
        return advise(trace.name, budget)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench advise", description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("trace", nargs="?", help="a replay trace (TRACE.jsonl)")
    source.add_argument("--table", help="a deployed stack's raw table (stack output rawTableName)")
    parser.add_argument("--region", help="the table's region (default: boto3's, e.g. AWS_REGION)")
    parser.add_argument("--budget", type=float, help="mean added latency allowed, in seconds")
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if args.table:
            result = advise_table(args.table, args.budget, region=args.region)
        else:
            result = advise(args.trace, args.budget)
    except TraceError as exc:
        print(f"bench advise: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        print(f"bench advise: cannot read table {args.table}: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines(result)))
    return 0
