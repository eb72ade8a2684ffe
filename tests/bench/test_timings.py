"""bench/timings.py: a raw table's message times as a replay trace, asking DynamoDB for the keys and arrival times
alone, under an IAM policy that allows nothing more (the sandbox round trip: tests/e2e/test_follow_up_timings.py)."""

from __future__ import annotations

import json
import re
import warnings

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bench import timings
from tests.fixtures.tables import create_raw_table
from whatsapp_buffer.adapters.raw_messages import message_item
from whatsapp_buffer.model import Conversation, InboundMessage

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # parliament imports pkg_resources
    import parliament

T0 = 1_749_416_380.0
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/whatsapp-buffer-dev-raw"


def stored(customer: str, at: float, number: str = "106540352242922", message_id: str = "") -> dict:
    """A message item exactly as ingest writes it (body included: the reader must not need it)."""
    message = InboundMessage(
        conversation=Conversation(number, customer),
        message_id=message_id or f"wamid.{customer}.{at}",
        kind="text",
        sent_at=at,
        received_at=at,
        content={"text": "my card number is 4111"},
    )
    return message_item(message, at, 24)


def test_lines_count_from_the_first_arrival_in_arrival_order_with_customers_numbered_by_first_message():
    items = [stored("15551230002", T0 + 4.5), stored("15551230001", T0 + 7), stored("15551230002", T0 + 1.25)]

    assert timings.trace_lines(items) == [
        {"type": "whatsapp", "at": 0.0, "from": "15550000001", "phone_number_id": "106540352242922"},
        {"type": "whatsapp", "at": 3.25, "from": "15550000001", "phone_number_id": "106540352242922"},
        {"type": "whatsapp", "at": 5.75, "from": "15550000002", "phone_number_id": "106540352242922"},
    ]


def test_one_customer_writing_to_two_numbers_keeps_one_pseudonym_and_two_conversations():
    lines = timings.trace_lines([stored("15551230001", T0), stored("15551230001", T0 + 2, number="107000000000001")])

    assert [(line["from"], line["phone_number_id"]) for line in lines] == [
        ("15550000001", "106540352242922"),
        ("15550000001", "107000000000001"),
    ]


def test_items_that_are_not_messages_with_an_arrival_time_are_left_out():
    control = {"pk": {"S": "CONV#106540352242922#15551230001"}, "sk": {"S": "CONTROL"}, "last_arrival": {"N": "1"}}
    seen = {"pk": {"S": "CONV#106540352242922#15551230001"}, "sk": {"S": "SEEN#wamid.1"}}
    timeless = {"pk": {"S": "CONV#106540352242922#15551230001"}, "sk": {"S": "MSG#1#wamid.1"}}

    assert timings.trace_lines([control, seen, timeless]) == []
    assert len(timings.trace_lines([control, seen, stored("15551230001", T0)])) == 1


def test_no_customer_number_or_user_id_reaches_the_trace():
    customers = ["15551230001", "4915112345678", "US.13491208655302741918"]
    text = json.dumps(timings.trace_lines([stored(c, T0 + i) for i, c in enumerate(customers)]))

    for customer in customers:
        assert customer not in text
    assert "4111" not in text


def _named_attributes(request: dict) -> set[str]:
    expressions = " ".join(request[k] for k in ("ProjectionExpression", "FilterExpression") if k in request)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r":\w+", "", expressions))) - {"begins_with"}


def test_the_scan_asks_for_keys_and_arrival_times_only_and_is_valid_for_botocore():
    request = timings.scan_request("raw")
    client = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    with Stubber(client) as stub:  # validates the request against botocore's DynamoDB model
        stub.add_response("scan", {"Items": []}, request)
        client.scan(**request)
    assert _named_attributes(request) == set(timings.ATTRIBUTES) == {"pk", "sk", "received_at"}
    assert "Select" not in request or request["Select"] == "SPECIFIC_ATTRIBUTES"


def test_the_read_policy_allows_scan_of_the_table_for_the_scans_attributes_only():
    policy = timings.read_policy(TABLE_ARN)
    (statement,) = policy["Statement"]
    scan = next(
        p
        for service in parliament.iam_definition
        if service["prefix"] == "dynamodb"
        for p in service["privileges"]
        if p["privilege"] == "Scan"
    )
    condition_keys = {key for resource in scan["resource_types"] for key in resource["condition_keys"]}

    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Allow", "dynamodb:Scan", TABLE_ARN)
    # The Service Authorization Reference (as parliament ships it): Scan takes both condition keys the policy uses
    assert {"dynamodb:Attributes", "dynamodb:Select"} <= condition_keys
    allowed = set(statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"])
    assert _named_attributes(timings.scan_request("raw")) <= allowed
    assert "body" not in allowed
    assert parliament.analyze_policy_string(json.dumps(policy)).findings == []


def test_the_reader_reads_every_page_of_a_moto_table():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_raw_table(client, "raw")
        for i in range(30):
            item = stored("15551230001", T0 + i)
            item["body"] = {"S": "x" * 40_000}  # 30 items of 40 KB: the Scan pages at 1 MB
            client.put_item(TableName="raw", Item=item)

        lines = timings.read_table("raw", client=client)

    assert [line["at"] for line in lines] == [float(i) for i in range(30)]


def test_an_unreadable_table_exits_2_with_one_line(capsys):
    with mock_aws():
        code = timings.main(["--table", "no-such-table", "--region", "us-east-1"])

    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("timings: cannot read table no-such-table:")
    assert "\n" not in err


@pytest.mark.parametrize("argv", [[], ["--table"]])
def test_the_table_is_required(argv):
    with pytest.raises(SystemExit) as exited:
        timings.main(argv)
    assert exited.value.code == 2


def test_the_dynamodb_model_still_names_the_scan_parameters_the_reader_uses():
    shape = botocore.session.get_session().get_service_model("dynamodb").operation_model("Scan").input_shape

    assert {"ProjectionExpression", "FilterExpression", "ExpressionAttributeValues", "Select"} <= set(shape.members)
