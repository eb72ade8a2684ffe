"""WhatsAppBuffer: the whole WhatsApp <-> Amazon Connect bridge as one component, for any Pulumi program.

It validates its typed inputs (`WhatsAppBufferArgs`, one per stack setting) by the settings declaration's rules, or
takes settings a program validated already (`WhatsAppBuffer.from_settings`), and composes, as its children, the SDK and
media layers, the optional alarm topic, one component per stage (Ingest, Aggregator, Inbound, Outbound, Outreach) and
the dashboard (components/dashboard.py). It never reads `pulumi.Config` and finds the Lambda code and the SDK pins
beside its own files (components.stack_config RUNTIME_DIR), so a program in any directory, or in another language
through the component provider (provider/), can build it.

No `from __future__ import annotations` here: Pulumi's schema analyzer reads the annotations below (the `args`
parameter and the `pulumi.Output` attributes) as types, and the docstring under each output as its description.
"""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

import pulumi
import pulumi_aws as aws

from components.aggregator import Aggregator, AggregatorArgs
from components.alarms import alarm_actions
from components.aliases import adopted_from, component_aliases, former_connect_bridges
from components.context import StackContext
from components.dashboard import stack_dashboard
from components.functions import FUNCTIONS
from components.inbound import Inbound, InboundArgs
from components.ingest import Ingest, IngestArgs
from components.lambda_function import FunctionDefaults
from components.outbound import TYPE as OUTBOUND_TYPE
from components.outbound import Outbound, OutboundArgs
from components.outreach import Outreach, OutreachArgs
from components.sdk_layer import MediaLayer, SdkLayer, SdkLayerArgs
from components.stack_config import StackSettings, settings_from_args
from components.whatsapp_buffer_args import WhatsAppBufferArgs
from whatsapp_buffer.settings import INBOUND
from whatsapp_buffer.storage_keys import PENDING_INDEX

TYPE = "whatsapp-buffer:index:WhatsAppBuffer"
CHILDREN = (
    "sdk-layer",
    "alarm-notifications",
    "buffered-ingest",
    "stream-aggregator",
    "connect-bridge",
    "media-layer",
    "contact-flow-outreach",
    "dashboard",
)
"""Each child component's name after the `<name>-` prefix (Inbound and Outbound share `connect-bridge`). All but the
dashboard also answer, with `moved_from_root`, to that name at the stack's root."""

NAME_PREFIX = re.compile(r"(?:[a-z][a-z0-9-]{0,15})?")
"""An empty prefix (a stack's only bridge) or 1-16 lowercase letters, digits, hyphens, starting with a letter."""
__all__ = ["CHILDREN", "TYPE", "WhatsAppBuffer", "WhatsAppBufferArgs"]

T = TypeVar("T", bound=pulumi.ComponentResource)
A = TypeVar("A")


class WhatsAppBuffer(pulumi.ComponentResource):
    """A WhatsApp <-> Amazon Connect chat bridge that buffers a customer's rapid consecutive WhatsApp messages into one
    Connect chat message: End User Messaging Social's SNS topic, the raw DynamoDB table and its stream, the debounce
    aggregator, the bursts FIFO queue, the inbound and outbound Lambda functions, the sessions table, Connect's
    streaming topic, the media bucket, alarms and the SDK layer. Set the `inTopicArn` output as the WhatsApp Business
    Account's event destination in End User Messaging Social."""

    in_topic_arn: pulumi.Output[str]
    """The SNS topic End User Messaging Social publishes WhatsApp events to: set it as the WhatsApp Business Account's
    event destination."""
    out_topic_arn: pulumi.Output[str]
    """The SNS topic Amazon Connect streams chat events (agent replies, chat ended) to."""
    raw_table_name: pulumi.Output[str]
    """DynamoDB table of buffered WhatsApp messages and each conversation's control item."""
    sessions_table_name: pulumi.Output[str]
    """DynamoDB table of each conversation's Connect chat."""
    idempotency_table_name: pulumi.Output[str]
    """DynamoDB table Powertools idempotency uses for deliveries and relays."""
    bursts_queue_url: pulumi.Output[str]
    """SQS FIFO queue of bursts (one aggregated message per burst, grouped by conversation)."""
    bursts_dead_letter_queue_url: pulumi.Output[str]
    """Dead-letter queue of bursts the inbound function failed to deliver to Connect five times."""
    aggregator_failures_queue_url: pulumi.Output[str]
    """Queue of stream batches the aggregator gave up on (metadata only; the messages stay in the raw table)."""
    ingest_dead_letter_queue_url: pulumi.Output[str]
    """Dead-letter queue of WhatsApp events the ingest function rejected or could not store."""
    outbound_dead_letter_queue_url: pulumi.Output[str]
    """Dead-letter queue of Connect streaming events the outbound function could not relay to WhatsApp."""
    media_bucket_name: pulumi.Output[str]
    """S3 bucket staging media in transit (objects expire after 7 days)."""
    ingest_function_name: pulumi.Output[str]
    """Lambda function storing each WhatsApp message."""
    aggregator_function_name: pulumi.Output[str]
    """Lambda function deciding at each window end which conversations flush."""
    inbound_function_name: pulumi.Output[str]
    """Lambda function delivering bursts to Amazon Connect chats."""
    outbound_function_name: pulumi.Output[str]
    """Lambda function relaying agent replies to WhatsApp."""
    outreach_function_name: pulumi.Output[str]
    """Lambda function a contact flow invokes to send an approved WhatsApp template (associated with the instance)."""
    sdk_layer_arn: pulumi.Output[str]
    """The Lambda layer every function lists: boto3, botocore and Powertools as pinned."""
    alarm_topic_arn: pulumi.Output[str | None]
    """The alarm topic created for `alarm_email`; empty when no alarm_email is set."""
    if TYPE_CHECKING:  # set below from the annotations; an annotation here would be read as one more output
        OUTPUTS: ClassVar[dict[str, str]]

    def __init__(
        self,
        name: str,
        args: WhatsAppBufferArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        moved_from_root: bool = False,
        name_prefix: str = "",
        settings: StackSettings | None = None,
    ) -> None:
        """`moved_from_root`: this stack was deployed by a program that declared the children at the stack's root
        (`buffered-ingest`, `stream-aggregator`, ... as in this repository's `__main__.py` before WhatsAppBuffer): each
        child then carries an alias to its old URN, and its resources inherit the alias, so `pulumi up` updates them in
        place instead of replacing tables and queues. Leave it off in any other program.

        `name_prefix`: for a second (third, ...) bridge in the same stack, e.g. `"sales"`; every physical name, the
        functions' metric `service` and the alarms then carry it (`<project>-<stack>-sales-…`), so the bridges share
        nothing. Lowercase letters, digits and hyphens, at most 16 characters. Leave it empty for a stack's only bridge
        (setting it later renames, and so replaces, its tables and queues).

        `settings`: `args` as a program validated them already (what `from_settings` passes): used as they are, not
        checked again."""
        if settings is not None and args != settings.as_args():
            raise ValueError(
                "settings must be args validated: a subclass that changes args must pass them without settings= "
                "(they are then validated), and a program should pass args alone or use WhatsAppBuffer.from_settings"
            )
        inputs = args if settings is None else settings
        self._compose(name, inputs, opts, moved_from_root=moved_from_root, name_prefix=name_prefix)

    @classmethod
    def from_settings(
        cls,
        name: str,
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
        *,
        moved_from_root: bool = False,
        name_prefix: str = "",
    ) -> Self:
        """The same bridge from settings a program already validated (`components.stack_config.parse_settings`, as
        this repository's `__main__.py` does): they are used as they are, not checked again. It goes through
        `__init__`, which gets them as `settings` and as typed `args` (`StackSettings.as_args`), so a subclass's
        `__init__` runs and reads its inputs as it would from `WhatsAppBuffer(name, args)`. A subclass built this way
        takes `__init__`'s keywords (`moved_from_root`, `name_prefix`, `settings`) and hands them on unchanged."""
        return cls(
            name, settings.as_args(), opts, moved_from_root=moved_from_root, name_prefix=name_prefix, settings=settings
        )

    def _compose(
        self,
        name: str,
        inputs: WhatsAppBufferArgs | StackSettings,
        opts: pulumi.ResourceOptions | None,
        *,
        moved_from_root: bool,
        name_prefix: str,
    ) -> None:
        if not NAME_PREFIX.fullmatch(name_prefix):
            raise ValueError(
                f"name_prefix {name_prefix!r} is not 1-16 lowercase letters, digits or hyphens (starting with a letter)"
            )
        super().__init__(TYPE, name, None, opts)
        settings = inputs if isinstance(inputs, StackSettings) else settings_from_args(dict(inputs or {}))
        invoke = pulumi.InvokeOptions(parent=self)
        context = StackContext(
            project=pulumi.get_project(),
            stack=pulumi.get_stack(),
            account_id=aws.get_caller_identity(opts=invoke).account_id,
            region=aws.get_region(opts=invoke).region,
            partition=aws.get_partition(opts=invoke).partition,
            name_prefix=name_prefix,
        )

        def child(suffix: str) -> tuple[str, pulumi.ResourceOptions]:
            aliases = component_aliases(suffix, moved_from_root=moved_from_root)
            return f"{name}-{suffix}", pulumi.ResourceOptions(parent=self, aliases=aliases or None)

        def build(component: Callable[[str, A, pulumi.ResourceOptions], T], suffix: str, component_args: A) -> T:
            child_name, child_opts = child(suffix)
            return component(child_name, component_args, child_opts)

        sdk = build(SdkLayer, "sdk-layer", SdkLayerArgs(context=context))
        media_layer = build(MediaLayer, "media-layer", SdkLayerArgs(context=context))
        functions = FunctionDefaults(
            settings=settings, sdk_layer_arn=sdk.layer.arn, media_layer_arn=media_layer.layer.arn
        )
        notifications_name, notifications_opts = child("alarm-notifications")
        alarm_topics, notifications = alarm_actions(
            context,
            email=settings.alarm_email,
            topic_arn=settings.alarm_topic_arn,
            name=notifications_name,
            opts=notifications_opts,
        )
        stage: dict[str, Any] = {"context": context, "functions": functions, "alarm_actions": alarm_topics}
        # Each stage keeps the name its resources were deployed under (their logical names begin with it); Inbound
        # and Outbound share the ConnectBridge's they were split from.
        ingest = build(Ingest, "buffered-ingest", IngestArgs(**stage))
        raw_table: dict[str, Any] = {"raw_table_name": ingest.raw_table.name, "raw_table_arn": ingest.raw_table.arn}
        aggregator = build(
            Aggregator,
            "stream-aggregator",
            AggregatorArgs(
                **stage,
                **raw_table,
                raw_table_stream_arn=ingest.raw_table.stream_arn,
                raw_table_pending_index_arn=pulumi.Output.concat(ingest.raw_table.arn, "/index/", PENDING_INDEX),
                consumer_timeout_seconds=FUNCTIONS[INBOUND].timeout_seconds,
            ),
        )
        inbound = build(
            Inbound,
            "connect-bridge",
            InboundArgs(
                **stage,
                bursts_queue_arn=aggregator.bursts_queue.arn,
                raw_table_arn=ingest.raw_table.arn,
                raw_table_stream_arn=ingest.raw_table.stream_arn,
            ),
        )
        bridge_name = f"{name}-connect-bridge"
        former_bridges = former_connect_bridges(self, bridge_name, "connect-bridge" if moved_from_root else None)
        outbound = Outbound(
            bridge_name,
            OutboundArgs(**stage, **raw_table, storage=inbound.storage),
            pulumi.ResourceOptions(
                parent=self, transformations=[adopted_from(OUTBOUND_TYPE, bridge_name, former_bridges)]
            ),
        )
        outreach = build(
            Outreach,
            "contact-flow-outreach",
            OutreachArgs(
                **stage,
                sessions_table_name=inbound.storage.sessions_table.name,
                sessions_table_arn=inbound.storage.sessions_table.arn,
            ),
        )
        stages = (ingest, aggregator, inbound, outbound, outreach)
        if notifications is not None:
            notifications.admit(alarm for stage in stages for alarm in stage.alarms.created)
        storage = inbound.storage
        self.dashboard = stack_dashboard(
            f"{name}-dashboard",
            self,
            context,
            ingest,
            aggregator,
            inbound,
            outbound,
            outreach.function,
            settings=settings,
        )
        self.ingest, self.aggregator, self.inbound, self.outbound, self.outreach = stages
        self.sdk, self.notifications = sdk, notifications
        self.in_topic_arn = ingest.in_topic.arn
        self.out_topic_arn = storage.out_topic.arn
        self.raw_table_name = ingest.raw_table.name
        self.sessions_table_name = storage.sessions_table.name
        self.idempotency_table_name = storage.idempotency_table.name
        self.bursts_queue_url = aggregator.bursts_queue.url
        self.bursts_dead_letter_queue_url = aggregator.bursts_dead_letter_queue.url
        self.aggregator_failures_queue_url = aggregator.failures_queue.url
        self.ingest_dead_letter_queue_url = ingest.dead_letter_queue.url
        self.outbound_dead_letter_queue_url = outbound.dead_letter_queue.url
        self.media_bucket_name = storage.media_bucket.bucket
        self.ingest_function_name = ingest.function.name
        self.aggregator_function_name = aggregator.function.name
        self.inbound_function_name = inbound.function.name
        self.outbound_function_name = outbound.function.name
        self.outreach_function_name = outreach.function.name
        self.sdk_layer_arn = sdk.layer.arn
        self.alarm_topic_arn = notifications.topic.arn if notifications else pulumi.Output.from_input(None)
        self.register_outputs({key: getattr(self, field) for key, field in self.OUTPUTS.items()})


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


WhatsAppBuffer.OUTPUTS = {
    _camel(field): field
    for field, annotation in WhatsAppBuffer.__annotations__.items()
    if getattr(annotation, "__origin__", None) is pulumi.Output
}
"""Each output's schema name (camelCase, as stack exports and other languages see it) -> its attribute (a class
attribute set after the class, so the analyzer does not take it for an output)."""
