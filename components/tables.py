"""DynamoDB tables the way every table of this program is built: on demand, encrypted, recoverable, expiring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Index:
    """A global secondary index on one string attribute (and optionally a numeric sort key), projecting every
    attribute unless `projection` says otherwise."""

    name: str
    hash_key: str
    range_key: str | None = None
    """A Number attribute (e.g. a time) the index sorts by."""
    projection: str = "ALL"


def secure_table(
    name: str,
    parent: pulumi.Resource,
    *,
    hash_key: str,
    range_key: str | None = None,
    ttl_attribute: str,
    stream_view_type: str | None = None,
    indexes: Sequence[Index] = (),
) -> aws.dynamodb.Table:
    """PAY_PER_REQUEST, SSE, point-in-time recovery, TTL on a numeric attribute; string keys only."""
    key_types = {hash_key: "S", **({range_key: "S"} if range_key else {})}
    for index in indexes:
        key_types.setdefault(index.hash_key, "S")
        if index.range_key:
            key_types.setdefault(index.range_key, "N")
    return aws.dynamodb.Table(
        name,
        billing_mode="PAY_PER_REQUEST",
        hash_key=hash_key,
        range_key=range_key,
        attributes=[aws.dynamodb.TableAttributeArgs(name=key, type=kind) for key, kind in key_types.items()],
        global_secondary_indexes=[
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=index.name,
                key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=index.hash_key, key_type="HASH"),
                    *(
                        [
                            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                attribute_name=index.range_key, key_type="RANGE"
                            )
                        ]
                        if index.range_key
                        else []
                    ),
                ],
                projection_type=index.projection,
            )
            for index in indexes
        ]
        or None,
        ttl=aws.dynamodb.TableTtlArgs(attribute_name=ttl_attribute, enabled=True),
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
        stream_enabled=stream_view_type is not None or None,
        stream_view_type=stream_view_type,
        opts=pulumi.ResourceOptions(parent=parent),
    )
