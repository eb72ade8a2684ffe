"""The one way this program builds a Lambda: Python packaged from runtime/, with its own role and log group, and the
stack's SDK layer (components/sdk_layer.py) for boto3, botocore and Powertools."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.context import StackContext
from components.functions import FUNCTIONS
from components.stack_config import RUNTIME_DIR, function_environment
from components.stack_settings import StackSettings
from whatsapp_buffer.settings import METRICS_NAMESPACE

RUNTIME = "python3.13"
ARCHITECTURE = "arm64"

PACKAGE = "whatsapp_buffer"
"""The one package the function code holds; runtime/requirements.txt beside it goes to the SDK layer instead."""
_SKIPPED_DIRS = {"__pycache__"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


@functools.cache
def runtime_archive() -> pulumi.AssetArchive:
    """runtime/whatsapp_buffer/ and nothing else, at the root of the zip (bytecode caches left out)."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {}
    for path in sorted((RUNTIME_DIR / PACKAGE).rglob("*")):
        relative = path.relative_to(RUNTIME_DIR)
        if path.is_dir() or _SKIPPED_DIRS.intersection(relative.parts) or path.suffix in _SKIPPED_SUFFIXES:
            continue
        # Relative to the working directory (the project root under `pulumi up`) so state holds no machine paths.
        assets[relative.as_posix()] = pulumi.FileAsset(os.path.relpath(path))
    return pulumi.AssetArchive(assets)


@dataclass(frozen=True)
class FunctionDefaults:
    """What every function of the stack shares."""

    settings: StackSettings
    """Memory, log retention and level, and every setting a function reads in its environment."""
    sdk_layer_arn: pulumi.Input[str]
    """The stack's SdkLayer (runtime/requirements.txt, pinned): every function lists it and no other layer, so the
    functions import the boto3, botocore and Powertools the tests ran, not the runtime's bundled SDK."""
    media_layer_arn: pulumi.Input[str] | None = None
    """The stack's MediaLayer (runtime/media-requirements.txt: PyAV, Pillow), listed by the functions whose spec says
    `media` (the inbound function) and no other."""


@dataclass(frozen=True)
class FunctionSpec:
    """What a stage says of one of its functions; its description and timeout are the stack's (`functions.FUNCTIONS`)."""

    name: str
    """Short name: the entry module (`whatsapp_buffer.entrypoints.<name>`) and the end of the physical name."""
    resources: Mapping[str, pulumi.Input[str]]
    """The resource outputs the function's environment carries, by their field in runtime/whatsapp_buffer/settings.py
    (`raw_table_name`); the settings it reads come from FunctionDefaults.settings."""
    statements: Sequence[iam.Statement]
    """Everything the function calls besides writing its own logs."""
    media: bool = False
    """Converts customers' media: lists the media layer too."""


@dataclass
class PythonFunction:
    function: aws.lambda_.Function
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    log_group: aws.cloudwatch.LogGroup
    parent: pulumi.Resource
    component_name: str
    """The name of the component that holds the function: its resources are named `<component_name>-…`."""

    def reads(
        self, source: str, source_arn: pulumi.Input[str], *, only: Sequence[Mapping[str, Any]] = (), **settings: Any
    ) -> aws.lambda_.EventSourceMapping:
        """The function polling `source_arn` (a queue or a stream), given only the records matching one of the `only`
        event filter patterns (none: every record); `settings` are the mapping's own (batch size, retries, ...).
        Named `<component_name>-<source>-mapping`, created after the function's policy: Lambda validates the role
        against the source when the mapping is made."""
        if only:
            settings["filter_criteria"] = aws.lambda_.EventSourceMappingFilterCriteriaArgs(
                filters=[aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(pattern=json.dumps(p)) for p in only]
            )
        return aws.lambda_.EventSourceMapping(
            f"{self.component_name}-{source}-mapping",
            event_source_arn=source_arn,
            function_name=self.function.arn,
            opts=pulumi.ResourceOptions(parent=self.parent, depends_on=[self.role_policy]),
            **settings,
        )


def python_function(
    name: str, parent: pulumi.Resource, context: StackContext, defaults: FunctionDefaults, spec: FunctionSpec
) -> PythonFunction:
    """Role (assumable by Lambda only), log group, then the function, all children of `parent` named
    `<name>-<spec.name>-…`."""
    component_name, name = name, f"{name}-{spec.name}"
    opts = pulumi.ResourceOptions(parent=parent)
    function_name = context.physical_name(spec.name)
    description, timeout_seconds = FUNCTIONS[spec.name].description, FUNCTIONS[spec.name].timeout_seconds
    # Created before the function with its retention, so Lambda never creates an unbounded one and the role needs
    # no logs:CreateLogGroup.
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=f"/aws/lambda/{function_name}",
        retention_in_days=defaults.settings.log_retention_days,
        opts=opts,
    )
    role = aws.iam.Role(
        f"{name}-role",
        description=f"{function_name}: {description}",
        assume_role_policy=iam.document(
            [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        ),
        opts=opts,
    )
    write_logs = iam.allow(
        ["logs:CreateLogStream", "logs:PutLogEvents"], [pulumi.Output.concat(log_group.arn, ":*")], sid="WriteOwnLogs"
    )
    role_policy = aws.iam.RolePolicy(
        f"{name}-policy",
        role=role.id,
        policy=iam.document([write_logs, *spec.statements]),
        opts=opts,
    )
    function = aws.lambda_.Function(
        f"{name}-function",
        name=function_name,
        description=description,
        runtime=RUNTIME,
        architectures=[ARCHITECTURE],
        handler=f"whatsapp_buffer.entrypoints.{spec.name}.handler",
        code=runtime_archive(),
        role=role.arn,
        layers=[
            defaults.sdk_layer_arn,
            *([defaults.media_layer_arn] if spec.media and defaults.media_layer_arn else []),
        ],
        memory_size=defaults.settings.lambda_memory_mb,
        timeout=timeout_seconds,
        environment=aws.lambda_.FunctionEnvironmentArgs(
            variables=function_environment(
                spec.name,
                defaults.settings,
                {
                    **spec.resources,
                    "service_name": context.service_name,
                    "metrics_namespace": METRICS_NAMESPACE,
                },
            )
        ),
        # The policy must exist before event source mappings validate the role against the function.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group, role_policy]),
    )
    return PythonFunction(function, role, role_policy, log_group, parent, component_name)
