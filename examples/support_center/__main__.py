"""A contact center's own Pulumi program (another project, another directory) that adds the WhatsApp bridge as one
component: `pip install -r requirements.txt` installs it from this repository, Lambda code included."""

import pulumi

from components import WhatsAppBuffer

config = pulumi.Config()
support = WhatsAppBuffer(
    "support",
    {
        "connect_instance_id": config.require("connectInstanceId"),
        "contact_flow_id": config.require("contactFlowId"),
        "buffer_seconds": config.require_int("bufferSeconds"),
        "ignore_stickers": False,
    },
)

# Set inTopicArn as the WhatsApp Business Account's event destination in End User Messaging Social.
pulumi.export("inTopicArn", support.in_topic_arn)
pulumi.export("outTopicArn", support.out_topic_arn)
pulumi.export("burstsDeadLetterQueueUrl", support.bursts_dead_letter_queue_url)
