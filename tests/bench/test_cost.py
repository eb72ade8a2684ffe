"""The dollar arithmetic of bench/cost.py: item sizes, request units, the price table, one hand-computed bill."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from bench import cost
from bench import dynamodb_units as ddb
from bench.cost import Usage
from bench.dynamodb_units import Shadow


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "abc"}, 3),
        ({"S": "ção"}, 5),  # UTF-8 bytes, not characters
        ({"N": "1"}, 2),  # one significant digit: 1 + 1
        ({"N": "1767225600"}, 5),  # 8 significant digits (trailing zeros trimmed): 1 + 4
        ({"N": "-12.50"}, 3),  # 3 significant digits: 1 + 2
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"L": [{"S": "ab"}, {"N": "7"}]}, 3 + (1 + 2) + (1 + 2)),
        ({"M": {"k": {"S": "v"}}}, 3 + 1 + 1 + 1),
    ],
)
def test_value_sizes_follow_dynamodb_item_size_rules(value, size):
    assert ddb.value_size(value) == size


def test_item_size_adds_attribute_names():
    assert ddb.item_size({"pk": {"S": "CONV#1"}, "n": {"N": "1"}}) == (2 + 6) + (1 + 2)


@pytest.mark.parametrize(
    ("size", "transactional", "units"),
    [
        (0, False, 1),
        (100, False, 1),
        (1024, False, 1),
        (1025, False, 2),
        (3000, False, 3),
        (100, True, 2),
        (3000, True, 6),
    ],
)
def test_write_units_one_per_started_kilobyte_doubled_in_transactions(size, transactional, units):
    assert ddb.write_units(size, transactional=transactional) == units


@pytest.mark.parametrize(
    ("size", "consistent", "transactional", "units"),
    [
        (0, True, False, 1),
        (4096, True, False, 1),
        (4097, True, False, 2),
        (100, False, False, 0.5),
        (8192, False, False, 1),
        (100, True, True, 2),
        (9000, True, True, 6),
    ],
)
def test_read_units_one_per_started_4kb_half_when_eventual_double_in_transactions(
    size, consistent, transactional, units
):
    assert ddb.read_units(size, consistent=consistent, transactional=transactional) == units


def _shadow() -> Shadow:
    return Shadow(keys={"raw": ("pk", "sk")})


def test_a_query_reads_every_item_under_its_key_condition_whatever_the_filter():
    shadow = _shadow()
    big = {"pk": {"S": "CONV#a"}, "sk": {"S": "MSG#1"}, "body": {"S": "x" * 3000}}
    shadow.put("raw", big)
    shadow.put("raw", {**big, "sk": {"S": "MSG#2"}})
    shadow.put("raw", {"pk": {"S": "CONV#a"}, "sk": {"S": "CONTROL"}, "body": {"S": "x" * 3000}})
    shadow.put("raw", {**big, "pk": {"S": "CONV#b"}})
    params = {
        "TableName": "raw",
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :msg)",
        "FilterExpression": "#status IN (:pending)",
        "ExpressionAttributeValues": {":pk": {"S": "CONV#a"}, ":msg": {"S": "MSG#"}, ":pending": {"S": "pending"}},
        "ConsistentRead": True,
    }
    assert shadow.query_size("raw", params) == 2 * ddb.item_size(big)  # ~6 KB: 2 RRU
    assert ddb.dynamodb_units("Query", params, shadow) == (2.0, 0.0)


def test_a_transaction_counts_every_item_twice_and_a_refused_one_still_costs_but_stores_nothing():
    shadow = _shadow()
    item = {"pk": {"S": "CONV#a"}, "sk": {"S": "MSG#1"}, "body": {"S": "x" * 1500}}  # 2 KB -> 2 WRU, x2
    seen = {"pk": {"S": "CONV#a"}, "sk": {"S": "SEEN#1"}}
    params = {
        "TransactItems": [
            {"Put": {"TableName": "raw", "Item": seen}},
            {"Put": {"TableName": "raw", "Item": item}},
            {
                "Update": {
                    "TableName": "raw",
                    "Key": {"pk": {"S": "CONV#a"}, "sk": {"S": "CONTROL"}},
                    "UpdateExpression": "ADD pending :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    }
    assert ddb.dynamodb_units("TransactWriteItems", params, Shadow(keys={"raw": ("pk", "sk")}), failed=True) == (
        0.0,
        2 + 4 + 2,
    )
    assert ddb.dynamodb_units("TransactWriteItems", params, shadow) == (0.0, 2 + 4 + 2)
    assert shadow.size("raw", {"pk": {"S": "CONV#a"}, "sk": {"S": "MSG#1"}}) == ddb.item_size(item)


def test_an_eventually_consistent_get_of_a_1kb_item_is_half_a_read_unit():
    shadow = _shadow()
    key = {"pk": {"S": "CONV#a"}, "sk": {"S": "MSG#1"}}
    shadow.put("raw", {**key, "body": {"S": "x" * 1000}})
    assert ddb.dynamodb_units("GetItem", {"TableName": "raw", "Key": key}, shadow) == (0.5, 0.0)
    assert ddb.dynamodb_units("GetItem", {"TableName": "raw", "Key": key, "ConsistentRead": True}, shadow) == (1, 0)


def test_every_price_has_a_source_and_the_free_lines_are_free():
    assert cost.PRICES_READ_ON and cost.REGION == "us-east-1"
    for name, price in cost.PRICES.items():
        assert price.source and price.unit and price.per > 0, name
    assert cost.PRICES["dynamodb_stream_read_lambda"].each == 0
    assert cost.PRICES["sns_lambda_delivery"].each == 0
    assert {key for _label, _name, key in cost.LINES} <= set(cost.PRICES)


def test_hand_computed_bill_of_1000_messages():
    """1,000 messages in 250 bursts: by hand, with the table's prices."""
    usage = Usage(
        whatsapp_messages=1000,
        connect_messages=250,
        dynamodb_write_units=10_000,  # $0.625/M  -> $0.00625
        dynamodb_read_units=2_000,  # $0.125/M  -> $0.00025
        dynamodb_stream_reads_lambda=5_000,  # free
        lambda_requests=3_000,  # $0.20/M   -> $0.0006
        lambda_gb_seconds=30.0,  # $0.0000133334 -> $0.000400002
        sqs_fifo_requests=750,  # $0.50/M   -> $0.000375
        sns_publishes=1_000,  # $0.50/M   -> $0.0005
        sns_lambda_deliveries=1_000,  # free
        kms_requests=1_000,  # $0.03/10k -> $0.003
        s3_puts=10,  # $0.005/1k -> $0.00005
        s3_gets=10,  # $0.0004/1k -> $0.000004
        log_bytes=2_000_000,  # 0.002 GB x $0.50 -> $0.001
    )
    bill = cost.dollars(usage)
    own = 0.00625 + 0.00025 + 0.0006 + 0.000400002 + 0.000375 + 0.0005 + 0.003 + 0.00005 + 0.000004 + 0.001
    assert bill["own_per_1000_usd"] == pytest.approx(own, abs=1e-6)
    assert bill["lines_per_1000_usd"]["KMS requests"] == pytest.approx(0.003)
    assert bill["connect_messages_per_1000"] == 250
    assert bill["connect_saved_messages_per_1000"] == 750
    assert bill["connect_saved_per_1000_usd"] == pytest.approx(7.50)  # 750 x $0.010
    assert bill["connect_saved_per_1000_usd_seed_price"] == pytest.approx(3.00)  # 750 x $0.004
    assert bill["net_saved_per_1000_usd"] == pytest.approx(7.50 - own, abs=1e-4)
    assert bill["own_pct_of_saved"] == pytest.approx(100 * own / 7.5, abs=1e-3)


def test_the_bill_scales_to_1000_messages():
    small = cost.dollars(Usage(whatsapp_messages=200, connect_messages=50, dynamodb_write_units=2_000))
    assert small["lines_per_1000_usd"]["DynamoDB writes"] == pytest.approx(10_000 * 0.625 / 1e6)
    assert math.isnan(cost.dollars(Usage())["own_pct_of_saved"])


def test_the_meter_counts_an_invoke_its_calls_and_the_mapping_requests():
    meter = cost.Meter(
        memory_mb={"inbound": 256},
        queue_functions={"inbound"},
        shadow=Shadow(keys={"sessions": ("conversation", None)}),
    )
    calls = [
        SimpleNamespace(
            service="dynamodb",
            operation="GetItem",
            error=None,
            params={"TableName": "sessions", "Key": {"conversation": {"S": "a"}}, "ConsistentRead": True},
        ),
        SimpleNamespace(service="sqs", operation="SendMessage", error=None, params={"MessageBody": "x" * 70_000}),
        SimpleNamespace(service="connectparticipant", operation="SendMessage", error=None, params={}),
    ]
    meter.invoked("inbound", calls, ['{"level":"INFO"}'])
    u = meter.usage
    assert (u.lambda_requests, u.dynamodb_read_units, u.sqs_fifo_requests) == (1, 1.0, 2 + 2)
    assert u.lambda_gb_seconds == pytest.approx(0.25 * (5 + 8 + 15 + 60) / 1000)
    assert u.log_bytes == cost.LAMBDA_PLATFORM_LOG_BYTES + 17
    assert meter.calls_seen == 3
    assert u.dynamodb_by_kind == {"inbound": {"read": {"calls": 1, "wru": 0.0, "rru": 1.0}}}


@pytest.mark.parametrize(("seconds", "billed"), [(1, 15), (14.2, 15), (15, 15), (15.1, 16), (40, 40)])
def test_transcribe_bills_per_started_second_with_a_15_second_minimum(seconds, billed):
    assert cost.transcribe_billed_seconds(seconds) == billed


def test_1000_voice_notes_of_15_s_cost_6_dollars_of_transcribe_and_a_few_cents_of_lambda_and_s3():
    bill = cost.voice_notes_cost(conversion_ms=20.0)
    assert bill["transcribe_usd"] == 6.0  # 1,000 x 15 s = 250 min x $0.024
    assert bill == cost.voice_notes_cost(conversion_ms=20.0, seconds=5)  # the minimum: a 5 s note costs as 15 s
    assert 0 < bill["lambda_usd"] < 0.05 and 0 < bill["s3_usd"] < 0.05
    assert bill["total_usd"] == pytest.approx(bill["transcribe_usd"] + bill["lambda_usd"] + bill["s3_usd"], abs=1e-4)
