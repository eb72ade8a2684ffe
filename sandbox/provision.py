"""Create in moto every table, queue and bucket the program declares, with the program's names and settings."""

from __future__ import annotations

import json
from typing import Any

from sandbox.wiring import TableSpec, Wiring


def provision(wiring: Wiring, *, dynamodb: Any, sqs: Any, s3: Any) -> None:
    for table in wiring.tables.values():
        _create_table(dynamodb, table)
    # A dead-letter queue must exist before the queue whose redrive policy names it.
    for queue in sorted(wiring.queues.values(), key=lambda q: q.dead_letter_arn is not None):
        attributes = {"VisibilityTimeout": str(int(queue.visibility_timeout_s))}
        if queue.fifo:
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = "true" if queue.content_based_dedup else "false"
        if queue.dead_letter_arn:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": queue.dead_letter_arn, "maxReceiveCount": queue.max_receive_count or 5}
            )
        sqs.create_queue(QueueName=queue.name, Attributes=attributes)
    for bucket in wiring.buckets:
        s3.create_bucket(Bucket=bucket)


def _create_table(dynamodb: Any, table: TableSpec) -> None:
    kwargs: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
        + ([{"AttributeName": table.range_key, "KeyType": "RANGE"}] if table.range_key else []),
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in table.attributes],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.stream_view:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view}
    if table.indexes:
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["name"],
                "KeySchema": _index_key_schema(index),
                "Projection": {"ProjectionType": index.get("projectionType", "ALL")},
            }
            for index in table.indexes
        ]
    dynamodb.create_table(**kwargs)
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=table.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
        )


def _index_key_schema(index: dict[str, Any]) -> list[dict[str, str]]:
    """A GSI's key schema from either pulumi-aws form (`keySchemas` in v7, `hashKey`/`rangeKey` before)."""
    if index.get("keySchemas"):
        return [{"AttributeName": k["attributeName"], "KeyType": k["keyType"]} for k in index["keySchemas"]]
    schema = [{"AttributeName": index["hashKey"], "KeyType": "HASH"}]
    if index.get("rangeKey"):
        schema.append({"AttributeName": index["rangeKey"], "KeyType": "RANGE"})
    return schema
