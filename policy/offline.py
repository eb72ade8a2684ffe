"""The pack's policies on the program run under Pulumi mocks, without the Pulumi CLI (`make policy`).

Each policy's `validate` gets the argument objects pulumi-policy's runtime builds (ResourceValidationArgs from a
resource's inputs, StackValidationArgs from every resource's outputs), properties wrapped in the runtime's
unknown-checking proxy. `python policy/offline.py [KEY=VALUE ...]` sets stack config; exit status 1 on a violation.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import warnings
from pathlib import Path

from pulumi_policy import (
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import unknown_checking_proxy

warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)  # parliament's import
PACK_DIR = Path(__file__).resolve().parent
for directory in (PACK_DIR, PACK_DIR.parent):
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))


def _load_pack():
    spec = importlib.util.spec_from_file_location("whatsapp_buffer_policy_pack", PACK_DIR / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the pack serves the CLI only when run as __main__
    return module


POLICIES = {policy.name: policy for policy in _load_pack().POLICIES}


def _options(resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], False, [], None, [], resource.parent or "")


def stack_args(graph) -> StackValidationArgs:
    by_urn: dict[str, PolicyResource] = {}
    for r in graph.resources:
        parent = by_urn.get(r.parent) if r.parent else None
        props = unknown_checking_proxy(copy.deepcopy(r.outputs))
        by_urn[r.urn] = PolicyResource(r.type, props, r.urn, r.name, _options(r), None, parent, [], {})
    return StackValidationArgs(list(by_urn.values()))


def violations(policy_name: str, graph) -> list[str]:
    """What the policy reports on the graph, one message per violation; NotApplicable propagates."""
    policy = POLICIES[policy_name]
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    if isinstance(policy, ResourceValidationPolicy):
        for r in graph.resources:
            props = unknown_checking_proxy(copy.deepcopy(r.inputs))
            policy.validate(ResourceValidationArgs(r.type, props, r.urn, r.name, _options(r), None), report)
    else:
        policy.validate(stack_args(graph), report)
    return found


def applies(policy_name: str, graph) -> bool:
    try:
        violations(policy_name, graph)
    except _NotApplicableError:
        return False
    return True


def main(argv: list[str]) -> int:
    from components.stack_config import ConfigError
    from sandbox.program import run_program

    try:
        graph = run_program(dict(arg.split("=", 1) for arg in argv))
    except ConfigError as error:
        print(f"the program stops before the policies: {error}")
        return 2
    failed = 0
    for name in POLICIES:
        try:
            found = violations(name, graph)
        except _NotApplicableError as why:
            print(f"n/a  {name}: {why.reason}")
            continue
        failed += len(found)
        print(f"{'FAIL' if found else 'ok  '} {name}")
        for message in found:
            print(f"     {message}")
    print(f"{len(POLICIES)} mandatory policies, {failed} violation(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
