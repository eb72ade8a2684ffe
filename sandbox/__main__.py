"""`python -m sandbox <command>`: the stack without AWS.

Each command is a module with `add_arguments(parser)` and `run(args) -> int`, registered in COMMANDS below and
imported only when chosen (so `plan` needs no moto server).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = {
    "plan": ("sandbox.plan", "print the resources the Pulumi program would create (mocked, no AWS)"),
    "replay": ("sandbox.replay", "replay a WhatsApp trace through the whole pipeline in virtual time"),
    "demo": ("sandbox.demo", "replay the bundled example conversation and print a readable transcript"),
    "chat": ("sandbox.live_chat", "be the customer (and the agent) in a live terminal chat with the local pipeline"),
    "doctor": ("sandbox.doctor", "make doctor's read-only checks against a sandbox stack set up as deployed"),
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Run the whatsapp-buffer stack without AWS.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = argv[0] if argv and argv[0] in COMMANDS else None
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_text)
        if name == chosen:
            modules[name] = importlib.import_module(module_name)
            modules[name].add_arguments(subparser)
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
