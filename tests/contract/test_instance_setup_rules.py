"""The read-only calls `make doctor` makes, as the fake answers them (`sandbox/fakes/connect.py` InstanceSetup,
`sandbox/fakes/templates.py`), each test quoting the botocore model's documentation it implements."""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

SESSION = botocore.session.get_session()
CONNECT = SESSION.get_service_model("connect")
SOCIAL = SESSION.get_service_model("socialmessaging")
INSTANCE = "11111111-2222-3333-4444-555555555555"
FLOW = "aaaaaaaa-0000-0000-0000-000000000001"
NUMBER = "phone-number-id-5f811eaa4c81499384c496b909afbb1a"
WABA = "waba-7e0c7d1b2a3f4e5d6c7b8a9f0e1d2c3b"
TOPIC = "arn:aws:sns:us-east-1:123456789012:in"


def _squash(text: str) -> str:
    """A documentation string without its HTML tags, on one line."""
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


@pytest.fixture
def instance(aws):
    aws.fake.connect.instance_ids = frozenset({INSTANCE})
    aws.fake.connect.contact_flow_ids = frozenset({FLOW})
    return aws


def test_an_instance_is_described_and_an_unknown_one_is_not_found(instance):
    assert "Returns the current state of the specified instance identifier" in _squash(
        CONNECT.operation_model("DescribeInstance").documentation
    )
    assert CONNECT.shape_for("InstanceStatus").enum == ["CREATION_IN_PROGRESS", "ACTIVE", "CREATION_FAILED"]

    assert instance.connect.describe_instance(InstanceId=INSTANCE)["Instance"]["InstanceStatus"] == "ACTIVE"
    with pytest.raises(ClientError) as refused:
        instance.connect.describe_instance(InstanceId="99999999-0000-0000-0000-000000000000")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("set_up", "state", "status"),
    [(None, "ACTIVE", "PUBLISHED"), ("SAVED", "ACTIVE", "SAVED"), ("ARCHIVED", "ARCHIVED", "PUBLISHED")],
)
def test_a_flows_status_is_saved_or_published_and_its_state_active_or_archived(instance, set_up, state, status):
    doc = _squash(CONNECT.operation_model("DescribeContactFlow").documentation)
    assert "In the response, Status indicates the flow status as either SAVED or PUBLISHED" in doc
    assert CONNECT.shape_for("ContactFlow").members["State"].enum == ["ACTIVE", "ARCHIVED"]
    if set_up:
        instance.fake.connect.setup.flows[FLOW] = set_up

    flow = instance.connect.describe_contact_flow(InstanceId=INSTANCE, ContactFlowId=FLOW)["ContactFlow"]

    assert (flow["State"], flow["Status"]) == (state, status)


def test_a_never_published_flow_may_answer_contact_flow_not_published(instance):
    errors = [shape.name for shape in CONNECT.operation_model("DescribeContactFlow").error_shapes]
    assert "ContactFlowNotPublishedException" in errors
    assert "The flow has not been published" in _squash(
        CONNECT.shape_for("ContactFlowNotPublishedException").documentation
    )
    instance.fake.connect.setup.flows[FLOW] = "NOT_PUBLISHED"

    with pytest.raises(ClientError) as refused:
        instance.connect.describe_contact_flow(InstanceId=INSTANCE, ContactFlowId=FLOW)

    assert refused.value.response["Error"]["Code"] == "ContactFlowNotPublishedException"


def test_an_unknown_flow_is_not_found(instance):
    with pytest.raises(ClientError) as refused:
        instance.connect.describe_contact_flow(
            InstanceId=INSTANCE, ContactFlowId="bbbbbbbb-0000-0000-0000-000000000009"
        )
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize("kind", ["ATTACHMENTS", "CHAT_TRANSCRIPTS"])
def test_storage_configs_are_listed_per_resource_type_and_none_when_not_set(instance, kind):
    assert "Returns a paginated list of storage configs for the identified instance and resource type" in (
        _squash(CONNECT.operation_model("ListInstanceStorageConfigs").documentation)
    )
    assert kind in CONNECT.shape_for("InstanceStorageResourceType").enum
    assert CONNECT.shape_for("S3Config").required_members == ["BucketName", "BucketPrefix"]

    configs = instance.connect.list_instance_storage_configs(InstanceId=INSTANCE, ResourceType=kind)
    assert [c["StorageType"] for c in configs["StorageConfigs"]] == ["S3"]

    if kind == "ATTACHMENTS":
        instance.fake.connect.setup.attachments_bucket = None
    else:
        instance.fake.connect.chat_transcripts = False
    configs = instance.connect.list_instance_storage_configs(InstanceId=INSTANCE, ResourceType=kind)
    assert configs["StorageConfigs"] == []


def test_message_streaming_is_an_instance_attribute_with_a_string_value(instance):
    assert "MESSAGE_STREAMING" in CONNECT.shape_for("InstanceAttributeType").enum
    assert "The value of the attribute" in _squash(CONNECT.shape_for("Attribute").members["Value"].documentation)

    read = instance.connect.describe_instance_attribute(InstanceId=INSTANCE, AttributeType="MESSAGE_STREAMING")
    assert read["Attribute"] == {"AttributeType": "MESSAGE_STREAMING", "Value": "false"}

    instance.fake.connect.setup.attributes["MESSAGE_STREAMING"] = "true"
    read = instance.connect.describe_instance_attribute(InstanceId=INSTANCE, AttributeType="MESSAGE_STREAMING")
    assert read["Attribute"]["Value"] == "true"


def test_the_lambda_functions_associated_with_the_instance_are_listed_by_arn(instance):
    listed = CONNECT.operation_model("ListLambdaFunctions").output_shape.members["LambdaFunctions"]
    assert "The Lambdafunction ARNs associated with the specified instance" in _squash(listed.documentation)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:outreach"
    assert instance.connect.list_lambda_functions(InstanceId=INSTANCE)["LambdaFunctions"] == []

    instance.fake.connect.setup.lambda_functions.append(arn)

    assert instance.connect.list_lambda_functions(InstanceId=INSTANCE)["LambdaFunctions"] == [arn]


def test_a_linked_business_account_names_its_one_event_destination_and_its_numbers(aws):
    model = SOCIAL.operation_model("GetLinkedWhatsAppBusinessAccount")
    assert "Get the details of your linked WhatsApp Business Account" in _squash(model.documentation)
    account_shape = SOCIAL.shape_for("LinkedWhatsAppBusinessAccount")
    assert "The event destinations for the linked WhatsApp Business Account" in (
        _squash(account_shape.members["eventDestinations"].documentation)
    )
    put = _squash(SOCIAL.operation_model("PutWhatsAppBusinessAccountEventDestinations").documentation)
    assert "A WABA can only have one event destination at a time" in put
    templates = aws.fake.social.templates
    templates.link_number(NUMBER, "106540352242922", WABA)

    account = aws.social.get_linked_whatsapp_business_account(id=WABA)["account"]
    assert account["eventDestinations"] == []
    assert [n["phoneNumberId"] for n in account["phoneNumbers"]] == [NUMBER]

    templates.event_destinations[WABA.removeprefix("waba-")] = TOPIC
    account = aws.social.get_linked_whatsapp_business_account(id=WABA)["account"]
    assert account["eventDestinations"] == [{"eventDestinationArn": TOPIC}]
    assert set(account_shape.required_members) <= set(account)


def test_an_unknown_business_account_is_not_found(aws):
    errors = [shape.name for shape in SOCIAL.operation_model("GetLinkedWhatsAppBusinessAccount").error_shapes]
    assert "ResourceNotFoundException" in errors

    with pytest.raises(ClientError) as refused:
        aws.social.get_linked_whatsapp_business_account(id="waba-00000000000000000000000000000000")

    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_linked_business_accounts_are_listed_a_page_at_a_time(aws):
    model = SOCIAL.operation_model("ListLinkedWhatsAppBusinessAccounts")
    assert "List all WhatsApp Business Accounts linked to your Amazon Web Services account" in _squash(
        model.documentation
    )
    assert model.input_shape.members["maxResults"].metadata == {"min": 1, "max": 100}
    templates = aws.fake.social.templates
    templates.link_number(NUMBER, "106540352242922", WABA)
    templates.event_destinations["0000ffff"] = TOPIC

    first = aws.social.list_linked_whatsapp_business_accounts(maxResults=1)
    second = aws.social.list_linked_whatsapp_business_accounts(maxResults=1, nextToken=first["nextToken"])

    listed = first["linkedAccounts"] + second["linkedAccounts"]
    assert [a["id"] for a in listed] == ["waba-0000ffff", WABA]
    assert listed[0]["eventDestinations"] == [{"eventDestinationArn": TOPIC}]
    assert "nextToken" not in second
    summary = SOCIAL.shape_for("LinkedWhatsAppBusinessAccountSummary")
    assert all(set(summary.required_members) <= set(a) and "phoneNumbers" not in a for a in listed)
