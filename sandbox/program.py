"""Run the Pulumi program (`__main__.py`) in-process under Pulumi mocks and return what it declared.

Tests, `make plan` and the local sandbox all read the stack from here, so none of them keeps a second copy of
names, environment variables, batch sizes or filters. The mocks answer like AWS would (account 123456789012, the
configured region) and auto-name resources deterministically, so two runs of one config give the same graph.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import functools
import hashlib
import json
import runpy
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from components.stack_config import ConfigError
from sandbox.stack_files import PROJECT_DIR, PROJECT_FILE, SAMPLE_STACK_FILE, stack_config

PROGRAM = PROJECT_DIR / "__main__.py"
ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
STREAM_LABEL = "2026-01-01T00:00:00.000"


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    """e.g. "aws:lambda/function:Function", "whatsapp-buffer:index:Ingest"."""
    name: str
    """The logical name."""
    parent: str | None
    """The parent's URN (None for children of the stack)."""
    inputs: dict[str, Any]
    """Resolved inputs as the mock saw them (camelCase keys, as Pulumi passes them)."""
    outputs: dict[str, Any]
    """Inputs plus mock-generated outputs (arn, id, name, url, streamArn, ...)."""
    aliases: tuple[str | dict[str, Any], ...] = ()
    """What the program sent as the resource's aliases: URNs (str), or alias specs (dict: name, type, parentUrn,
    noParent; empty fields default to the resource's own) when the monitor takes specs, as the engine does."""


@dataclass
class ResourceGraph:
    resources: list[Resource]
    stack_outputs: dict[str, Any] = field(default_factory=dict)

    def by_type(self, type_token: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.type == type_token]

    def get(self, logical_name: str) -> Resource:
        """The resource with this logical name; KeyError if the program declares none."""
        for resource in self.resources:
            if resource.name == logical_name:
                return resource
        raise KeyError(logical_name)

    def children_of(self, urn: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.parent == urn]


def run_program(
    config: Mapping[str, str] | None = None,
    *,
    stack: str = "dev",
    project: str = "whatsapp-buffer",
    program: Path = PROGRAM,
    stack_file: Path = SAMPLE_STACK_FILE,
    project_file: Path = PROJECT_FILE,
    alias_specs: bool = True,
) -> ResourceGraph:
    """Run `__main__.py` under mocks with Pulumi.dev.yaml's config plus `config`; ConfigError propagates as is.

    `program`, `stack_file` and `project_file` run another project's program (tests of a consumer of the
    component). `alias_specs=False` is a monitor without alias specs: the SDK then computes every alias URN itself,
    children's inherited ones included, and sends them (pulumi/runtime/resource.py, `prepare_aliases`)."""
    values = stack_config(config, project, stack, stack_file, project_file)
    # Pulumi keeps its runtime state (root stack, config, settings) in context variables: a fresh context per run
    # lets one process run the program any number of times.
    return contextvars.Context().run(_run_isolated, values, stack, project, program, alias_specs)


def deployed_graph(overrides: Mapping[str, Any] | None = None, stack: str = "sandbox") -> ResourceGraph:
    """What this repository's program declares under `overrides` (as `run_program`), for replays and tests that only
    read it: the program runs once per process for each stack and set of overrides (it reads nothing else: the stack
    and project files and the sources do not change while a process runs), and each caller gets its own copy. Run
    `run_program` for a program patched in between."""
    return copy.deepcopy(_deployed_graph(json.dumps(sorted((overrides or {}).items())), stack))


@functools.lru_cache(maxsize=16)
def _deployed_graph(overrides: str, stack: str) -> ResourceGraph:
    return run_program(dict(json.loads(overrides)), stack=stack)


def _run_isolated(
    values: dict[str, str], stack: str, project: str, program: Path = PROGRAM, alias_specs: bool = True
) -> ResourceGraph:
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    region = values.get("aws:region", DEFAULT_REGION)
    monitor = _RecordingMonitor(_AwsMocks(region), alias_specs=alias_specs)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor)
        pulumi.runtime.set_all_config(values)
        try:
            runpy.run_path(str(program), run_name="__main__")
        except BaseException as error:
            # Let registrations already started finish, or they would dangle into the next run.
            with contextlib.suppress(Exception):
                loop.run_until_complete(wait_for_rpcs())
            if isinstance(error, pulumi.RunError) and isinstance(error.__cause__, ConfigError):
                raise error.__cause__ from None
            raise
        loop.run_until_complete(wait_for_rpcs())
        root = get_root_resource()
        outputs = getattr(root, "outputs", {})
        stack_outputs = loop.run_until_complete(pulumi.Output.from_input(outputs).future()) or {}
        loop.run_until_complete(wait_for_rpcs())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return ResourceGraph(resources=monitor.recorded(), stack_outputs=dict(stack_outputs))


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also recording each registration with its URN and parent, in order."""

    mocks: _AwsMocks

    def __init__(self, mocks: _AwsMocks, *, alias_specs: bool = True) -> None:
        super().__init__(mocks)
        self._lock = threading.Lock()
        self._recorded: list[Resource] = []
        self._alias_specs = alias_specs

    def GetDeploymentInfo(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        info = super().GetDeploymentInfo(request)  # type: ignore[no-untyped-call]  # pulumi's MockMonitor is unannotated
        if not self._alias_specs:
            features = [f for f in info.supportedFeatures if f != resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS]
            del info.supportedFeatures[:]
            info.supportedFeatures.extend(features)
        return info

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """A URN as the engine forms it: the parent's whole qualified type (`A$B$type`), none for children of the
        stack (the SDK's own `create_urn`, pulumi/runtime/resource.py, assumes the same when it computes aliases).
        The SDK's MockMonitor keeps only the parent's last type and prefixes the stack's."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def recorded(self) -> list[Resource]:
        with self._lock:
            return list(self._recorded)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()  # type: ignore[no-untyped-call]  # pulumi's sync_await helper is unannotated
        inputs = rpc.deserialize_properties(request.object)
        resource_id, state = self.mocks.outputs_for(urn, request.type, request.name, inputs, request.custom)
        serialized = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        with self._lock:
            self._recorded.append(
                Resource(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    inputs=_plain(inputs),
                    outputs=_plain(state),
                    aliases=tuple(request.aliasURNs) + tuple(_alias_spec(alias) for alias in request.aliases),
                )
            )
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=serialized)


def _alias_spec(alias: Any) -> str | dict[str, Any]:
    if alias.WhichOneof("alias") == "urn":
        return alias.urn
    spec = alias.spec
    return {"name": spec.name, "type": spec.type, "parentUrn": spec.parentUrn, "noParent": spec.noParent}


def _plain(value: Any) -> Any:
    """Deserialized inputs as plain data: assets and archives become a short description."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": sorted(value.assets)}
    if isinstance(value, pulumi.FileAsset):
        return {"file": value.path}
    return value


def _digest(urn: str, length: int = 7) -> str:
    return hashlib.sha1(urn.encode(), usedforsecurity=False).hexdigest()[:length]


class _AwsMocks(pulumi.runtime.Mocks):
    """AWS-shaped outputs for the resource types the program declares, and answers to its invokes."""

    def __init__(self, region: str) -> None:
        self.region = region

    def _arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{ACCOUNT_ID if account else ''}:{resource}"

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        answers = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
                "userId": "AIDAMOCK",
                "id": ACCOUNT_ID,
            },
            "aws:index/getRegion:getRegion": {
                "region": self.region,
                "name": self.region,
                "id": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "description": self.region,
            },
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            },
        }
        if args.token not in answers:
            raise NotImplementedError(f"sandbox.program mocks do not answer {args.token}; add it to _AwsMocks.call")
        return answers[args.token], []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        return self.outputs_for(f"urn:unknown::{args.typ}::{args.name}", args.typ, args.name, args.inputs, args.custom)

    def outputs_for(
        self, urn: str, type_: str, name: str, inputs: dict[str, Any], custom: bool | None
    ) -> tuple[str, dict[str, Any]]:
        if not custom:
            return "", {}
        state = dict(inputs)
        # Auto-names and ids come from what survives an alias move (type and logical name), not from the URN: the
        # engine keeps a resource's auto-name when an alias carries it to a new URN.
        stack_and_project = urn.split("::")[:2]  # urn:pulumi:<stack>::<project>::<type chain>::<name>
        identity = "::".join([*stack_and_project, type_, name])
        physical = inputs.get("name") or f"{name}-{_digest(identity)}"
        resource_id = f"{name}-{_digest(identity)}"
        if type_ == "aws:sqs/queue:Queue":
            state.update(name=physical, arn=self._arn("sqs", physical), url=self._queue_url(physical))
            resource_id = state["url"]
        elif type_ == "aws:dynamodb/table:Table":
            state.update(name=physical, arn=self._arn("dynamodb", f"table/{physical}"))
            if inputs.get("streamEnabled"):
                state.update(streamArn=f"{state['arn']}/stream/{STREAM_LABEL}", streamLabel=STREAM_LABEL)
            resource_id = physical
        elif type_ == "aws:sns/topic:Topic":
            state.update(name=physical, arn=self._arn("sns", physical))
            resource_id = state["arn"]
        elif type_ == "aws:kms/key:Key":
            key_id = self._uuid(identity)
            state.update(keyId=key_id, arn=self._arn("kms", f"key/{key_id}"))
            resource_id = key_id
        elif type_ == "aws:lambda/function:Function":
            arn = self._arn("lambda", f"function:{physical}")
            state.update(name=physical, arn=arn, qualifiedArn=f"{arn}:$LATEST", version="$LATEST")
            state["invokeArn"] = f"arn:aws:apigateway:{self.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
            resource_id = physical
        elif type_ == "aws:lambda/layerVersion:LayerVersion":
            layer_arn = self._arn("lambda", f"layer:{inputs['layerName']}")
            state.update(layerArn=layer_arn, arn=f"{layer_arn}:1", version="1")
            resource_id = state["arn"]
        elif type_ == "aws:iam/role:Role":
            state.update(name=physical, arn=self._arn("iam", f"role/{physical}", region=False), uniqueId="AROAMOCK")
            resource_id = physical
        elif type_ == "aws:iam/rolePolicy:RolePolicy":
            state.update(name=physical)
            resource_id = f"{inputs.get('role', '')}:{physical}"
        elif type_ == "aws:cloudwatch/logGroup:LogGroup":
            state.update(name=physical, arn=self._arn("logs", f"log-group:{physical}"))
            resource_id = physical
        elif type_ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or physical.lower()
            state.update(bucket=bucket, arn=self._arn("s3", bucket, region=False, account=False))
            state.update(bucketDomainName=f"{bucket}.s3.amazonaws.com", region=self.region)
            resource_id = bucket
        elif type_ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            # An alarm's ARN, the aws:SourceArn CloudWatch publishes to SNS under: arn:aws:cloudwatch:<region>:
            # <account>:alarm:<name> (SNS Developer Guide, "Allow any CloudWatch alarm to publish to a topic in a
            # different account", https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
            state.update(name=physical, arn=self._arn("cloudwatch", f"alarm:{physical}"))
        elif type_ == "aws:cloudwatch/eventRule:EventRule":
            # Pulumi's EventRule: `name` (physical), `arn` arn:aws:events:<region>:<account>:rule/<name> (default bus).
            state.update(name=physical, arn=self._arn("events", f"rule/{physical}"))
            resource_id = physical
        elif type_ == "aws:lambda/eventSourceMapping:EventSourceMapping":
            mapping_id = self._uuid(identity)
            state.update(uuid=mapping_id, arn=self._arn("lambda", f"event-source-mapping:{mapping_id}"))
            resource_id = mapping_id
        elif type_ == "aws:sns/topicSubscription:TopicSubscription":
            state.update(arn=f"{inputs.get('topic', '')}:{self._uuid(identity)}")
            resource_id = state["arn"]
        return resource_id, state

    def _queue_url(self, name: str) -> str:
        return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{name}"

    @staticmethod
    def _uuid(urn: str) -> str:
        digest = hashlib.sha1(urn.encode(), usedforsecurity=False).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
