"""`python -m bench timings --table NAME [--region R] [--out TRACE.jsonl]`: how a deployed stack's customers type,
read from its raw table as a replay trace (docs/sandbox.md#tracejsonl), one `whatsapp` line per stored message.

One Scan whose ProjectionExpression names the keys and `received_at` alone (when ingest stored the message): never a
body, kind or message id. Customers become pseudonyms numbered by their first message (`15550000001`, ...), not a
hash: a hash of a phone number is found again by hashing every number. `at` counts from the first message. The table
keeps `retentionHours` of messages (TTL), so that is what is read. boto3 finds the table the usual way
(`AWS_ENDPOINT_URL` included, as the sandbox's moto uses). IAM: `read_policy` (docs/operations.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from whatsapp_buffer.adapters.raw_common import MSG_PREFIX
from whatsapp_buffer.model import Conversation
from whatsapp_buffer.storage_keys import PK_PREFIX

ATTRIBUTES = ("pk", "sk", "received_at")
"""Everything the Scan asks for: the conversation (pk), the item kind (sk) and the arrival time."""
PSEUDONYM_BASE = 15_550_000_000
"""Pseudonyms are numbers of the fictional 555 range, the project's test numbers' form: `15550000001`, ..."""


def read_policy(table_arn: str) -> dict[str, Any]:
    """The reader's whole IAM policy: Scan on the table, only ever for `ATTRIBUTES` (IAM User Guide, "Amazon
    DynamoDB: Allows access to specific attributes": `ForAllValues:StringEquals` on `dynamodb:Attributes` and
    `StringEqualsIfExists` `dynamodb:Select` = `SPECIFIC_ATTRIBUTES`; the Service Authorization Reference lists both
    keys for Scan)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadMessageTimesOnly",
                "Effect": "Allow",
                "Action": "dynamodb:Scan",
                "Resource": table_arn,
                "Condition": {
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": list(ATTRIBUTES)},
                    "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                },
            }
        ],
    }


def scan_request(table_name: str) -> dict[str, Any]:
    """The Scan: message items only, their keys and arrival time only."""
    return {
        "TableName": table_name,
        "ProjectionExpression": ", ".join(ATTRIBUTES),
        "FilterExpression": "begins_with(sk, :msg)",
        "ExpressionAttributeValues": {":msg": {"S": MSG_PREFIX}},
    }


def trace_lines(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scanned items -> trace lines in arrival order, `at` from the first arrival (to the millisecond), customers as
    pseudonyms in order of their first message. Items that are not a message with its arrival time are skipped."""
    arrivals: list[tuple[float, str, Conversation]] = []
    for item in items:
        pk, sk = item.get("pk", {}).get("S", ""), item.get("sk", {}).get("S", "")
        received = item.get("received_at", {}).get("N")
        if not pk.startswith(PK_PREFIX) or not sk.startswith(MSG_PREFIX) or received is None:
            continue
        arrivals.append((float(received), sk, Conversation.from_key(pk[len(PK_PREFIX) :])))
    arrivals.sort(key=lambda a: (a[0], a[2].key, a[1]))
    if not arrivals:
        return []
    start = arrivals[0][0]
    pseudonyms: dict[str, str] = {}
    lines = []
    for received, _, conversation in arrivals:
        # One customer writing to two business numbers is one person: one pseudonym, two conversations.
        customer = pseudonyms.setdefault(conversation.customer, str(PSEUDONYM_BASE + len(pseudonyms) + 1))
        lines.append(
            {
                "type": "whatsapp",
                "at": round(received - start, 3),
                "from": customer,
                "phone_number_id": conversation.phone_number_id,
            }
        )
    return lines


def read_table(table_name: str, *, region: str | None = None, client: Any | None = None) -> list[dict[str, Any]]:
    """The trace lines of every message the raw table `table_name` holds (see `trace_lines`)."""
    if client is None:
        import boto3

        client = boto3.client("dynamodb", region_name=region)
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(**scan_request(table_name)):
        items.extend(page.get("Items", []))
    return trace_lines(items)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench timings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", required=True, help="the stack's raw table (stack output rawTableName)")
    parser.add_argument("--region", help="its region (default: boto3's, e.g. AWS_REGION)")
    parser.add_argument("--out", metavar="TRACE.jsonl", help="write the trace here instead of stdout")
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        lines = read_table(args.table, region=args.region)
    except (BotoCoreError, ClientError) as error:
        print(f"timings: cannot read table {args.table}: {error}", file=sys.stderr)
        return 2
    text = "".join(json.dumps(line) + "\n" for line in lines)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    customers = len({line["from"] for line in lines})
    print(f"timings: {len(lines)} messages of {customers} customers", file=sys.stderr)
    return 0
