"""bench/sweep.png: the integrity/latency trade-off of bufferSeconds x windowSeconds, ours against the seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

MARKERS = {1: "o", 2: "s", 5: "^"}


def sweep_png(rows: list[dict[str, Any]], path: Path, *, title_note: str, main_messages: int) -> Path:
    """Model lines for every grid point; a red circle where the sandbox replayed the same (main) trace."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
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
    left.plot(buffers, [seed[b]["integrity_pct"] for b in buffers], "k--", marker="x", label="seed (fixed window)")
    right.plot(
        [seed[b]["latency_p95_s"] for b in buffers],
        [seed[b]["integrity_pct"] for b in buffers],
        "k--",
        marker="x",
        label="seed (fixed window)",
    )
    sandbox = [r for r in rows if r.get("ours_sandbox", {}).get("trace_messages") == main_messages]
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
    left.set_xlabel("bufferSeconds (quiet period; the seed's window length)")
    left.set_ylabel("burst integrity: % of true bursts reaching the agent as one message")
    left.set_xticks(buffers)
    left.set_title("Integrity by bufferSeconds")
    right.set_xlabel("p95 added latency after the customer's last message (s)")
    right.set_ylabel("burst integrity (%)")
    right.set_title("Trade-off: integrity against latency (labels: bufferSeconds)")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.axhline(99, color="grey", linewidth=0.8, linestyle=":")
        axis.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"bufferSeconds x windowSeconds sweep — {title_note}", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
