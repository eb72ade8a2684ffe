"""The whatsapp-buffer stack as it was before WhatsAppBuffer, built from today's stage components: the components at
the stack's root, named as they were then. (The URNs a stack deployed so holds, with the component types of then, are
in previous_layout_urns.json.)"""

import pulumi
import pulumi_aws as aws

from components.aggregator import Aggregator, AggregatorArgs
from components.alarms import alarm_actions
from components.context import StackContext
from components.functions import FUNCTIONS
from components.inbound import Inbound, InboundArgs
from components.ingest import Ingest, IngestArgs
from components.lambda_function import FunctionDefaults
from components.outbound import Outbound, OutboundArgs
from components.sdk_layer import SdkLayer, SdkLayerArgs
from components.stack_config import CONFIG_KEYS, ConfigError, parse_settings
from whatsapp_buffer.settings import INBOUND

config = pulumi.Config()
try:
    settings = parse_settings({key: config.get(key) for key in CONFIG_KEYS})
except ConfigError as error:
    # RunError stops preview with just this line instead of a traceback.
    raise pulumi.RunError(str(error)) from error

context = StackContext(
    project=pulumi.get_project(),
    stack=pulumi.get_stack(),
    account_id=aws.get_caller_identity().account_id,
    region=aws.get_region().region,
    partition=aws.get_partition().partition,
)
# One layer for the whole stack: boto3, botocore and Powertools exactly as runtime/requirements.txt pins them.
sdk = SdkLayer("sdk-layer", SdkLayerArgs(context=context))
functions = FunctionDefaults(settings=settings, sdk_layer_arn=sdk.layer.arn)
alarm_topics, alarm_notifications = alarm_actions(
    context, email=settings.alarm_email, topic_arn=settings.alarm_topic_arn
)

ingest = Ingest(
    "buffered-ingest",
    IngestArgs(context=context, functions=functions, alarm_actions=alarm_topics),
)
aggregator = Aggregator(
    "stream-aggregator",
    AggregatorArgs(
        context=context,
        functions=functions,
        raw_table_name=ingest.raw_table.name,
        raw_table_arn=ingest.raw_table.arn,
        raw_table_stream_arn=ingest.raw_table.stream_arn,
        raw_table_pending_index_arn=pulumi.Output.concat(ingest.raw_table.arn, "/index/pending-since"),
        consumer_timeout_seconds=FUNCTIONS[INBOUND].timeout_seconds,
        alarm_actions=alarm_topics,
    ),
)
inbound = Inbound(
    "connect-bridge",
    InboundArgs(
        context=context,
        functions=functions,
        bursts_queue_arn=aggregator.bursts_queue.arn,
        raw_table_arn=ingest.raw_table.arn,
        alarm_actions=alarm_topics,
    ),
)
outbound = Outbound(
    "connect-bridge",
    OutboundArgs(
        context=context,
        functions=functions,
        storage=inbound.storage,
        raw_table_name=ingest.raw_table.name,
        raw_table_arn=ingest.raw_table.arn,
        alarm_actions=alarm_topics,
    ),
)
if alarm_notifications is not None:
    alarm_notifications.admit(
        alarm for stage in (ingest, aggregator, inbound, outbound) for alarm in stage.alarms.created
    )
storage = inbound.storage

# Paste this into End User Messaging Social as the WhatsApp Business Account's event destination.
pulumi.export("inTopicArn", ingest.in_topic.arn)
pulumi.export("outTopicArn", storage.out_topic.arn)
pulumi.export("rawTableName", ingest.raw_table.name)
pulumi.export("sessionsTableName", storage.sessions_table.name)
pulumi.export("idempotencyTableName", storage.idempotency_table.name)
pulumi.export("burstsQueueUrl", aggregator.bursts_queue.url)
pulumi.export("burstsDeadLetterQueueUrl", aggregator.bursts_dead_letter_queue.url)
pulumi.export("aggregatorFailuresQueueUrl", aggregator.failures_queue.url)
pulumi.export("ingestDeadLetterQueueUrl", ingest.dead_letter_queue.url)
pulumi.export("outboundDeadLetterQueueUrl", outbound.dead_letter_queue.url)
pulumi.export("mediaBucketName", storage.media_bucket.bucket)
pulumi.export("ingestFunctionName", ingest.function.name)
pulumi.export("aggregatorFunctionName", aggregator.function.name)
pulumi.export("inboundFunctionName", inbound.function.name)
pulumi.export("outboundFunctionName", outbound.function.name)
# The layer every function lists: boto3, botocore and Powertools as runtime/requirements.txt pins them.
pulumi.export("sdkLayerArn", sdk.layer.arn)
if alarm_notifications is not None:
    # Subscribe more people or a pager to this topic; the email subscription must be confirmed first.
    pulumi.export("alarmTopicArn", alarm_notifications.topic.arn)
