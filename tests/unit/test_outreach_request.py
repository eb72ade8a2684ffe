"""What a contact flow asks for and whether a template can carry it (pure: `outreach.request`)."""

from __future__ import annotations

import json

import pytest

from whatsapp_buffer.errors import OutreachRefused
from whatsapp_buffer.outreach.request import TemplateShape, parse

NUMBER = "phone-number-id-5f811eaa4c81499384c496b909afbb1a"


def event(**parameters):
    return {"Details": {"ContactData": {"ContactId": "c-1"}, "Parameters": parameters}, "Name": "ContactFlowEvent"}


def definition(*components, parameter_format=None):
    template = {"name": "t", "language": "en_US", "status": "APPROVED", "components": list(components)}
    if parameter_format:
        template["parameter_format"] = parameter_format
    return json.dumps(template)


def test_parameters_become_the_request_in_order_with_the_attributes_to_carry():
    request = parse(
        event(
            to="+15550001111",
            template="order_update",
            phoneNumberId=NUMBER,
            parameter2="A-1",
            parameter1="Ana",
            attribute_caseId="C-7",
        )
    )

    assert request.to == "15550001111"
    assert request.language == "en_US"
    assert request.parameters == ("Ana", "A-1")
    assert request.attributes == {"caseId": "C-7"}
    assert request.asked_by == "c-1"
    assert request.number_suffix == "5f811eaa4c81499384c496b909afbb1a"


def test_a_business_scoped_user_id_is_a_customer_too():
    assert parse(event(to="US.13491208655302741918", template="t", phoneNumberId=NUMBER)).to == (
        "US.13491208655302741918"
    )


def test_the_number_may_be_given_as_its_arn():
    arn = "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/5f811eaa4c81499384c496b909afbb1a"

    assert parse(event(to="15550001111", template="t", phoneNumberId=arn)).number_suffix == (
        "5f811eaa4c81499384c496b909afbb1a"
    )


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ({"template": "t", "phoneNumberId": NUMBER}, "missing parameter 'to'"),
        ({"to": "15550001111", "phoneNumberId": NUMBER}, "parameter 'template'"),
        ({"to": "15550001111", "template": "Order Update", "phoneNumberId": NUMBER}, "parameter 'template'"),
        ({"to": "15550001111", "template": "t", "language": "english", "phoneNumberId": NUMBER}, "'language'"),
        ({"to": "15550001111", "template": "t", "phoneNumberId": "1065403"}, "'phoneNumberId' is not"),
        ({"to": "15550001111", "template": "t", "phoneNumberId": NUMBER, "parameter1": " "}, "parameter1 is empty"),
        ({"to": "15550001111", "template": "t", "phoneNumberId": NUMBER, "parameter1": "a     b"}, "5 spaces"),
        (
            {"to": "15550001111", "template": "t", "phoneNumberId": NUMBER, "attribute_x": "v" * 9000},
            "exceed 8192 bytes",
        ),
    ],
)
def test_a_request_with_a_missing_or_malformed_parameter_is_refused_saying_which(parameters, reason):
    with pytest.raises(OutreachRefused) as refused:
        parse(event(**parameters))

    assert reason in str(refused.value)


def test_positional_variables_count_once_each_and_fill_in_order():
    shape = TemplateShape.from_definition(
        definition({"type": "BODY", "text": "Hi {{1}}, order {{2}} ({{1}}) shipped."}, {"type": "FOOTER"})
    )

    assert shape.variables == ("1", "2") and not shape.named
    assert shape.components(("Ana", "A-1")) == [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1"}]}
    ]
    assert shape.rendered(("Ana", "A-1")) == "Hi Ana, order A-1 (Ana) shipped."


def test_named_variables_carry_their_names_in_order_of_appearance():
    """Meta's named parameters: each body parameter names its variable (`parameter_name`)."""
    shape = TemplateShape.from_definition(
        definition({"type": "BODY", "text": "Hi {{first_name}}, {{order}}"}, parameter_format="NAMED")
    )

    assert shape.components(("Ana", "A-1"))[0]["parameters"] == [
        {"type": "text", "text": "Ana", "parameter_name": "first_name"},
        {"type": "text", "text": "A-1", "parameter_name": "order"},
    ]


def test_a_template_without_variables_sends_no_components():
    assert TemplateShape.from_definition(definition({"type": "BODY", "text": "Hello"})).components(()) == []


@pytest.mark.parametrize(
    ("component", "reason"),
    [
        ({"type": "HEADER", "format": "IMAGE"}, "its header takes a variable or media"),
        ({"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, "its header takes a variable or media"),
        ({"type": "BUTTONS", "buttons": [{"type": "URL", "url": "https://x.example/{{1}}"}]}, "a button takes"),
    ],
)
def test_a_template_whose_header_or_buttons_need_values_is_refused(component, reason):
    shape = TemplateShape.from_definition(definition({"type": "BODY", "text": "Hello"}, component))
    request = parse(event(to="15550001111", template="t", phoneNumberId=NUMBER))

    with pytest.raises(OutreachRefused) as refused:
        shape.check(request)

    assert reason in str(refused.value)


def test_a_definition_that_is_not_metas_template_object_is_refused():
    with pytest.raises(OutreachRefused):
        TemplateShape.from_definition("not json")
    with pytest.raises(OutreachRefused):
        TemplateShape.from_definition(json.dumps({"name": "t"}))


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ({"attribute_caseId": "C-\ud800"}, "parameter 'attribute_caseId' is not text"),
        ({"parameter1": "Ana \udfff"}, "parameter 'parameter1' is not text"),
    ],
)
def test_a_parameter_holding_a_lone_surrogate_is_refused_saying_which_never_a_traceback(parameters, reason):
    """A lone UTF-16 surrogate (JSON "\\ud800" decodes to one) cannot be encoded to UTF-8: not for the attributes'
    size, nor for End User Messaging or DynamoDB. The flow is told which parameter, as for any malformed one."""
    with pytest.raises(OutreachRefused) as refused:
        parse(event(to="15550001111", template="t", phoneNumberId=NUMBER, **parameters))

    assert reason in str(refused.value)
