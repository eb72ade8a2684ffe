"""bench/sweep.png: the integrity/latency trade-off of bufferSeconds x windowSeconds, ours against the AWS sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

MARKERS = {1: "o", 2: "s", 5: "^"}


def sweep_png(rows: list[dict[str, Any]], path: Path, *, title_note: str, main_messages: int) -> Path:
    """Model lines for every grid point; a red circle where the sandbox replayed the same (main) trace."""
    fig, (left, right, dollars) = plt.subplots(1, 3, figsize=(19, 5.4), constrained_layout=True)
    buffers = sorted({r["buffer_seconds"] for r in rows})
    windows = sorted({r["window_seconds"] for r in rows})
    for w in windows:
        points = [r for r in rows if r["window_seconds"] == w]
        xs = [r["buffer_seconds"] for r in points]
        left.plot(
            xs,
            [r["ours_model"]["integrity_pct"] for r in points],
            marker=MARKERS.get(w, "o"),
            label=f"ours, windowSeconds {w}",
        )
        right.plot(
            [r["ours_model"]["latency_p95_s"] for r in points],
            [r["ours_model"]["integrity_pct"] for r in points],
            marker=MARKERS.get(w, "o"),
            label=f"ours, windowSeconds {w}",
        )
        for r in points if w == windows[0] else []:
            right.annotate(
                f"{r['buffer_seconds']}s",
                (r["ours_model"]["latency_p95_s"], r["ours_model"]["integrity_pct"]),
                textcoords="offset points",
                xytext=(-6, 6),
                fontsize=8,
            )
    seed = {r["buffer_seconds"]: r["seed_model"] for r in rows}
    left.plot(
        buffers, [seed[b]["integrity_pct"] for b in buffers], "k--", marker="x", label="AWS sample (fixed window)"
    )
    right.plot(
        [seed[b]["latency_p95_s"] for b in buffers],
        [seed[b]["integrity_pct"] for b in buffers],
        "k--",
        marker="x",
        label="AWS sample (fixed window)",
    )
    sandbox = [
        {**r, "ours_sandbox": r["ours_sandbox_main"]}
        for r in rows
        if r.get("ours_sandbox_main", {}).get("trace_messages") == main_messages
    ]
    if sandbox:
        left.scatter(
            [r["buffer_seconds"] for r in sandbox],
            [r["ours_sandbox"]["integrity_pct"] for r in sandbox],
            s=120,
            facecolors="none",
            edgecolors="red",
            linewidths=1.5,
            label="ours, sandbox replay",
            zorder=5,
        )
        right.scatter(
            [r["ours_sandbox"]["latency_p95_s"] for r in sandbox],
            [r["ours_sandbox"]["integrity_pct"] for r in sandbox],
            s=120,
            facecolors="none",
            edgecolors="red",
            linewidths=1.5,
            label="ours, sandbox replay",
            zorder=5,
        )
    left.set_xlabel("bufferSeconds (quiet period; the AWS sample's window length)")
    left.set_ylabel("burst integrity: % of true bursts reaching the agent as one message")
    left.set_xticks(buffers)
    left.set_title("Integrity by bufferSeconds")
    right.set_xlabel("p95 added latency after the customer's last message (s)")
    right.set_ylabel("burst integrity (%)")
    right.set_title("Trade-off: integrity against latency (labels: bufferSeconds)")
    _dollars_panel(dollars, rows)
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.axhline(99, color="grey", linewidth=0.8, linestyle=":")
        axis.legend(fontsize=8, loc="lower right")
    dollars.grid(True, alpha=0.3)
    fig.suptitle(f"bufferSeconds x windowSeconds sweep — {title_note}", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _dollars_panel(axis: Any, rows: list[dict[str, Any]]) -> None:
    """The buffer's own AWS bill per 1,000 WhatsApp messages against p95 added latency, sandbox replays only."""
    replayed = [r for r in rows if "cost" in r.get("ours_sandbox", {})]
    for w in sorted({r["window_seconds"] for r in replayed}):
        points = sorted((r for r in replayed if r["window_seconds"] == w), key=lambda r: r["buffer_seconds"])
        xs = [r["ours_sandbox"]["latency_p95_s"] for r in points]
        ys = [r["ours_sandbox"]["cost"]["own_per_1000_usd"] for r in points]
        axis.plot(xs, ys, marker=MARKERS.get(w, "o"), label=f"windowSeconds {w}")
        for r, x, y in zip(points, xs, ys, strict=True):
            flag = "" if r["ours_sandbox"]["integrity_pct"] >= 99 else f" ({r['ours_sandbox']['integrity_pct']:.0f}%)"
            axis.annotate(
                f"{r['buffer_seconds']}s{flag}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8
            )
    if replayed:
        saved = [r["ours_sandbox"]["cost"]["connect_saved_per_1000_usd"] for r in replayed]
        axis.set_title(
            f"Own AWS bill vs latency (sandbox; the Connect messages it saves: ${min(saved):.2f}-${max(saved):.2f}"
            " per 1,000)",
            fontsize=9,
        )
    axis.set_xlabel("p95 added latency (s), sandbox replay of the sweep trace")
    axis.set_ylabel("buffer's own AWS bill, US$ per 1,000 WhatsApp messages")
    axis.legend(fontsize=8, loc="upper right")


def frontier_png(real: dict[str, Any], path: Path) -> Path:
    """bench/real_timing.png: split bursts against mean added latency on real chat timing — ours fixed and cues at
    bufferSeconds 5-30, the AWS sample's window at 5-30, unbuffered, the defaults; and the held-out rooms' curves."""
    fig, (whole, halves) = plt.subplots(1, 2, figsize=(15, 5.6), constrained_layout=True)
    rows = real["rows"]
    for prefix, style, label in (
        ("ours fixed ", "-o", "ours, endOfTurn fixed"),
        ("ours cues ", "-s", "ours, endOfTurn cues"),
        ("seed ", "--x", "AWS sample (clock-aligned window)"),
    ):
        points = [r for r in rows if r["model"].startswith(prefix)]
        whole.plot([r["latency_mean_s"] for r in points], [r["split_pct"] for r in points], style, label=label)
        for r in points:
            whole.annotate(
                r["model"].rsplit(" ", 1)[-1],
                (r["latency_mean_s"], r["split_pct"]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
            )
    unbuffered = next(r for r in rows if r["model"] == "unbuffered")
    whole.scatter(
        [unbuffered["latency_mean_s"]], [unbuffered["split_pct"]], marker="D", color="grey", label="unbuffered"
    )
    default = rows[0]
    whole.scatter(
        [default["latency_mean_s"]],
        [default["split_pct"]],
        s=160,
        facecolors="none",
        edgecolors="red",
        linewidths=1.8,
        zorder=5,
        label=real["defaults"],
    )
    whole.set_title(
        f"{real['data']['dialogs']} real Gitter dialogs, {real['data']['multi_message_bursts']:,} multi-message bursts"
    )
    for name, half in real["held_out"].items():
        for mode, style in (("fixed", "-o"), ("cues", "-s")):
            points = half[mode]
            halves.plot(
                [p["latency_mean_s"] for p in points],
                [p["split_pct"] for p in points],
                style,
                alpha=1.0 if name == "held_out" else 0.4,
                label=f"{name.replace('_', '-')} rooms, {mode}",
            )
        seed = half["seed"]
        halves.scatter(
            [seed["latency_mean_s"]],
            [seed["split_pct"]],
            marker="x",
            s=80,
            color="black",
            alpha=1.0 if name == "held_out" else 0.4,
        )
    halves.set_title("Fixed vs cues, bufferSeconds 4-16 (x: the AWS sample's 20 s window on each half)")
    for axis in (whole, halves):
        axis.set_xlabel("mean added latency after a burst's last message (s)")
        axis.set_ylabel("split: % of multi-message bursts reaching the agent in pieces")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8, loc="upper right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
