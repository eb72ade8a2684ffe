"""The replay's IAM check of every Amazon Connect action the functions call, against the resource types the Service
Authorization Reference lists for it (parliament's copy, `parliament/iam_definition.json`).

Actions, resources, and condition keys for Amazon Connect
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonconnect.html), as parliament 1.6.4 has
them: StartChatContact `contact-flow*` and `contact`; StopContact `contact*`; UpdateContactAttributes `contact*`;
StartContactStreaming `instance*`; resource type `contact` =
`arn:${Partition}:connect:${Region}:${Account}:instance/${InstanceId}/contact/${ContactId}`. botocore
UpdateContactAttributes names its contact `InitialContactId` ("The identifier of the contact. This is the identifier
of the contact associated with the first interaction with the contact center."), StopContact `ContactId`.
"""

from __future__ import annotations

import botocore.session
import pytest
from infra_helpers import operations_called, policy

from sandbox import iam_check as sandbox_iam
from sandbox.iam_reference import NotInReference, connect_resources, resource_types
from sandbox.program import ACCOUNT_ID, DEFAULT_REGION, deployed_graph

INSTANCE_ID = "00000000-0000-0000-0000-000000000000"
INSTANCE = f"arn:aws:connect:{DEFAULT_REGION}:{ACCOUNT_ID}:instance/{INSTANCE_ID}"
CONTACT = "5f0c7d6e-0000-4000-8000-00000000c0de"
FLOW = "00000000-0000-0000-0000-000000000000"
ACCOUNT = sandbox_iam.Account(region=DEFAULT_REGION, account_id=ACCOUNT_ID)


CALLED = sorted(operations_called("connect"))  # found in the code: a new Connect call is checked the day it is written


def request(operation: str) -> dict:
    """The identifiers a real request of `operation` carries (its required members, as botocore's model has them)."""
    model = botocore.session.get_session().get_service_model("connect").operation_model(operation)
    ids = {"InstanceId": INSTANCE_ID, "ContactId": CONTACT, "InitialContactId": CONTACT, "ContactFlowId": FLOW}
    return {name: ids.get(name, "x") for name in model.input_shape.required_members}


def inbound_role() -> sandbox_iam.RolePolicy:
    graph = deployed_graph({}, stack="dev")
    (role_policy,) = [p for p in graph.by_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith("-inbound-policy")]
    checked = sandbox_iam.RolePolicy("inbound")
    checked.add_document(policy(role_policy))
    return checked


def test_the_functions_call_the_connect_actions_the_test_knows():
    """The list below is found in the code, so a new Connect call is checked the day it is written."""
    assert {"StartChatContact", "StopContact", "UpdateContactAttributes"} <= set(CALLED)


@pytest.mark.parametrize("operation", CALLED)
def test_each_connect_call_is_checked_on_the_resources_the_reference_lists_for_its_action(operation):
    pairs = sandbox_iam.required("connect", operation, request(operation), ACCOUNT)
    expected = {
        "contact": f"{INSTANCE}/contact/{CONTACT}",
        "contact-flow": f"{INSTANCE}/contact-flow/{FLOW}",
        "instance": INSTANCE,
    }
    required_types = [name for name, required in resource_types("connect", operation) if required]
    assert required_types, f"connect:{operation} has a required resource type in the reference"
    assert {r.resource for r in pairs} >= {expected[name] for name in required_types}
    assert {r.action for r in pairs} == {f"connect:{operation}"}


@pytest.mark.parametrize("operation", CALLED)
def test_the_inbound_role_passes_the_check_for_every_connect_call_it_makes(operation):
    role = inbound_role()
    for pair in sandbox_iam.required("connect", operation, request(operation), ACCOUNT):
        assert role.allows(*pair), pair


@pytest.mark.parametrize("operation", ["UpdateContactAttributes", "StopContact"])
def test_a_contact_action_is_authorised_on_the_contact_not_on_the_instance(operation):
    """The rule of thumb this replaces checked the instance ARN and missed `InitialContactId`: a role granting the
    instance alone passed, and the project's least-privilege grant on `instance/<id>/contact/*` failed."""
    instance_only = sandbox_iam.RolePolicy("instance-only")
    instance_only.add_document(
        {"Statement": [{"Effect": "Allow", "Action": f"connect:{operation}", "Resource": INSTANCE}]}
    )
    contacts_only = sandbox_iam.RolePolicy("contacts-only")
    contacts_only.add_document(
        {"Statement": [{"Effect": "Allow", "Action": f"connect:{operation}", "Resource": f"{INSTANCE}/contact/*"}]}
    )
    pairs = sandbox_iam.required("connect", operation, request(operation), ACCOUNT)

    assert [(r.action, r.resource) for r in pairs] == [(f"connect:{operation}", f"{INSTANCE}/contact/{CONTACT}")]
    assert not any(instance_only.allows(*pair) for pair in pairs)
    assert all(contacts_only.allows(*pair) for pair in pairs)


def test_update_contact_attributes_names_its_contact_by_the_initial_contact_id():
    (pair,) = sandbox_iam.required(
        "connect", "UpdateContactAttributes", {"InstanceId": INSTANCE, "InitialContactId": "c-1"}, ACCOUNT
    )
    assert (pair.action, pair.resource) == ("connect:UpdateContactAttributes", f"{INSTANCE}/contact/c-1")


def test_a_chat_related_to_an_earlier_contact_is_checked_on_that_contact_too():
    """StartChatContact's `contact` resource type is optional: checked when the request names a contact (the chat it
    relates to, or the one it continues as a persistent chat); whether AWS checks it then is not documented, and
    checking it is the stricter reading."""
    base = {"InstanceId": INSTANCE_ID, "ContactFlowId": FLOW, "ParticipantDetails": {"DisplayName": "x"}}
    alone = sandbox_iam.required("connect", "StartChatContact", base, ACCOUNT)
    related = sandbox_iam.required("connect", "StartChatContact", {**base, "RelatedContactId": "c-0"}, ACCOUNT)
    continued = sandbox_iam.required(
        "connect", "StartChatContact", {**base, "PersistentChat": {"SourceContactId": "c-9"}}, ACCOUNT
    )
    assert [r.resource for r in alone] == [f"{INSTANCE}/contact-flow/{FLOW}"]
    assert [r.resource for r in related] == [f"{INSTANCE}/contact-flow/{FLOW}", f"{INSTANCE}/contact/c-0"]
    assert [r.resource for r in continued] == [f"{INSTANCE}/contact-flow/{FLOW}", f"{INSTANCE}/contact/c-9"]


def test_a_call_that_names_no_contact_a_contact_action_requires_is_an_error_not_a_pass():
    with pytest.raises(NotInReference, match="StopContact requires a contact"):
        connect_resources("StopContact", {"InstanceId": INSTANCE_ID}, partition="aws", region="r", account="1")


def test_an_action_the_reference_does_not_know_is_an_error_not_a_pass():
    with pytest.raises(NotInReference, match="connect:NoSuchAction"):
        sandbox_iam.required("connect", "NoSuchAction", {"InstanceId": INSTANCE_ID}, ACCOUNT)
