"""The URNs a stack deployed from an earlier layout holds, as aliases, so `pulumi up` updates it in place.

A stage component answers to its former type (`FORMER_TYPES`) and, with `moved_from_root`, to its place at the stack's
root; its children inherit both (their logical names never changed). Outbound's children were ConnectBridge's, as
Inbound's were, and only Inbound can take the ConnectBridge's own URN: `adopted_from` gives each of Outbound's
children its URN under the ConnectBridge.
tests/infra/test_previous_layout.py checks them against the URNs such stacks hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

FORMER_TYPES = {
    "buffered-ingest": "whatsapp-buffer:index:BufferedIngest",
    "stream-aggregator": "whatsapp-buffer:index:StreamAggregator",
    "connect-bridge": "whatsapp-buffer:index:ConnectBridge",
    "contact-flow-outreach": "whatsapp-buffer:index:ContactFlowOutreach",
}
"""A stage component's name after the WhatsAppBuffer's `<name>-` -> the type stacks deployed it under."""
CONNECT_BRIDGE = FORMER_TYPES["connect-bridge"]


def component_aliases(suffix: str, *, moved_from_root: bool) -> list[pulumi.Alias]:
    """The WhatsAppBuffer's child `<name>-<suffix>`: its former type, and with `moved_from_root` its former place (a
    child of the stack named `suffix`)."""
    former = FORMER_TYPES.get(suffix)
    aliases = [pulumi.Alias(type_=former)] if former else []
    if moved_from_root:
        at_root = pulumi.Alias(name=suffix, parent=pulumi.ROOT_STACK_RESOURCE)
        aliases.append(
            pulumi.Alias(name=suffix, type_=former, parent=pulumi.ROOT_STACK_RESOURCE) if former else at_root
        )
    return aliases


@dataclass(frozen=True)
class FormerParent:
    """A component whose children now belong to another: its URN, and the name its children's names began with."""

    urn: pulumi.Input[str]
    name: str


def former_connect_bridges(parent: pulumi.Resource, name: str, root_name: str | None) -> list[FormerParent]:
    """The ConnectBridge `name` under `parent` (the WhatsAppBuffer), and with `root_name` the one at the stack's root."""
    under_parent = parent.urn.apply(lambda urn: f"{urn.rpartition('::')[0]}${CONNECT_BRIDGE}::{name}")
    former = [FormerParent(under_parent, name)]
    if root_name is not None:
        at_root = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{CONNECT_BRIDGE}::{root_name}"
        former.append(FormerParent(at_root, root_name))
    return former


def adopted_from(component_type: str, name: str, former: Sequence[FormerParent]) -> pulumi.ResourceTransformation:
    """For the component of `component_type` named `name`: each of its children (named `<name>-…`) also answers to
    its URN under each former parent (named `<former name>-…` there), as a child of that parent would by inheritance
    (the SDK's `inherited_child_alias`, pulumi/runtime/resource.py). A `transformations` hook: the SDK runs it in the
    process that declares the children (this program, or the component provider); the engine runs `transforms`, which
    Pulumi's mock monitor does not, so the tests could not see their aliases."""

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ == component_type:
            return None
        suffix = args.name.removeprefix(name) if args.name.startswith(name) else None
        aliases: list[pulumi.Input[str] | pulumi.Alias] = [
            pulumi.Alias(name=args.name if suffix is None else parent.name + suffix, parent=parent.urn)
            for parent in former
        ]
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(aliases=aliases))
        )

    return transformation
