"""A stack deployed from the previous layout of the components (BufferedIngest, StreamAggregator, ConnectBridge,
ContactFlowOutreach) updates in place: every URN it holds is the URN or an alias of exactly one resource the program
declares now, so `pulumi up` moves each resource instead of replacing it.

previous_layout_urns.json lists, per config, the URNs such a stack holds, in both shapes an older stack may have:
`urns`, the components under WhatsAppBuffer, and `urns_at_the_stack_root`, the components at the stack's root as the
program declared them before WhatsAppBuffer existed (tests/infra/legacy_program.py of that layout). Generated from
commit b2bf8b4 by running its `__main__.py` and its legacy_program.py under `sandbox.program.run_program` with each
config the file lists with them; it is history, never regenerated from the current code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from infra_helpers import aliases_of

from components.outbound import TYPE as OUTBOUND
from sandbox.program import ResourceGraph, run_program

PREVIOUS = json.loads(Path(__file__).with_name("previous_layout_urns.json").read_text())
NEW_ON_PURPOSE = {OUTBOUND}
"""Resources without a predecessor: the Outbound component, split from the ConnectBridge Inbound continues (its
children were the ConnectBridge's and alias their URNs there)."""
FORMER = {
    "whatsapp-buffer:index:Ingest": "whatsapp-buffer:index:BufferedIngest",
    "whatsapp-buffer:index:Aggregator": "whatsapp-buffer:index:StreamAggregator",
    "whatsapp-buffer:index:Inbound": "whatsapp-buffer:index:ConnectBridge",
    "whatsapp-buffer:index:Outbound": "whatsapp-buffer:index:ConnectBridge",
    "whatsapp-buffer:index:Outreach": "whatsapp-buffer:index:ContactFlowOutreach",
}
"""Each stage component's type -> the one the previous layout gave it."""


@pytest.fixture(scope="module", params=sorted(PREVIOUS))
def previous_and_now(request) -> tuple[dict, ResourceGraph]:
    previous = PREVIOUS[request.param]
    return previous, run_program(previous["config"])


def claims(graph: ResourceGraph) -> dict[str, list[str]]:
    """Each URN the engine matches a resource of a previous deployment by -> the new resources that answer to it."""
    claimed: dict[str, list[str]] = {}
    for resource in graph.resources:
        for urn in {resource.urn} | aliases_of(graph, resource):
            claimed.setdefault(urn, []).append(resource.urn)
    return claimed


def _type_and_name(urn: str) -> tuple[str, str]:
    return urn.split("::")[2].rsplit("$", 1)[-1], urn.rsplit("::", 1)[1]


@pytest.mark.parametrize(("shape", "prefix"), [("urns", ""), ("urns_at_the_stack_root", "whatsapp-buffer-")])
def test_every_urn_of_a_previous_stack_is_claimed_by_exactly_one_resource_of_its_type_and_name(
    previous_and_now, shape, prefix
):
    previous, now = previous_and_now
    claimed = claims(now)

    unclaimed = [urn for urn in previous[shape] if urn not in claimed]
    assert not unclaimed, f"{len(unclaimed)} resources of a previous stack would be replaced, e.g. {unclaimed[:3]}"
    for urn in previous[shape]:
        (new_urn,) = claimed[urn]
        (old_type, old_name), (new_type, new_name) = _type_and_name(urn), _type_and_name(new_urn)
        # The same kind of resource under the same logical name: a component may have been renamed, nothing else.
        assert (FORMER.get(new_type, new_type), new_name) == (old_type, prefix + old_name), urn


def test_every_resource_continues_one_of_a_previous_stack_but_those_new_on_purpose(previous_and_now):
    previous, now = previous_and_now
    before = set(previous["urns"])

    without_predecessor = [
        r.urn for r in now.resources if not ({r.urn} | aliases_of(now, r)) & before and r.type not in NEW_ON_PURPOSE
    ]
    assert without_predecessor == []
    assert any(r.type in NEW_ON_PURPOSE for r in now.resources)


def test_the_alias_urns_the_sdk_computes_are_among_those_resolved_from_the_specs_the_engine_is_sent():
    """Where the program names aliases itself (the components, the Outbound's children), the SDK's own URNs (a
    monitor without alias specs) are the ones `aliases_of` resolves from the specs the engine is sent."""
    specs, urns = run_program(), run_program(alias_specs=False)
    resolved = {r.urn: aliases_of(specs, r) for r in specs.resources}
    computed = {r.urn: set(r.aliases) for r in urns.resources if r.aliases}

    assert any(
        _type_and_name(urn)[0] == "aws:lambda/function:Function" for urn in computed
    )  # the Outbound's children are among them
    for urn, aliases in computed.items():
        assert aliases <= resolved[urn], urn
