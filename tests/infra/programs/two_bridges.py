"""A contact center's program with two bridges in one stack (support and sales numbers), told apart by name_prefix."""

import pulumi

from components import WhatsAppBuffer

config = pulumi.Config()
ids = {"connect_instance_id": config.require("connectInstanceId"), "contact_flow_id": config.require("contactFlowId")}
support = WhatsAppBuffer("support", ids)
sales = WhatsAppBuffer("sales", {**ids, "buffer_seconds": 10}, name_prefix="sales")
pulumi.export("supportInTopicArn", support.in_topic_arn)
pulumi.export("salesInTopicArn", sales.in_topic_arn)
