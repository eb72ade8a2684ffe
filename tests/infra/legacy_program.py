"""The whatsapp-buffer stack: read and validate config once, build the SDK layer, compose the three components, export
what users need."""

import pulumi
import pulumi_aws as aws

from components.alarms import alarm_actions
from components.buffered_ingest import BufferedIngest, BufferedIngestArgs
from components.connect_bridge import INBOUND_TIMEOUT_SECONDS, ConnectBridge, ConnectBridgeArgs
from components.context import StackContext
from components.lambda_function import FunctionDefaults
from components.sdk_layer import SdkLayer, SdkLayerArgs
from components.settings import CONFIG_KEYS, ConfigError, parse_settings
from components.stream_aggregator import StreamAggregator, StreamAggregatorArgs

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

ingest = BufferedIngest(
    "buffered-ingest",
    BufferedIngestArgs(context=context, functions=functions, alarm_actions=alarm_topics),
)
aggregator = StreamAggregator(
    "stream-aggregator",
    StreamAggregatorArgs(
        context=context,
        functions=functions,
        raw_table_name=ingest.raw_table.name,
        raw_table_arn=ingest.raw_table.arn,
        raw_table_stream_arn=ingest.raw_table.stream_arn,
        raw_table_pending_index_arn=pulumi.Output.concat(ingest.raw_table.arn, "/index/pending-since"),
        consumer_timeout_seconds=INBOUND_TIMEOUT_SECONDS,
        alarm_actions=alarm_topics,
    ),
)
bridge = ConnectBridge(
    "connect-bridge",
    ConnectBridgeArgs(
        context=context,
        functions=functions,
        bursts_queue_arn=aggregator.bursts_queue.arn,
        raw_table_name=ingest.raw_table.name,
        raw_table_arn=ingest.raw_table.arn,
        alarm_actions=alarm_topics,
    ),
)

# Paste this into End User Messaging Social as the WhatsApp Business Account's event destination.
pulumi.export("inTopicArn", ingest.in_topic.arn)
pulumi.export("outTopicArn", bridge.out_topic.arn)
pulumi.export("rawTableName", ingest.raw_table.name)
pulumi.export("sessionsTableName", bridge.sessions_table.name)
pulumi.export("idempotencyTableName", bridge.idempotency_table.name)
pulumi.export("burstsQueueUrl", aggregator.bursts_queue.url)
pulumi.export("burstsDeadLetterQueueUrl", aggregator.bursts_dead_letter_queue.url)
pulumi.export("aggregatorFailuresQueueUrl", aggregator.failures_queue.url)
pulumi.export("ingestDeadLetterQueueUrl", ingest.dead_letter_queue.url)
pulumi.export("outboundDeadLetterQueueUrl", bridge.outbound_dead_letter_queue.url)
pulumi.export("mediaBucketName", bridge.media_bucket.bucket)
pulumi.export("ingestFunctionName", ingest.function.name)
pulumi.export("aggregatorFunctionName", aggregator.function.name)
pulumi.export("inboundFunctionName", bridge.inbound_function.name)
pulumi.export("outboundFunctionName", bridge.outbound_function.name)
# The layer every function lists: boto3, botocore and Powertools as runtime/requirements.txt pins them.
pulumi.export("sdkLayerArn", sdk.layer.arn)
if alarm_notifications is not None:
    # Subscribe more people or a pager to this topic; the email subscription must be confirmed first.
    pulumi.export("alarmTopicArn", alarm_notifications.topic.arn)
