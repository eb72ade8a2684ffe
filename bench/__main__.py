"""`python -m bench [SECTION ...]`: run the benchmarks (all sections by default), print a table, write results.json.

Sections: real (real chat timing: the Gitter dialogs), real_sandbox (a sample of them through the sandbox), quality,
sweep, aggregator, spike, scale, coldstart, media, stages (`python -m bench faults ...` runs bench/faults.py instead,
`python -m bench advise TRACE.jsonl` bench/advise.py, `python -m bench timings ...` bench/timings.py);
`--quick` replays only the default bufferSeconds' sweep points through the sandbox (and writes out/results.partial.json). Replays run one after another (2 cores: the replay process,
moto and the function workers already share them).
"""

from __future__ import annotations

import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
SWEEP_PNG = HERE / "sweep.png"
SECTIONS = ("real", "real_sandbox", "quality", "sweep", "aggregator", "spike", "scale", "coldstart", "media", "stages")
REAL_PNG = HERE / "real_timing.png"
REAL_RESULTS = HERE / "real_timing.json"
STAGES_POINT = (20, 1)
"""`python -m bench stages`: DynamoDB request units per stage on the sweep's sandbox trace at this bufferSeconds x
windowSeconds point."""


def _machine() -> dict[str, Any]:
    import os

    memory_kib = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            memory_kib = int(handle.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def run_sections(sections: list[str], *, quick: bool = False) -> dict[str, Any]:
    from bench import aggregator_cost, coldstart, media, plot, quality, scale, spike, traces

    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine": _machine(), "timings_s": {}}

    def timed(name: str, work: Any) -> Any:
        started = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        value = work()
        results["timings_s"][name] = round(time.perf_counter() - started, 1)
        return value

    if "real" in sections:
        from bench import real_timing

        results["real_timing"] = timed("real", real_timing.run)
        plot.frontier_png(results["real_timing"], REAL_PNG)
    if "real_sandbox" in sections:
        from bench import real_timing

        results["real_sandbox"] = timed("real_sandbox", real_timing.spot_check)
    if "quality" in sections or "sweep" in sections:
        main = quality.main_trace()
        results["quality"] = timed(
            "quality", lambda: quality.compare("main", main, quality.BUFFER_SECONDS, quality.WINDOW_SECONDS)
        )
        results["four_message_bursts"] = timed(
            "four_message_bursts",
            lambda: quality.compare(
                "four", quality.four_message_trace(), quality.BUFFER_SECONDS, quality.WINDOW_SECONDS
            ),
        )
    if "sweep" in sections:
        small = traces.conversations(**quality.SWEEP_SANDBOX_TRACE)

        def sandbox_points() -> dict[tuple[int, int], dict[str, Any]]:
            points = {}
            for b, w in quality.SWEEP_QUICK_POINTS if quick else quality.SWEEP_SANDBOX_POINTS:
                compared = quality.compare(f"sweep-{b}-{w}", small, b, w)
                points[(b, w)] = {
                    **compared["ours_sandbox"],
                    "trace_messages": len(small),
                    "model_on_same_trace": compared["ours_model"],
                    "seed_on_same_trace": compared["seed_model"],
                    "sandbox_vs_model": compared["sandbox_vs_model"],
                    "dynamodb_requests_per_message": compared["dynamodb_requests_per_message"],
                    "invocations": compared["invocations"],
                    "usage": compared["usage"],
                    "cost": compared["cost"],
                    "replay_wall_s": compared["replay_wall_s"],
                }
            return points

        points = timed("sweep_sandbox", sandbox_points)
        main_point = results["quality"]
        main_entry = {
            **main_point["ours_sandbox"],
            "trace_messages": len(main),
            "model_on_same_trace": main_point["ours_model"],
            "seed_on_same_trace": main_point["seed_model"],
            "sandbox_vs_model": main_point["sandbox_vs_model"],
            "dynamodb_requests_per_message": main_point["dynamodb_requests_per_message"],
            "invocations": main_point["invocations"],
            "usage": main_point["usage"],
            "cost": main_point["cost"],
            "replay_wall_s": main_point["replay_wall_s"],
        }
        results["sweep"] = quality.sweep(main, points)
        for row in results["sweep"]:
            if (row["buffer_seconds"], row["window_seconds"]) == (quality.BUFFER_SECONDS, quality.WINDOW_SECONDS):
                row["ours_sandbox_main"] = main_entry
        plot.sweep_png(
            results["sweep"],
            SWEEP_PNG,
            title_note=(
                f"lines: model on the main trace ({len(main)} messages, {len(traces.true_bursts(main))} true "
                f"bursts); red circle: sandbox replay of that trace"
            ),
            main_messages=len(main),
        )
    if "aggregator" in sections:
        results["aggregator"] = timed("aggregator", aggregator_cost.run)
    if "spike" in sections:
        results["spike"] = timed("spike", spike.run)
    if "scale" in sections:
        results["scale"] = timed("scale", scale.run)
    if "coldstart" in sections:
        results["coldstart"] = timed("coldstart", coldstart.run)
    if "media" in sections:
        results["media"] = timed("media", media.run)
    if "stages" in sections:
        results["stages"] = timed("stages", stages)
    return results


def stages(point: tuple[int, int] = STAGES_POINT) -> dict[str, Any]:
    """One sandbox replay of the sweep trace, its DynamoDB request units by stage (bench/cost.py's exact shadow)."""
    from bench import cost, metrics, quality, sandbox_run, traces

    messages = traces.conversations(**quality.SWEEP_SANDBOX_TRACE)
    b, w = point
    run = sandbox_run.replay(f"stages-{b}-{w}", messages, quality.overrides(b, w))
    usage = run.meter.finish(run.transcript)
    bursts = len(traces.true_bursts(messages))
    score = metrics.score(messages, metrics.deliveries_from_transcript(run.transcript))
    return {
        "buffer_seconds": b,
        "window_seconds": w,
        "messages": len(messages),
        "true_bursts": bursts,
        "integrity_pct": score["integrity_pct"],
        "latency_p95_s": score["latency_p95_s"],
        "stages": cost.stage_units(usage, messages=len(messages), bursts=bursts),
    }


def stages_lines(s: dict[str, Any]) -> list[str]:
    out = [
        f"\nDynamoDB request units per stage, {s['buffer_seconds']} x {s['window_seconds']}: {s['messages']} messages, "
        f"{s['true_bursts']} true bursts (integrity {_fmt(s['integrity_pct'])}%, p95 {_fmt(s['latency_p95_s'])} s)"
    ]
    head = ("stage", "WRU", "RRU", "WRU/msg", "RRU/msg", "RU/msg", "RU/burst")
    out.append("  ".join(f"{h:>9}" if i else f"{h:<12}" for i, h in enumerate(head)))
    for function, st in s["stages"].items():
        cells = (
            function,
            st["wru"],
            st["rru"],
            st["wru_per_message"],
            st["rru_per_message"],
            st["ru_per_message"],
            st["ru_per_burst"],
        )
        out.append("  ".join(f"{_fmt(c):>9}" if i else f"{c:<12}" for i, c in enumerate(cells)))
    for function, st in s["stages"].items():
        out.append(
            f"  {function} by call: "
            + "; ".join(
                f"{kind} {k['calls']:,} calls {_fmt(k['wru'])} WRU {_fmt(k['rru'])} RRU"
                for kind, k in st["by_kind"].items()
            )
        )
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []

    def row(*cells: Any) -> None:
        lines.append("  ".join(f"{_fmt(c):>19}" if i else f"{_fmt(c):<32}" for i, c in enumerate(cells)))

    if "real_timing" in results:
        from bench import real_timing

        lines.extend(real_timing.lines(results["real_timing"]))
    if "real_sandbox" in results:
        from bench import real_timing

        lines.extend(real_timing.spot_lines(results["real_sandbox"]))
    if "quality" in results:
        for key, title in (("quality", "main trace"), ("four_message_bursts", "4-message bursts")):
            q = results[key]
            t = q["trace"]
            lines.append(
                f"\nBuffering quality, {title}: {t['messages']} messages, {t['true_bursts']} true bursts, "
                f"{t['customers']} customers; bufferSeconds {q['buffer_seconds']}, windowSeconds "
                f"{q['window_seconds']}"
            )
            row("", "ours (sandbox)", "AWS sample (model)", "unbuffered", "ours (model)")
            columns = [q["ours_sandbox"], q["seed_model"], q["unbuffered"], q["ours_model"]]
            for label, name in (
                ("burst integrity %", "integrity_pct"),
                ("split bursts", "split_bursts"),
                ("merged bursts", "merged_bursts"),
                ("added latency mean s", "latency_mean_s"),
                ("added latency p95 s", "latency_p95_s"),
                ("added latency max s", "latency_max_s"),
                ("Connect msgs / 1,000 WhatsApp", "connect_per_1000"),
                ("WhatsApp msgs per Connect msg", "messages_per_connect"),
                ("Connect cost / 1,000 msgs $", "connect_cost_per_1000_usd"),
            ):
                row(label, *(c[name] for c in columns))
            s = q["sandbox_vs_model"]
            lines.append(
                f"  sandbox groups as the model: {_fmt(s['same_grouping_pct'])}%; sandbox Connect time - model "
                f"flush: median {_fmt(s['offset_median_s'])} s, max {_fmt(s['offset_max_s'])} s; replay "
                f"{_fmt(q['replay_wall_s'])} s wall"
            )
    if "sweep" in results:
        lines.append("\nSweep, model on the main trace: integrity % / p95 added latency s / Connect msgs per 1,000")
        row("bufferSeconds x windowSeconds", "ours (model)", "AWS sample (model)")
        for r in results["sweep"]:
            o, s = r["ours_model"], r["seed_model"]
            row(
                f"{r['buffer_seconds']} x {r['window_seconds']}",
                f"{_fmt(o['integrity_pct'])}/{_fmt(o['latency_p95_s'])}/{_fmt(o['connect_per_1000'])}",
                f"{_fmt(s['integrity_pct'])}/{_fmt(s['latency_p95_s'])}/{_fmt(s['connect_per_1000'])}",
            )
        lines.append(
            "Sweep points replayed through the sandbox (same figures; model and AWS sample on the same trace):"
        )
        row("bufferSeconds x windowSeconds", "sandbox", "model", "AWS sample", "DDB req/msg")
        for r, sb in [(r, r[k]) for r in results["sweep"] for k in ("ours_sandbox", "ours_sandbox_main") if k in r]:
            m, sd = sb["model_on_same_trace"], sb["seed_on_same_trace"]
            row(
                f"{r['buffer_seconds']} x {r['window_seconds']} ({sb['trace_messages']} msgs)",
                *(
                    f"{_fmt(x['integrity_pct'])}/{_fmt(x['latency_p95_s'])}/{_fmt(x['connect_per_1000'])}"
                    for x in (sb, m, sd)
                ),
                sb["dynamodb_requests_per_message"],
            )
    if "sweep" in results:
        lines.extend(cost_table(results["sweep"]))
    if "aggregator" in results:
        a = results["aggregator"]
        p, h = a["pure"], a["handler_moto"]
        lines.append("\nAggregator cost")
        lines.append(
            f"  pure flush_due + merge: {_fmt(p['records_per_s'])} records/s ({_fmt(p['conversations_per_s'])} "
            f"conversations/s; decisions alone {_fmt(p['decisions_per_s'])}/s) over {_fmt(p['records'])} records"
        )
        lines.append(
            f"  handler window end on moto (loopback): {_fmt(h['records_per_s'])} records/s, "
            f"{_fmt(h['ms_per_flushed_conversation'])} ms per flushed conversation, "
            f"{_fmt(h['ms_per_waiting_conversation'])} ms per waiting one; ingest {_fmt(h['ingest_ms_per_message'])} ms/message"
        )
        for s in a["state"]:
            lines.append(
                f"  window state, {_fmt(s['conversations'])} conversations: {_fmt(s['bytes'])} bytes "
                f"({_fmt(s['pct_of_1mb_limit'])}% of 1 MB)"
            )
        lines.append(
            f"  conversations per shard-window before the 1 MB limit: ~{_fmt(a['max_conversations_per_shard_window'])}"
        )
        tick = a["tick"]
        lines.append(
            f"  one tick leaving {_fmt(tick['conversations'])} conversations waiting: {_fmt(tick['wru'])} WRU in "
            f"{tick['items']} item(s), {tick['conversations_per_wru']} conversations per WRU"
        )
    if "spike" in results:
        from bench import spike

        lines.extend(spike.lines(results["spike"]))
    if "scale" in results:
        s = results["scale"]
        lines.append(
            f"\nScale: {_fmt(s['customers'])} customers, {_fmt(s['whatsapp_messages'])} messages within "
            f"{_fmt(s['messages_within_s'])} s"
        )
        lines.append(
            f"  drained {_fmt(s['drain_virtual_s'])} virtual s after the last message ({_fmt(s['replay_wall_s'])} s wall); "
            f"integrity {_fmt(s['score']['integrity_pct'])}%, p95 latency {_fmt(s['score']['latency_p95_s'])} s"
        )
        m = s["memory"]
        lines.append(
            f"  peak memory: {_fmt(m.get('peak_concurrent_pss_mib'))} MiB PSS at once over {m['processes']} processes "
            f"(RSS {_fmt(m['peak_concurrent_rss_mib'])} MiB, counting shared pages once per process; sum of "
            f"per-process peaks {_fmt(m['peak_sum_hwm_mib'])} MiB)"
        )
        lines.append(
            f"  DynamoDB requests per WhatsApp message: {_fmt(s['dynamodb_requests_per_message'])} "
            f"{s['dynamodb_requests_per_message_by_function']}"
        )
    if "coldstart" in results:
        c = results["coldstart"]
        lines.append(
            "\nCold start (import in a fresh interpreter, median of "
            f"{c['repeats']}): " + ", ".join(f"{k} {_fmt(v['median_ms'])} ms" for k, v in c["imports"].items())
        )
        pk = c["package"]
        lines.append(
            f"  package: {pk['files']} files, {_fmt(pk['uncompressed_bytes'])} bytes, zip {_fmt(pk['zip_bytes'])} bytes"
        )
    if "media" in results:
        from bench import media

        lines.extend(media.lines(results["media"]))
    if "stages" in results:
        lines.extend(stages_lines(results["stages"]))
    lines.append("\nsection wall times (s): " + ", ".join(f"{k} {v}" for k, v in results["timings_s"].items()))
    return "\n".join(lines)


def cost_table(rows: list[dict[str, Any]]) -> list[str]:
    """The buffer's own AWS bill per 1,000 WhatsApp messages at every sweep point the sandbox replayed."""
    from bench import cost

    out = [
        f"\nCost per 1,000 WhatsApp messages, US$ (us-east-1 on-demand prices read {cost.PRICES_READ_ON}, "
        f"bench/cost.py); Connect chat ${cost.PRICES['connect_chat_message'].usd:.3f}/message "
        f"(the AWS sample's table ${cost.PRICES['connect_chat_message_seed'].usd:.3f})"
    ]
    head = (
        "b x w (msgs)",
        "integ %",
        "p50 s",
        "p95 s",
        "DDB",
        "Lambda",
        "SQS+SNS+KMS",
        "logs",
        "own $",
        "Connect $",
        "saved $",
        "saved@.004",
        "own/saved %",
    )
    out.append("  ".join(f"{h:>11}" if i else f"{h:<16}" for i, h in enumerate(head)))
    replayed = [(r, r[k]) for r in rows for k in ("ours_sandbox", "ours_sandbox_main") if "cost" in r.get(k, {})]
    for r, sb in replayed:
        c, lines = sb["cost"], sb["cost"]["lines_per_1000_usd"]
        ddb = sum(v for k, v in lines.items() if k.startswith("DynamoDB"))
        lam = sum(v for k, v in lines.items() if k.startswith("Lambda"))
        msg = sum(v for k, v in lines.items() if k.startswith(("SQS", "SNS", "KMS", "S3")))
        cells = (
            f"{r['buffer_seconds']} x {r['window_seconds']} ({sb['trace_messages']})",
            _fmt(sb["integrity_pct"]),
            _fmt(sb["latency_p50_s"]),
            _fmt(sb["latency_p95_s"]),
            f"{ddb:.4f}",
            f"{lam:.4f}",
            f"{msg:.4f}",
            f"{lines['CloudWatch Logs ingestion']:.4f}",
            f"{c['own_per_1000_usd']:.4f}",
            f"{c['connect_per_1000_usd']:.2f}",
            f"{c['connect_saved_per_1000_usd']:.2f}",
            f"{c['connect_saved_per_1000_usd_seed_price']:.2f}",
            _fmt(c["own_pct_of_saved"]),
        )
        out.append("  ".join(f"{x:>11}" if i else f"{x:<16}" for i, x in enumerate(cells)))
    out.append(
        "  own $ = DynamoDB + Lambda (requests + modelled GB-s) + SQS FIFO + SNS + KMS + S3 + CloudWatch Logs; "
        "saved $ = Connect messages not sent x price (unbuffered = one per WhatsApp message)"
    )
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["advise"]:
        from bench import advise

        return advise.main(argv[1:])
    if argv[:1] == ["faults"]:
        # `make faults`: the fault-injection runs live in bench/faults.py, which has its own arguments.
        from bench import faults

        return faults.main(argv[1:])
    if argv[:1] == ["timings"]:
        # A deployed stack's customer timings, read from its raw table as a replay trace (bench/timings.py).
        from bench import timings

        return timings.main(argv[1:])
    quick = "--quick" in argv
    argv = [a for a in argv if a != "--quick"]
    unknown = [a for a in argv if a not in SECTIONS]
    if unknown:
        print(f"unknown section {unknown[0]!r}: choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    sections = argv or list(SECTIONS)
    started = time.perf_counter()
    results = run_sections(sections, quick=quick)
    results["total_wall_s"] = round(time.perf_counter() - started, 1)
    real = {k: results[k] for k in ("real_timing", "real_sandbox") if k in results}
    if real:
        # The real-timing figures also stand alone, so `python -m bench real real_sandbox` refreshes what the docs cite.
        # A section run alone replaces its own entry and keeps the other's (each entry carries its date).
        kept = json.loads(REAL_RESULTS.read_text(encoding="utf-8")) if REAL_RESULTS.exists() else {}
        for key, value in real.items():
            kept[key] = {"date": results["date"], "machine": results["machine"], "figures": value}
        REAL_RESULTS.write_text(json.dumps(kept, indent=2) + "\n", encoding="utf-8")
    if not argv and not quick:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    else:
        (HERE / "out").mkdir(exist_ok=True)
        (HERE / "out" / "results.partial.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(
        f"\ntotal {results['total_wall_s']} s; wrote {RESULTS.name if not argv and not quick else 'out/results.partial.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(HERE.parent / "runtime"), str(HERE.parent)]
    sys.exit(main(sys.argv[1:]))
