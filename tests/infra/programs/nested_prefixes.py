"""Three bridges in one stack, each with its alarm email, whose name prefixes nest: no prefix, `sales` and `sales-eu`
(the one transcribing). Every alarm name of one starts with the names of the bridges before it."""

import pulumi

from components import WhatsAppBuffer

config = pulumi.Config()
ids = {"connect_instance_id": config.require("connectInstanceId"), "contact_flow_id": config.require("contactFlowId")}
WhatsAppBuffer("support", {**ids, "alarm_email": "support-ops@example.com"})
WhatsAppBuffer("sales", {**ids, "alarm_email": "sales-ops@example.com"}, name_prefix="sales")
WhatsAppBuffer(
    "sales-eu",
    {**ids, "alarm_email": "sales-eu-ops@example.com", "transcribe_languages": ["en-US"]},
    name_prefix="sales-eu",
)
