"""`python -m sandbox demo` (`make demo`): replay the bundled example conversation and show what happened."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "morning_rush.jsonl"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "trace", nargs="?", default=str(EXAMPLE), help="a trace to replay (default: the bundled example)"
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a stack config key")
    parser.add_argument("--out", metavar="FILE", help="also write the transcript JSON here")
    from sandbox.replay import add_dashboard_argument

    add_dashboard_argument(parser)


def run(args: argparse.Namespace) -> int:
    from sandbox import replay

    args.text = True
    print(
        f"Replaying {Path(args.trace).name} through ingest -> aggregator -> Connect bridge (virtual time)...\n",
        file=sys.stderr,
    )
    return replay.run(args)
