"""Contact attributes the bridge sets on StartChatContact (the ad a customer came from), with their source.

botocore StartChatContact.Attributes: "A custom key-value pair using an attribute map. The attributes are standard
Connect Customer attributes. They can be accessed in flows just like any other contact attributes. There can be up to
32,768 UTF-8 bytes across all key-value pairs per contact. Attribute keys can include only alphanumeric, dash, and
underscore characters." Model: keys 1 to 32,767 characters, values 0 to 32,767. The error for a refused map is not
documented; the fake answers InvalidParameterException (one of the operation's error shapes).
"""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.contract.conftest import error_code
from whatsapp_buffer.inbound.start_chat import AD_ATTRIBUTE_CHARS, AD_ATTRIBUTES, ad_attributes

CONNECT = botocore.session.get_session().get_service_model("connect")
ATTRIBUTES = CONNECT.operation_model("StartChatContact").input_shape.members["Attributes"]


def _start(aws, attributes):
    return aws.connect.start_chat_contact(
        InstanceId="i", ContactFlowId="f", ParticipantDetails={"DisplayName": "Ana"}, Attributes=attributes
    )


def test_the_documented_limits_are_the_models():
    documentation = re.sub(r"<[^>]+>", "", ATTRIBUTES.documentation)
    assert "up to 32,768 UTF-8 bytes across all key-value pairs" in documentation
    assert "Attribute keys can include only alphanumeric, dash, and underscore characters" in documentation


def test_the_ad_attributes_keys_are_ones_connect_accepts_and_reach_the_contact(aws):
    referral = {"source_id": "120226305854810726", "source_type": "ad", "ctwa_clid": "Aff-n8Z", "headline": "x" * 5000}
    attributes = ad_attributes(referral)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", key) for key in AD_ATTRIBUTES.values())
    assert len(attributes["adHeadline"]) == AD_ATTRIBUTE_CHARS and "adSourceUrl" not in attributes
    contact_id = _start(aws, attributes)["ContactId"]
    assert aws.fake.chats.contacts[contact_id].attributes == attributes


@pytest.mark.parametrize(
    "attributes", [{"ad.id": "1"}, {"ad id": "1"}, {"big": "x" * 32766}], ids=["dot", "space", "size"]
)
def test_a_key_of_other_characters_or_a_map_over_32768_bytes_is_refused(aws, attributes):
    with pytest.raises(ClientError) as excinfo:
        _start(aws, attributes)
    assert error_code(excinfo) == "InvalidParameterException"
