"""The request units bench/cost.py bills each DynamoDB write, from exact item sizes: each rule quoted from the
DynamoDB Developer Guide (awsdocs/amazon-dynamodb-developer-guide, doc_source/), and the shadow's update arithmetic
checked against the item moto stores after the same calls."""

from __future__ import annotations

import random

import boto3
import pytest
from moto import mock_aws

from bench import cost, update_expressions
from bench import dynamodb_units as ddb
from bench.dynamodb_units import Shadow

ITEM_SIZE = (
    "The total size of an item is the sum of the lengths of its attribute names and values. [...] Numbers are "
    "variable length, with up to 38 significant digits. Leading and trailing zeroes are trimmed. The size of a number "
    "is approximately (length of attribute name) + (1 byte per two significant digits) + (1 byte)."
)
"""CapacityUnitCalculations.md, "Item Sizes and Capacity Unit Consumption"."""
UPDATE_ITEM = (
    "UpdateItem—modifies a single item in the table. DynamoDB considers the size of the item as it appears before "
    "and after the update. The provisioned throughput consumed reflects the larger of these item sizes. Even if you "
    "update just a subset of the item's attributes, UpdateItem will still consume the full amount of provisioned "
    'throughput (the larger of the "before" and "after" item sizes).'
)
PUT_ITEM = (
    "PutItem—writes a single item to a table. If an item with the same primary key exists in the table, the "
    "operation replaces the item. For calculating provisioned throughput consumption, the item size that matters is "
    "the larger of the two."
)
DELETE_ITEM = (
    "DeleteItem—removes a single item from a table. The provisioned throughput consumption is based on the size of "
    "the deleted item. [...] For PutItem, UpdateItem, and DeleteItem operations, DynamoDB rounds the item size up to "
    "the next 1 KB."
)
FAILED_CONDITION_NEW_EDITION = (
    "If the expression evaluates to false, DynamoDB still consumes write capacity units from the table: For an "
    "existing item, the number of write capacity units consumed depends on the size of the new item. [...] For a new "
    "item, DynamoDB consumes one write capacity unit."
)
"""ProvisionedThroughput.md, "Capacity Unit Consumption for Writes" (the later edition)."""
FAILED_CONDITION_OLD_EDITION = (
    "If the item exists, the number of write capacity units consumed depends on the size of the item. [...] If the "
    "item does not exist, DynamoDB will consume one write capacity unit."
)
"""CapacityUnitCalculations.md (an earlier edition of the same section): the editions disagree on which item a
refused write of an existing item is sized by, so the shadow bills the larger of the two."""
TRANSACTIONS = (
    "DynamoDB performs two underlying reads or writes of every item in the transaction: one to prepare the "
    "transaction and one to commit the transaction."
)
"""transaction-apis.md, "Capacity Management for Transactions"."""

KEY = {"pk": {"S": "CONV#1"}, "sk": {"S": "CONTROL"}}


def _shadow() -> Shadow:
    return Shadow(keys={"raw": ("pk", "sk")})


def _update(expression: str, values: dict | None = None, names: dict | None = None, key: dict = KEY) -> dict:
    params = {"TableName": "raw", "Key": key, "UpdateExpression": expression}
    if values:
        params["ExpressionAttributeValues"] = values
    if names:
        params["ExpressionAttributeNames"] = names
    return params


@pytest.mark.parametrize(
    ("before", "expression", "names", "values", "after"),
    [
        ({}, "SET a = :v", None, {":v": {"S": "x"}}, {"a": {"S": "x"}}),
        ({"a": {"S": "old"}}, "SET a = :v", None, {":v": {"S": "new!"}}, {"a": {"S": "new!"}}),
        ({"a": {"N": "5"}}, "SET a = if_not_exists(a, :v)", None, {":v": {"N": "9"}}, {"a": {"N": "5"}}),
        ({}, "SET a = if_not_exists(a, :v)", None, {":v": {"N": "9"}}, {"a": {"N": "9"}}),
        ({"n": {"N": "99"}}, "SET n = n + :one", None, {":one": {"N": "1"}}, {"n": {"N": "100"}}),
        ({"n": {"N": "10"}}, "SET n = n - :v", None, {":v": {"N": "2.5"}}, {"n": {"N": "7.5"}}),
        (
            {"l": {"L": [{"S": "a"}]}},
            "SET l = list_append(l, :v)",
            None,
            {":v": {"L": [{"S": "b"}]}},
            {"l": {"L": [{"S": "a"}, {"S": "b"}]}},
        ),
        ({}, "ADD n :one", None, {":one": {"N": "1"}}, {"n": {"N": "1"}}),
        ({"n": {"N": "41"}}, "ADD n :one", None, {":one": {"N": "1"}}, {"n": {"N": "42"}}),
        ({"s": {"SS": ["a"]}}, "ADD s :v", None, {":v": {"SS": ["a", "b"]}}, {"s": {"SS": ["a", "b"]}}),
        ({"s": {"SS": ["a", "b"]}}, "DELETE s :v", None, {":v": {"SS": ["a"]}}, {"s": {"SS": ["b"]}}),
        ({"s": {"SS": ["a"]}, "k": {"S": "x"}}, "DELETE s :v", None, {":v": {"SS": ["a"]}}, {"k": {"S": "x"}}),
        ({"a": {"S": "x" * 500}, "b": {"S": "y"}}, "REMOVE a", None, None, {"b": {"S": "y"}}),
        (
            {},
            "set #add = :delete, set_aside_reason = :set",
            {"#add": "add"},
            {":delete": {"S": "x"}, ":set": {"S": "y"}},
            {"add": {"S": "x"}, "set_aside_reason": {"S": "y"}},
        ),
        (
            {"status": {"S": "pending"}},
            "SET #status = :to, burst_id = :burst",
            {"#status": "status"},
            {":to": {"S": "claimed"}, ":burst": {"S": "b-1"}},
            {"status": {"S": "claimed"}, "burst_id": {"S": "b-1"}},
        ),
        (
            {"pending": {"N": "3"}, "first_pending": {"N": "17"}, "waiting": {"S": "pending"}, "version": {"N": "4"}},
            "SET pending = :p REMOVE first_pending, waiting ADD version :one",
            None,
            {":p": {"N": "0"}, ":one": {"N": "1"}},
            {"pending": {"N": "0"}, "version": {"N": "5"}},
        ),
    ],
)
def test_an_update_expression_changes_the_item_as_dynamodb_applies_it(before, expression, names, values, after):
    assert update_expressions.apply_update(before, expression, names, values) == after


def test_the_shadow_sizes_items_as_moto_stores_them_after_the_runtimes_update_forms():
    """Property-style: 400 random updates of the forms the handlers send; after each one the shadow's size of the item
    equals the size (ITEM_SIZE rules) of the item moto holds."""
    rng = random.Random(16)
    forms = [
        (
            "SET last_arrival = :now, first_pending = if_not_exists(first_pending, :now), waiting = :w ADD pending :one, "
            "version :one",
            lambda: {":now": {"N": f"{rng.uniform(1e9, 2e9):.3f}"}, ":w": {"S": "pending"}, ":one": {"N": "1"}},
        ),
        ("ADD tick :one", lambda: {":one": {"N": "1"}}),
        (
            "SET pending = :p REMOVE first_pending, waiting ADD version :one",
            lambda: {":p": {"N": str(rng.randint(0, 40))}, ":one": {"N": "1"}},
        ),
        (
            "SET #status = :to, burst_id = :b, burst_index = :i",
            lambda: {
                ":to": {"S": rng.choice(["claimed", "sent"])},
                ":b": {"S": f"burst-{rng.randint(1, 10**6)}"},
                ":i": {"N": str(rng.randint(0, 20))},
            },
        ),
        (
            "SET notes = list_append(if_not_exists(notes, :empty), :n)",
            lambda: {":empty": {"L": []}, ":n": {"L": [{"S": "é" * rng.randint(0, 30)}]}},
        ),
        ("ADD tags :t", lambda: {":t": {"SS": rng.sample("abcdef", 2)}}),
        ("DELETE tags :t", lambda: {":t": {"SS": [rng.choice("abcdef")]}}),
        (
            "SET counter = if_not_exists(counter, :zero) + :d",
            lambda: {":zero": {"N": "0"}, ":d": {"N": str(rng.randint(-50, 50))}},
        ),
        ("REMOVE burst_id, notes", dict),
    ]
    shadow = _shadow()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="raw",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        for _ in range(400):
            expression, values = rng.choice(forms)
            params = _update(expression, values(), {"#status": "status"} if "#status" in expression else None)
            if not params.get("ExpressionAttributeValues"):
                params.pop("ExpressionAttributeValues", None)
            try:
                client.update_item(**params)
            except client.exceptions.ClientError:
                continue  # e.g. DELETE from a set that is not there yet as moto sees it: nothing changed
            ddb.dynamodb_units("UpdateItem", params, shadow)
            stored = client.get_item(TableName="raw", Key=KEY, ConsistentRead=True)["Item"]
            assert shadow.size("raw", KEY) == ddb.item_size(stored), expression


def test_a_control_item_touched_every_window_stays_one_write_unit_a_touch():
    """The raw table's control item: stored by ingest's transaction, then `ADD tick :one` once a window. UPDATE_ITEM:
    each touch is billed for the larger of the item before and after it, about 150 bytes here, so 1 WRU each; the
    old upper bound added `:one` to the item at every touch and crossed 1 KB after ~450 touches."""
    shadow = _shadow()
    store = _update(
        "SET last_arrival = :now, first_pending = if_not_exists(first_pending, :now), waiting = :pending, "
        "record_type = :control, expires_at = :expires ADD pending :one, version :one",
        {
            ":now": {"N": "1767225600.125"},
            ":pending": {"S": "pending"},
            ":control": {"S": "control"},
            ":one": {"N": "1"},
            ":expires": {"N": "1767830400"},
        },
    )
    assert ddb.dynamodb_units("TransactWriteItems", {"TransactItems": [{"Update": store}]}, shadow) == (0.0, 2)
    touches = [
        ddb.dynamodb_units("UpdateItem", _update("ADD tick :one", {":one": {"N": "1"}}), shadow)[1] for _ in range(2000)
    ]
    assert touches == [1] * 2000
    assert shadow.size("raw", KEY) < 200


def test_an_update_is_billed_for_the_larger_of_the_item_before_and_after():
    """UPDATE_ITEM and DELETE_ITEM (rounded up to the next 1 KB)."""
    shadow = _shadow()
    shadow.put("raw", {**KEY, "body": {"S": "x" * 1000}})  # 1,016 bytes: 1 KB
    grow = _update("SET extra = :b", {":b": {"S": "y" * 100}})
    assert ddb.dynamodb_units("UpdateItem", grow, shadow) == (0.0, 2)  # after: 1,121 bytes
    shrink = _update("REMOVE body, extra")
    assert ddb.dynamodb_units("UpdateItem", shrink, shadow) == (0.0, 2)  # before: 1,121 bytes
    assert ddb.dynamodb_units("UpdateItem", _update("ADD n :one", {":one": {"N": "1"}}), shadow) == (0.0, 1)
    assert ddb.dynamodb_units("DeleteItem", {"TableName": "raw", "Key": KEY}, shadow) == (0.0, 1)
    assert shadow.size("raw", KEY) == 0


def test_an_update_of_an_item_not_yet_stored_creates_it_from_its_key():
    shadow = _shadow()
    key = {"pk": {"S": "CONV#2"}, "sk": {"S": "CONTROL"}}
    assert ddb.dynamodb_units("UpdateItem", _update("ADD tick :one", {":one": {"N": "1"}}, key=key), shadow) == (0, 1)
    assert shadow.size("raw", key) == ddb.item_size({**key, "tick": {"N": "1"}})


def test_a_put_over_an_existing_item_is_billed_for_the_larger_of_the_two():
    """PUT_ITEM."""
    shadow = _shadow()
    shadow.put("raw", {**KEY, "body": {"S": "x" * 3000}})
    assert ddb.dynamodb_units("PutItem", {"TableName": "raw", "Item": {**KEY, "body": {"S": "small"}}}, shadow) == (
        0.0,
        3,
    )
    assert shadow.size("raw", KEY) == ddb.item_size({**KEY, "body": {"S": "small"}})


def test_a_refused_conditional_write_costs_one_unit_for_a_missing_item_and_the_larger_size_for_an_existing_one():
    """FAILED_CONDITION_NEW_EDITION and FAILED_CONDITION_OLD_EDITION disagree on an existing item (the new item or the
    stored one): the larger of the two is billed. Either way nothing is stored."""
    shadow = _shadow()
    missing = {"pk": {"S": "CONV#9"}, "sk": {"S": "MSG#1"}}
    big_put = {"TableName": "raw", "Item": {**missing, "body": {"S": "x" * 5000}}}
    assert ddb.dynamodb_units("PutItem", big_put, shadow, failed=True) == (0.0, 1)
    assert ddb.dynamodb_units(
        "UpdateItem", _update("SET b = :b", {":b": {"S": "x" * 5000}}, key=missing), shadow, failed=True
    ) == (0.0, 1)
    shadow.put("raw", {**KEY, "body": {"S": "x" * 2500}})  # 3 KB stored
    assert ddb.dynamodb_units("UpdateItem", _update("REMOVE body"), shadow, failed=True) == (0.0, 3)  # stored wins
    assert ddb.dynamodb_units(
        "UpdateItem", _update("SET more = :m", {":m": {"S": "y" * 2000}}), shadow, failed=True
    ) == (0.0, 5)  # the new item wins
    assert shadow.size("raw", KEY) == ddb.item_size({**KEY, "body": {"S": "x" * 2500}})
    assert shadow.size("raw", missing) == 0


def test_a_transactions_update_entries_are_sized_exactly_and_billed_twice():
    """TRANSACTIONS, and UPDATE_ITEM for each Update entry."""
    shadow = _shadow()
    messages = [{"pk": {"S": "CONV#1"}, "sk": {"S": f"MSG#{i}"}} for i in range(3)]
    for key in messages:
        shadow.put("raw", {**key, "status": {"S": "pending"}, "body": {"S": "x" * 900}})
    claim = {
        "TransactItems": [
            {
                "Update": {
                    **_update(
                        "SET #status = :to, burst_id = :burst",
                        {":to": {"S": "claimed"}, ":burst": {"S": "b" * 40}},
                        {"#status": "status"},
                        key=key,
                    )
                }
            }
            for key in messages
        ]
    }
    # each item grows from 932 to 980 bytes: 1 KB, written twice
    assert ddb.dynamodb_units("TransactWriteItems", claim, shadow) == (0.0, 3 * 2)
    assert shadow.size("raw", messages[0]) == ddb.item_size(
        {**messages[0], "status": {"S": "claimed"}, "body": {"S": "x" * 900}, "burst_id": {"S": "b" * 40}}
    )


def test_an_expression_form_the_model_does_not_know_falls_back_to_the_upper_bound():
    """A document path (`SET m.k = :v`) is not modelled: the item is priced as the stored item plus every value."""
    shadow = _shadow()
    shadow.put("raw", {**KEY, "m": {"M": {}}})
    before = shadow.size("raw", KEY)
    ddb.dynamodb_units("UpdateItem", _update("SET m.k = :v", {":v": {"S": "x" * 2000}}), shadow)
    assert shadow.size("raw", KEY) == before + 2000
    ddb.dynamodb_units("UpdateItem", _update("ADD tick :one", {":one": {"N": "1"}}), shadow)
    assert shadow.size("raw", KEY) == before + 2000 + ddb.item_size({"tick": {"N": "1"}})


def test_item_sizes_follow_the_guides_rules():
    """ITEM_SIZE: names + values; a number by its significant digits (trimmed zeroes), 1 byte per two, plus 1."""
    assert ddb.item_size({"pending": {"N": "100"}}) == 7 + (1 + 1)
    assert ddb.item_size({"at": {"N": "1767225600.125"}}) == 2 + (1 + 7)  # 13 significant digits


@pytest.mark.parametrize(
    ("operation", "params", "kind"),
    [
        ("UpdateItem", {"UpdateExpression": "ADD tick :one"}, "touch"),
        (
            "UpdateItem",
            {
                "UpdateExpression": "SET #status = :to, burst_id = :burst",
                "ExpressionAttributeValues": {":to": {"S": "claimed"}},
            },
            "claim",
        ),
        (
            "UpdateItem",
            {"UpdateExpression": "SET #status = :to", "ExpressionAttributeValues": {":to": {"S": "sent"}}},
            "mark",
        ),
        (
            "UpdateItem",
            {"UpdateExpression": "SET pending = :pending REMOVE first_pending, waiting ADD version :one"},
            "settle",
        ),
        ("UpdateItem", {"UpdateExpression": "SET #status = :aside, set_aside_reason = :reason"}, "update"),
        (
            "TransactWriteItems",
            {"TransactItems": [{"Put": {}}, {"Update": {"UpdateExpression": "ADD pending :one"}}]},
            "store",
        ),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {
                        "Update": {
                            "UpdateExpression": "SET #status = :to",
                            "ExpressionAttributeValues": {":to": {"S": "sent"}},
                        }
                    }
                ]
                * 3
            },
            "mark",
        ),
        ("GetItem", {}, "read"),
        ("Query", {}, "query"),
        ("PutItem", {"Item": {"record_type": {"S": "tick"}}}, "tick"),
        ("PutItem", {"Item": {"record_type": {"S": "said"}}}, "PutItem"),
    ],
)
def test_each_call_is_named_by_what_it_does_to_the_buffer(operation, params, kind):
    assert ddb.call_kind(operation, params) == kind


def test_stage_units_give_each_function_per_message_per_burst_and_by_call():
    usage = cost.Usage(
        dynamodb_write_units_by_function={"aggregator": 300.0, "ingest": 60.0, "quiet": 0.0},
        dynamodb_read_units_by_function={"aggregator": 30.0},
        dynamodb_by_kind={
            "aggregator": {
                "touch": {"calls": 200, "wru": 200.0, "rru": 0.0},
                "read": {"calls": 30, "wru": 0.0, "rru": 30.0},
            }
        },
    )
    stages = cost.stage_units(usage, messages=20, bursts=5)
    assert set(stages) == {"aggregator", "ingest"}
    a = stages["aggregator"]
    assert (a["wru_per_message"], a["rru_per_message"], a["ru_per_message"], a["ru_per_burst"]) == (15, 1.5, 16.5, 66)
    assert a["by_kind"]["touch"] == {"calls": 200, "wru": 200.0, "rru": 0.0}
    assert stages["ingest"]["ru_per_burst"] == 12


def test_python_m_bench_stages_prints_each_stage_and_its_units_by_call():
    from bench.__main__ import SECTIONS, stages_lines

    usage = cost.Usage(
        dynamodb_write_units_by_function={"aggregator": 1798.0, "ingest": 1230.0},
        dynamodb_read_units_by_function={"aggregator": 158.0},
        dynamodb_by_kind={"aggregator": {"touch": {"calls": 1339, "wru": 1339.0, "rru": 0.0}}},
    )
    result = {
        "buffer_seconds": 20,
        "window_seconds": 1,
        "messages": 205,
        "true_bursts": 49,
        "integrity_pct": 100.0,
        "latency_p95_s": 21.04,
        "stages": cost.stage_units(usage, messages=205, bursts=49),
    }
    lines = stages_lines(result)
    assert "stages" in SECTIONS
    assert "205 messages, 49 true bursts" in lines[0]
    assert lines[2].split() == ["aggregator", "1,798", "158", "8.77", "0.77", "9.54", "39.9"]
    assert lines[3].split()[:2] == ["ingest", "1,230"]
    assert "aggregator by call: touch 1,339 calls 1,339 WRU 0 RRU" in lines[4]


GSI_WRITES = (
    "If you write a new item to the table that defines an indexed attribute, or you update an existing item to define "
    "a previously undefined indexed attribute, one write operation is required to put the item into the index. If an "
    "update to the table changes the value of an indexed key attribute (from A to B), two writes are required, one to "
    "delete the previous item from the index and another write to put the new item into the index. If an item was "
    "present in the index, but a write to the table caused the indexed attribute to be deleted, one write is required "
    "to delete the old item projection from the index. If an item is not present in the index before or after the "
    "item is updated, there is no additional write cost for the index. If an update to the table only changes the "
    "value of projected attributes in the index key schema, but does not change the value of any indexed key "
    "attribute, one write is required to update the values of the projected attributes into the index. All of these "
    "factors assume that the size of each item in the index is less than or equal to the 1 KB item size for "
    "calculating write capacity units. Larger index entries require additional write capacity units."
)
"""GSI.md, "Provisioned Throughput Considerations for Global Secondary Indexes", writes."""
PENDING_SINCE = ddb.SecondaryIndex("pending-since", ("waiting", "first_pending"), "KEYS_ONLY")
TABLE_KEY = ("pk", "sk")
BASE = {**KEY, "pending": {"N": "1"}}


@pytest.mark.parametrize(
    ("index", "before", "after", "units"),
    [
        (PENDING_SINCE, None, {**BASE, "waiting": {"S": "pending"}, "first_pending": {"N": "17"}}, 1),
        (PENDING_SINCE, BASE, {**BASE, "waiting": {"S": "pending"}, "first_pending": {"N": "17"}}, 1),
        (
            PENDING_SINCE,
            {**BASE, "waiting": {"S": "pending"}, "first_pending": {"N": "17"}},
            {**BASE, "waiting": {"S": "pending"}, "first_pending": {"N": "29"}},
            2,
        ),
        (PENDING_SINCE, {**BASE, "waiting": {"S": "pending"}, "first_pending": {"N": "17"}}, BASE, 1),
        (PENDING_SINCE, {**BASE, "waiting": {"S": "pending"}, "first_pending": {"N": "17"}}, None, 1),
        (PENDING_SINCE, BASE, {**BASE, "tick": {"N": "3"}}, 0),
        (
            PENDING_SINCE,
            {**BASE, "waiting": {"S": "pending"}, "first_pending": {"N": "17"}},
            {**BASE, "waiting": {"S": "pending"}, "first_pending": {"N": "17"}, "tick": {"N": "3"}},
            0,
        ),
        (
            ddb.SecondaryIndex("all", ("waiting",)),
            {**BASE, "waiting": {"S": "p"}},
            {**BASE, "waiting": {"S": "p"}, "tick": {"N": "3"}},
            1,
        ),
        (
            ddb.SecondaryIndex("some", ("waiting",), "INCLUDE", ("tick",)),
            {**BASE, "waiting": {"S": "p"}},
            {**BASE, "waiting": {"S": "p"}, "tick": {"N": "3"}},
            1,
        ),
        (
            ddb.SecondaryIndex("some", ("waiting",), "INCLUDE", ("tick",)),
            {**BASE, "waiting": {"S": "p"}},
            {**BASE, "waiting": {"S": "p"}, "other": {"N": "3"}},
            0,
        ),
        (
            ddb.SecondaryIndex("all", ("waiting",)),
            None,
            {**BASE, "waiting": {"S": "p"}, "body": {"S": "x" * 1500}},
            2,
        ),
    ],
)
def test_a_global_secondary_index_writes_by_the_guides_rules(index, before, after, units):
    """GSI_WRITES, bullet by bullet (KEYS_ONLY projects the table and index keys only)."""
    assert index.write_units(before, after, TABLE_KEY) == units


def test_the_pending_since_index_costs_two_writes_per_burst_entering_and_leaving_it():
    """The raw table's control item over one burst of three messages and a dozen touches: it enters the sparse index
    with its first message (first_pending set by if_not_exists), stays while messages and touches change nothing the
    index holds, and leaves when the settle REMOVEs waiting and first_pending."""
    shadow = _shadow()
    shadow.indexes = {"raw": (PENDING_SINCE,)}
    store = "SET last_arrival = :now, first_pending = if_not_exists(first_pending, :now), waiting = :w ADD pending :one"
    totals = []
    for at in ("100", "103", "107"):
        params = _update(store, {":now": {"N": at}, ":w": {"S": "pending"}, ":one": {"N": "1"}})
        totals.append(ddb.dynamodb_units("TransactWriteItems", {"TransactItems": [{"Update": params}]}, shadow)[1])
    for _ in range(12):
        totals.append(ddb.dynamodb_units("UpdateItem", _update("ADD tick :one", {":one": {"N": "1"}}), shadow)[1])
    settle = _update(
        "SET pending = :p REMOVE first_pending, waiting ADD version :one", {":p": {"N": "0"}, ":one": {"N": "1"}}
    )
    totals.append(ddb.dynamodb_units("UpdateItem", settle, shadow)[1])
    assert totals == [2 + 1, 2, 2] + [1] * 12 + [1 + 1]
    assert shadow.index_write_units == 2


def test_an_index_query_reads_the_index_items_under_its_hash_key():
    shadow = _shadow()
    shadow.indexes = {"raw": (PENDING_SINCE,)}
    for n in range(3):
        shadow.put(
            "raw",
            {
                "pk": {"S": f"CONV#{n}"},
                "sk": {"S": "CONTROL"},
                "waiting": {"S": "pending"},
                "first_pending": {"N": str(100 + n)},
                "body": {"S": "x" * 3000},
            },
        )
    shadow.put("raw", {"pk": {"S": "CONV#9"}, "sk": {"S": "CONTROL"}, "body": {"S": "x" * 3000}})
    params = {
        "TableName": "raw",
        "IndexName": "pending-since",
        "KeyConditionExpression": "#waiting = :pending AND first_pending < :cutoff",
        "ExpressionAttributeNames": {"#waiting": "waiting"},
        "ExpressionAttributeValues": {":pending": {"S": "pending"}, ":cutoff": {"N": "200"}},
    }
    keys_only = sum(
        ddb.item_size(
            {
                "pk": {"S": f"CONV#{n}"},
                "sk": {"S": "CONTROL"},
                "waiting": {"S": "pending"},
                "first_pending": {"N": str(100 + n)},
            }
        )
        for n in range(3)
    )
    assert shadow.query_size("raw", params) == keys_only  # the 3,000-byte bodies are not in a keys-only index
    assert ddb.dynamodb_units("Query", params, shadow) == (0.5, 0.0)


@pytest.mark.parametrize(
    "declared",
    [
        {
            "name": "pending-since",
            "keySchemas": [
                {"attributeName": "waiting", "keyType": "HASH"},
                {"attributeName": "first_pending", "keyType": "RANGE"},
            ],
            "projectionType": "KEYS_ONLY",
        },
        {"name": "pending-since", "hashKey": "waiting", "rangeKey": "first_pending", "projectionType": "KEYS_ONLY"},
    ],
)
def test_an_index_is_read_from_either_form_of_the_programs_declaration(declared):
    assert ddb.SecondaryIndex.from_program(declared) == PENDING_SINCE


@pytest.mark.parametrize(
    ("condition", "values", "read"),
    [
        (
            "pk = :pk AND sk BETWEEN :from AND :end",
            {":from": {"S": "MSG#2"}, ":end": {"S": "MSG$"}},
            ["MSG#2", "MSG#3"],
        ),
        ("pk = :pk AND begins_with(sk, :p)", {":p": {"S": "MSG#"}}, ["MSG#1", "MSG#2", "MSG#3"]),
        ("pk = :pk AND sk >= :from", {":from": {"S": "MSG#3"}}, ["MSG#3", "SEEN#1"]),
        ("pk = :pk AND sk < :to", {":to": {"S": "MSG#2"}}, ["CONTROL", "MSG#1"]),
        ("pk = :pk AND sk = :sk", {":sk": {"S": "CONTROL"}}, ["CONTROL"]),
        ("pk = :pk", {}, ["CONTROL", "MSG#1", "MSG#2", "MSG#3", "SEEN#1"]),
    ],
)
def test_a_query_reads_only_the_items_its_sort_key_test_selects(condition, values, read):
    """botocore, Query KeyConditionExpression: "sortKeyName BETWEEN :sortkeyval1 AND :sortkeyval2 - true if the sort
    key value is greater than or equal to :sortkeyval1, and less than or equal to :sortkeyval2" (and `<`, `<=`, `>`,
    `>=`, `=`, `begins_with`); ScanIndexForward: "For type String, the results are stored in order of UTF-8 bytes".
    The flush's read from the control item's `unsent_from` is a BETWEEN: it is billed for what it reads, not for the
    whole conversation."""
    shadow = _shadow()
    keys = ["CONTROL", "MSG#1", "MSG#2", "MSG#3", "SEEN#1"]
    for n, sk in enumerate(keys):
        shadow.put("raw", {"pk": {"S": "CONV#1"}, "sk": {"S": sk}, "body": {"S": "x" * (100 * 2**n)}})
    params = {
        "TableName": "raw",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": {":pk": {"S": "CONV#1"}, **values},
    }
    sizes = {
        sk: ddb.item_size({"pk": {"S": "CONV#1"}, "sk": {"S": sk}, "body": {"S": "x" * (100 * 2**n)}})
        for n, sk in enumerate(keys)
    }
    assert shadow.query_size("raw", params) == sum(sizes[sk] for sk in read)
