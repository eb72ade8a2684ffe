"""The sandbox's uses of moto internals run only on the moto they were written for (sandbox.moto_internals)."""

from __future__ import annotations

import re
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import pytest

from sandbox import moto_internals

ROOT = Path(__file__).resolve().parents[2]
MOTO_IMPORT = re.compile(r"^\s*(from moto[ .]|import moto\b)", re.MULTILINE)


def test_the_installed_moto_is_the_one_the_internals_were_written_for():
    assert metadata.version("moto") == moto_internals.WRITTEN_FOR


def test_requirements_pin_the_version_the_internals_were_written_for():
    pins = [
        line.split("==")[1].split()[0]
        for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
        if line.startswith("moto[")
    ]
    assert pins == [moto_internals.WRITTEN_FOR]


def test_another_moto_fails_with_a_message_that_says_what_to_do():
    with pytest.raises(moto_internals.MotoVersionError) as raised:
        moto_internals.require_written_version("5.3.0")
    message = str(raised.value)
    assert "5.3.0" in message and moto_internals.WRITTEN_FOR in message and "sandbox/moto_internals.py" in message


def test_no_other_sandbox_module_imports_moto():
    """Every use of moto beyond its public API lives in sandbox/moto_internals.py (sandbox/fakes excepted: its own)."""
    offenders = []
    for path in sorted((ROOT / "sandbox").glob("*.py")) + sorted((ROOT / "sandbox" / "delivery").glob("*.py")):
        if path.name == "moto_internals.py":
            continue
        if MOTO_IMPORT.search(path.read_text()):
            offenders.append(path.name)
    assert offenders == []


@pytest.mark.parametrize("range_key", [None, "S", "N"])
@pytest.mark.parametrize("hash_type", ["S", "N"])
def test_table_items_come_in_the_order_moto_sorts_them(hash_type, range_key):
    """Every Query and Scan walks `Table.all_items`: the sandbox's cheaper sort gives moto's own order."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    moto_internals.speed_up_transactions()
    numbers = ["10", "9", "1.5", "-3", "100", "0.25", "9.0"]
    strings = ["b", "a", "B", "ab", "", "z", "aa"]
    hashes = numbers if hash_type == "N" else strings[:4] + ["c", "d", "e"]
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        schema = [{"AttributeName": "h", "KeyType": "HASH"}]
        attrs = [{"AttributeName": "h", "AttributeType": hash_type}]
        if range_key:
            schema.append({"AttributeName": "r", "KeyType": "RANGE"})
            attrs.append({"AttributeName": "r", "AttributeType": range_key})
        ddb.create_table(TableName="t", KeySchema=schema, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST")
        for i, h in enumerate(hashes):
            for r in (numbers if range_key == "N" else strings[1:])[: 3 if range_key else 1]:
                item = {"h": {hash_type: h}, "n": {"N": str(i)}}
                if range_key:
                    item["r"] = {range_key: r}
                ddb.put_item(TableName="t", Item=item)
        table = dynamodb_backends["123456789012"]["us-east-1"].get_table("t")
        items = [i for hs in table.items.values() for i in (hs.values() if range_key else [hs])]
        mine = [item.to_json() for item in table.all_items()]
        assert table.all_items.__func__ is moto_internals._all_items  # type: ignore[attr-defined]

    motos_own = sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    assert mine == [item.to_json() for item in motos_own]
    # "9" and "9.0" are one number key: the later put replaced the earlier item, in moto as in DynamoDB.
    assert len(mine) == len({Decimal(h) if hash_type == "N" else h for h in hashes}) * (3 if range_key else 1)


def test_remembered_snake_case_names_are_motos_own():
    from moto.core import utils

    moto_internals._remember_action_names()
    from moto.core import responses
    from moto.sqs import models as sqs_models

    names = ["ReceiveMessage", "ApproximateNumberOfMessages", "KmsMasterKeyId", "FifoQueue", "DBInstanceIdentifier"]
    for name in names * 2:
        assert responses.camelcase_to_underscores(name) == utils.camelcase_to_underscores(name)
        assert sqs_models.camelcase_to_underscores(name) == utils.camelcase_to_underscores(name)
    assert responses.camelcase_to_underscores.cache_info().hits >= len(names)


@pytest.mark.parametrize(("sort_key_bytes", "refused"), [(1024, False), (1025, True)])
def test_the_sandboxs_dynamodb_refuses_a_get_item_whose_sort_key_is_over_1024_bytes(sort_key_bytes, refused):
    """DynamoDB Developer Guide, "Constraints in Amazon DynamoDB": "The minimum length of a sort key value is 1 byte.
    The maximum length is 1024 bytes." DynamoDB answers a GetItem over it "ValidationException: One or more parameter
    values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes" (captured against
    DynamoDB in ExtendDB/extenddb pull request 194); moto checks only writes. botocore's model is silent (GetItem
    declares no ValidationException, no key size)."""
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    moto_internals.check_key_sizes_on_reads()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        key = {"pk": {"S": "CONV#x"}, "sk": {"S": "é" * (sort_key_bytes // 2) + "s" * (sort_key_bytes % 2)}}
        if not refused:
            assert "Item" not in ddb.get_item(TableName="t", Key=key)
            return
        with pytest.raises(ClientError) as raised:
            ddb.get_item(TableName="t", Key=key)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "Aggregated size of all range keys has exceeded the size limit of 1024 bytes" in str(raised.value)
