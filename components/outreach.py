"""Outreach: the function a contact flow invokes to send an approved WhatsApp template (outreach by template).

A stage of its own beside Inbound and Outbound: those carry a chat's two directions, triggered by the stack's own
queues and topics; this function is called by Connect's flows and needs what only it needs (Connect's association and
invoke permission, template lookups). It shares Inbound's sessions table, where it records each outreach (items
`outreach#…`, the only ones its role may touch). Always deployed: unused, it costs nothing, and only the configured
instance may invoke it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam
from components.chat_policies import phone_number_arns
from components.context import StackContext
from components.lambda_function import FunctionSpec
from components.stack_settings import StackSettings
from components.stage import Stage, StageArgs
from whatsapp_buffer.settings import OUTREACH
from whatsapp_buffer.storage_keys import OUTREACH_PREFIX

TYPE = "whatsapp-buffer:index:Outreach"


@dataclass(frozen=True, kw_only=True)
class OutreachArgs(StageArgs):
    sessions_table_name: pulumi.Input[str]
    sessions_table_arn: pulumi.Input[str]


def outreach_statements(
    context: StackContext, settings: StackSettings, sessions_table_arn: pulumi.Input[str]
) -> list[iam.Statement]:
    """Service Authorization Reference (list_awsendusermessagingsocial): GetLinkedWhatsAppBusinessAccountPhoneNumber and
    SendWhatsAppMessage take the `phone-number-id` resource type, ListWhatsAppMessageTemplates and
    GetWhatsAppMessageTemplate the `waba` type (`arn:${Partition}:social-messaging:${Region}:${Account}:waba/${WabaId}`).
    The stack names its numbers (whatsappPhoneNumberIds), not their accounts: the templates of this account's WABAs."""
    return [
        iam.allow(
            ["social-messaging:GetLinkedWhatsAppBusinessAccountPhoneNumber", "social-messaging:SendWhatsAppMessage"],
            phone_number_arns(context, settings.whatsapp_phone_number_ids),
            sid="SendTemplatesFromTheConfiguredNumbers",
        ),
        iam.allow(
            ["social-messaging:ListWhatsAppMessageTemplates", "social-messaging:GetWhatsAppMessageTemplate"],
            [context.arn("social-messaging", "waba/*")],
            sid="ReadTheAccountsTemplates",
        ),
        {
            "Sid": "RecordOutreach",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            "Resource": [sessions_table_arn],
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{OUTREACH_PREFIX}*"]}},
        },
    ]


class Outreach(Stage):
    """A contact flow's *Invoke AWS Lambda function* block -> the outreach function -> an approved WhatsApp template."""

    association: aws.connect.LambdaFunctionAssociation
    permission: aws.lambda_.Permission

    def __init__(self, name: str, args: OutreachArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, args, opts)
        instance_arn = self.connect_instance_arn
        outreach = self.python_function(
            FunctionSpec(
                name=OUTREACH,
                resources={"sessions_table_name": args.sessions_table_name},
                statements=outreach_statements(self.context, self.settings, args.sessions_table_arn),
            ),
        )
        self.function = outreach.function
        opts_child = pulumi.ResourceOptions(parent=self)
        # Amazon Connect admin guide, "Grant Amazon Connect access to your AWS Lambda functions": the function is
        # added to the instance (AssociateLambdaFunction) and Connect is allowed to invoke it, scoped to the instance
        # (`--source-arn`) and its account (`--source-account`), as the console does.
        self.permission = aws.lambda_.Permission(
            f"{name}-connect-permission",
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="connect.amazonaws.com",
            source_arn=instance_arn,
            source_account=self.context.account_id,
            opts=opts_child,
        )
        self.association = aws.connect.LambdaFunctionAssociation(
            f"{name}-association",
            instance_id=self.settings.connect_instance_id,
            function_arn=self.function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission]),
        )
        self.register_outputs({"outreachFunctionName": self.function.name, "outreachFunctionArn": self.function.arn})
