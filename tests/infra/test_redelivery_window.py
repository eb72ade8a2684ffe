"""How long a redelivery can come after its message was stored, read from the declared stack, against how long ingest
remembers a message id (its seen marker)."""

from __future__ import annotations

from infra_helpers import function

from sandbox.program import ResourceGraph
from whatsapp_buffer.adapters.raw_messages import SEEN_HOURS

INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
LAMBDA_DEFAULT_EVENT_AGE_SECONDS = 6 * 3600
"""AWS::Lambda::EventInvokeConfig: "By default, Lambda retries an asynchronous invocation twice if the function returns
an error. It retains events in a queue for up to six hours" (MaximumEventAgeInSeconds, at most 21600)."""


def test_ingest_remembers_a_message_id_for_as_long_as_its_event_can_come_back(graph: ResourceGraph):
    """A stored message comes back when its event is retried (Lambda's asynchronous queue, up to its maximum event
    age) or replayed by an operator from the ingest dead-letter queue (docs/operations.md), which keeps it for its
    message retention: the seen marker must outlive both, whatever `retentionHours` keeps the message."""
    ingest = function(graph, "ingest").outputs["name"]
    (config,) = [c for c in graph.by_type(INVOKE_CONFIG) if c.inputs["functionName"] == ingest]
    event_age = config.inputs.get("maximumEventAgeInSeconds", LAMBDA_DEFAULT_EVENT_AGE_SECONDS)
    (dlq,) = [
        q
        for q in graph.by_type("aws:sqs/queue:Queue")
        if q.outputs["arn"] == config.inputs["destinationConfig"]["onFailure"]["destination"]
    ]

    assert event_age + dlq.inputs["messageRetentionSeconds"] <= SEEN_HOURS * 3600
