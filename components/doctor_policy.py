"""The IAM policy `make doctor` needs for one stack: read-only, each action on the resources of that stack only.

Resource types per action are the Service Authorization Reference's (every action the doctor calls takes one
required type: Connect `instance` or `contact-flow`, End User Messaging `phone-number-id` or `waba`, SQS `queue`,
SNS `topic`; ListLinkedWhatsAppBusinessAccounts, called when the stack names no number, takes none, so `*`). The
WABAs are only known from the numbers' answers, so `waba/*` stays within the account and region.
Printed by `python -m components.doctor --policy`; docs/deploy.md shows its shape.
"""

from __future__ import annotations

from typing import Any

from components.doctor import DEAD_LETTER_OUTPUTS, Stack
from whatsapp_buffer.model import eum_number_suffix

INSTANCE_ACTIONS = (
    "connect:DescribeInstance",
    "connect:DescribeInstanceAttribute",
    "connect:ListInstanceStorageConfigs",
    "connect:ListLambdaFunctions",
)


def doctor_policy(stack: Stack) -> dict[str, Any]:
    partition, _, region, account = stack.output("inTopicArn").split(":")[1:5]

    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{resource}"

    instance = arn("connect", f"instance/{stack.instance_id}")
    statements: list[dict[str, Any]] = [
        _allow("ConnectInstance", list(INSTANCE_ACTIONS), [instance]),
        _allow(
            "ConnectFlows", ["connect:DescribeContactFlow"], [f"{instance}/contact-flow/{f}" for f in stack.flow_ids]
        ),
        _allow(
            "DeadLetters",
            ["sqs:GetQueueAttributes"],
            [arn("sqs", stack.output(key).rsplit("/", 1)[-1]) for key in DEAD_LETTER_OUTPUTS],
        ),
    ]
    if stack.phone_number_ids:
        numbers = [arn("social-messaging", f"phone-number-id/{eum_number_suffix(n)}") for n in stack.phone_number_ids]
        statements.append(
            _allow("WhatsAppNumbers", ["social-messaging:GetLinkedWhatsAppBusinessAccountPhoneNumber"], numbers)
        )
        statements.append(
            _allow(
                "WhatsAppAccounts",
                ["social-messaging:GetLinkedWhatsAppBusinessAccount"],
                [arn("social-messaging", "waba/*")],
            )
        )
    else:
        # No resource type for this action in the Service Authorization Reference: only "*" names it.
        statements.append(_allow("WhatsAppAccountList", ["social-messaging:ListLinkedWhatsAppBusinessAccounts"], ["*"]))
    if stack.alarm_topic_arn:
        statements.append(_allow("AlarmTopic", ["sns:ListSubscriptionsByTopic"], [stack.alarm_topic_arn]))
    return {"Version": "2012-10-17", "Statement": statements}


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
