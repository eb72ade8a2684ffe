"""The base of each component of the flow (Ingest, Aggregator, Inbound, Outbound, Outreach): what it is given, and
its functions (components/lambda_function.py) and alarms (components/alarms.py), children named after it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import Alarms
from components.context import StackContext
from components.lambda_function import FunctionDefaults, FunctionSpec, PythonFunction, python_function
from components.stack_settings import StackSettings


@dataclass(frozen=True, kw_only=True)
class StageArgs:
    """What each component of the flow is given, besides the resources of the stages before it."""

    context: StackContext
    functions: FunctionDefaults
    alarm_actions: Sequence[pulumi.Input[str]] = ()
    """SNS topic ARNs the component's alarms notify; empty: the alarms exist but notify nobody."""


class Stage(pulumi.ComponentResource):
    """A component of the flow: its stack context and settings, its functions and its alarms."""

    context: StackContext
    settings: StackSettings
    alarms: Alarms
    function: aws.lambda_.Function
    """The function the stage is named after (the glossary in docs/architecture.md), made by `python_function`."""

    def __init__(self, type_: str, name: str, args: StageArgs, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(type_, name, None, opts)
        self.context = args.context
        self.settings = args.functions.settings
        self.alarms = Alarms(name, self, args.context, args.alarm_actions)
        self._stage_name = name
        self._function_defaults = args.functions

    @property
    def connect_instance_arn(self) -> str:
        """The Amazon Connect instance the stack's chats run on."""
        return self.context.arn("connect", f"instance/{self.settings.connect_instance_id}")

    def python_function(self, spec: FunctionSpec) -> PythonFunction:
        """One of the stage's functions, its resources named `<stage name>-<spec.name>-…` (`python_function`), and
        its alarms on failed and throttled invocations: every function of the flow has them."""
        function = python_function(self._stage_name, self, self.context, self._function_defaults, spec)
        self.alarms.function(function.function, short_name=spec.name)
        return function
