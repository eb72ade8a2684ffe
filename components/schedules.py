"""A recurring EventBridge Scheduler schedule that invokes one function, with a role that may invoke only it."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import iam
from components.context import StackContext
from components.lambda_function import PythonFunction


def invoke_on_schedule(
    target: PythonFunction,
    context: StackContext,
    schedule: str,
    *,
    label: str,
    expression: str,
    payload: str,
    description: str,
    sid: str,
) -> aws.scheduler.Schedule:
    """`target` invoked asynchronously on `expression` with `payload`: the schedule `<project>-<stack>-<schedule>`,
    beside the function as `<component>-<schedule>-schedule` (and its `-role` and `-policy`). `label` says which
    function it is in the role's description. A missed run is made up by the next one: no retries, no stale
    deliveries."""
    parent, function = target.parent, target.function
    resource_name = f"{target.component_name}-{schedule}-schedule"
    schedule_name = context.physical_name(schedule)
    role = aws.iam.Role(
        f"{resource_name}-role",
        description=f"{schedule_name}: EventBridge Scheduler invokes {label}",
        # The confused-deputy guard AWS documents for Scheduler's execution role: only this account's schedules.
        assume_role_policy=iam.document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "scheduler.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
                }
            ]
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    policy = aws.iam.RolePolicy(
        f"{resource_name}-policy",
        role=role.id,
        policy=iam.document([iam.allow(["lambda:InvokeFunction"], [function.arn], sid=sid)]),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return aws.scheduler.Schedule(
        resource_name,
        name=schedule_name,
        description=description,
        schedule_expression=expression,
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        target=aws.scheduler.ScheduleTargetArgs(
            arn=function.arn,
            role_arn=role.arn,
            input=payload,
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                maximum_retry_attempts=0, maximum_event_age_in_seconds=60
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]),
    )
