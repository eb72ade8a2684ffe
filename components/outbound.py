"""Outbound: agent replies back to WhatsApp. Connect's streaming topic -> outbound function -> End User Messaging.

The topic, the sessions and idempotency tables and the media bucket are Inbound's (components/chat_storage.py),
handed in as `OutboundArgs.storage`; what the function may do is components/chat_policies.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.chat_policies import outbound_statements
from components.chat_storage import ChatStorage
from components.lambda_function import FunctionSpec
from components.queues import FOURTEEN_DAYS, encrypted_queue
from components.stage import Stage, StageArgs
from components.topics import subscribe_function
from whatsapp_buffer.settings import METRICS_NAMESPACE, OUTBOUND

TYPE = "whatsapp-buffer:index:Outbound"
WITHOUT_TYPING = {
    "ContentType": [{"anything-but": ["application/vnd.amazonaws.connect.event.typing"]}, {"exists": False}]
}
"""Every streamed chat message but a typing event. Connect's streaming payload ("Use the Amazon SNS payload after
enabling message streaming") lists `ContentType` among the message attributes, typing as
`application/vnd.amazonaws.connect.event.typing`; a message without the attribute (the docs do not say every one has
it) still passes: SNS ORs the conditions of one attribute."""


@dataclass(frozen=True, kw_only=True)
class OutboundArgs(StageArgs):
    storage: ChatStorage
    """Inbound's: the streaming topic the function is subscribed to, the sessions it finds chats in, the
    idempotency table, the media bucket."""
    raw_table_name: pulumi.Input[str]
    raw_table_arn: pulumi.Input[str]
    """The raw table, where the outbound function remembers what it relayed (for the quotes of replies to it)."""


class Outbound(Stage):
    """Connect streaming -> out-topic -> outbound function -> WhatsApp."""

    dead_letter_queue: aws.sqs.Queue

    def __init__(self, name: str, args: OutboundArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, args, opts)
        storage = args.storage
        self.dead_letter_queue = encrypted_queue(f"{name}-outbound-dlq", self, retention_seconds=FOURTEEN_DAYS)
        outbound = self.python_function(
            FunctionSpec(
                name=OUTBOUND,
                resources={**storage.function_resources, "raw_table_name": args.raw_table_name},
                # PyAV and Pillow convert agent files WhatsApp does not take as they are.
                media=True,
                statements=outbound_statements(
                    self.context,
                    self.settings,
                    storage,
                    raw_table_arn=args.raw_table_arn,
                    dead_letter_queue_arn=self.dead_letter_queue.arn,
                ),
            ),
        )
        self.function = outbound.function
        # No filter policy on MessageVisibility: the streaming docs do not say which visibility chat.ended and
        # participant.left carry, and dropping those would leave sessions open. The function filters instead. Without
        # agentPresence the agent's typing events (one per keystroke burst, the most frequent event there is) would
        # only wake the function to be ignored, so SNS drops them.
        subscribe_function(
            f"{name}-outbound",
            self,
            topic=storage.out_topic,
            function=self.function,
            dead_letter_queue=self.dead_letter_queue,
            filter_policy=None if self.settings.agent_presence else WITHOUT_TYPING,
        )
        self.alarms.dead_letters(
            self.dead_letter_queue,
            suffix="outbound-dlq",
            holds="Connect streaming events the outbound function could not relay to WhatsApp after retries",
        )
        self.alarms.refusals(namespace=METRICS_NAMESPACE, service=self.context.service_name)
        self.register_outputs({"deadLetterQueueUrl": self.dead_letter_queue.url, "functionName": self.function.name})
