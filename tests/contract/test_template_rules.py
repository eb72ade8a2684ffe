"""End User Messaging's number and template lookups and WhatsApp's checks of a template send, as the fake enforces them
(`sandbox/fakes/templates.py`), each test quoting its source."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.exceptions import ClientError

from sandbox.fakes.templates import FakeTemplate

NUMBER = "phone-number-id-5f811eaa4c81499384c496b909afbb1a"
META_NUMBER = "106540352242922"
WABA = "waba-7e0c7d1b2a3f4e5d6c7b8a9f0e1d2c3b"
MODEL = botocore.session.get_session().get_service_model("socialmessaging")


def _doc(operation: str, member: str | None = None, output: bool = False) -> str:
    model = MODEL.operation_model(operation)
    if member is None:
        return model.documentation
    shape = model.output_shape if output else model.input_shape
    return shape.members[member].documentation


@pytest.fixture
def social(aws):
    aws.fake.social.templates.link_number(NUMBER, META_NUMBER, WABA)
    return aws.social


def _template(name: str = "order_update", **fields) -> FakeTemplate:
    return FakeTemplate(name=name, **fields)


def _send(social, template: dict, to: str = "15550001111") -> dict:
    message = {"messaging_product": "whatsapp", "to": to, "type": "template", "template": template}
    return social.send_whatsapp_message(
        originationPhoneNumberId=NUMBER, message=json.dumps(message).encode(), metaApiVersion="v20.0"
    )


def test_a_linked_number_names_its_business_account_and_metas_id_of_it(social):
    assert "Retrieve the WABA account id and phone number details" in _doc(
        "GetLinkedWhatsAppBusinessAccountPhoneNumber"
    )
    assert "waba-01234567890123456789012345678901" in _doc(
        "GetLinkedWhatsAppBusinessAccountPhoneNumber", "linkedWhatsAppBusinessAccountId", output=True
    )

    answer = social.get_linked_whatsapp_business_account_phone_number(id=NUMBER)

    assert answer["linkedWhatsAppBusinessAccountId"] == WABA
    assert answer["phoneNumber"]["metaPhoneNumberId"] == META_NUMBER


def test_a_number_the_account_does_not_have_is_not_found(social):
    errors = [e.name for e in MODEL.operation_model("GetLinkedWhatsAppBusinessAccountPhoneNumber").error_shapes]
    assert "ResourceNotFoundException" in errors

    with pytest.raises(ClientError) as refused:
        social.get_linked_whatsapp_business_account_phone_number(id="phone-number-id-0000aaaa")

    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_the_template_list_pages_by_max_results_and_names_status_and_language(aws, social):
    assert "(1-100)" in _doc("ListWhatsAppMessageTemplates", "maxResults")
    summary = MODEL.shape_for("TemplateSummary")
    assert "APPROVED, PENDING, or REJECTED" in summary.members["templateStatus"].documentation
    for index in range(3):
        aws.fake.social.templates.add(WABA, _template(f"t{index}", status="PENDING" if index else "APPROVED"))

    first = social.list_whatsapp_message_templates(id=WABA, maxResults=2)
    second = social.list_whatsapp_message_templates(id=WABA, maxResults=2, nextToken=first["nextToken"])

    rows = first["templates"] + second["templates"]
    assert "nextToken" not in second
    assert [(r["templateName"], r["templateStatus"], r["templateLanguage"]) for r in rows] == [
        ("t0", "APPROVED", "en_US"),
        ("t1", "PENDING", "en_US"),
        ("t2", "PENDING", "en_US"),
    ]
    assert all(r["metaTemplateId"].isdigit() for r in rows)


def test_a_template_definition_is_metas_template_object_as_a_json_string(aws, social):
    assert "The complete template definition as a JSON string (maximum 6000 characters)" in _doc(
        "GetWhatsAppMessageTemplate", "template", output=True
    )
    added = aws.fake.social.templates.add(WABA, _template(parameters=2, text="Hi {{1}}, order {{2}} shipped."))

    by_id = social.get_whatsapp_message_template(id=WABA, metaTemplateId=added.meta_id)
    by_name = social.get_whatsapp_message_template(id=WABA, templateName="order_update", templateLanguageCode="en_US")

    assert by_id["template"] == by_name["template"]
    definition = json.loads(by_id["template"])
    assert definition["status"] == "APPROVED"
    assert definition["components"] == [{"type": "BODY", "text": "Hi {{1}}, order {{2}} shipped."}]


def test_a_template_is_asked_for_by_metas_id_or_by_name_with_language(social):
    assert "Use together with <code>templateLanguageCode</code> as an alternative to <code>metaTemplateId</code>" in (
        _doc("GetWhatsAppMessageTemplate", "templateName")
    )

    with pytest.raises(ClientError) as neither:
        social.get_whatsapp_message_template(id=WABA, templateName="order_update")

    assert neither.value.response["Error"]["Code"] == "InvalidParametersException"


def test_templates_of_an_unknown_business_account_are_not_found(social):
    with pytest.raises(ClientError) as refused:
        social.list_whatsapp_message_templates(id="waba-ffff0000")

    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("template", "code"),
    [
        ({"name": "no_such_template", "language": {"code": "en_US"}}, "(#132001)"),
        ({"name": "spring_sale", "language": {"code": "en_US"}}, "(#132001)"),
        ({"name": "order_update", "language": {"code": "pt_BR"}}, "(#132001)"),
        (
            {
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
            },
            "(#132000)",
        ),
    ],
    ids=["unknown-name", "not-approved", "other-language", "wrong-parameter-count"],
)
def test_whatsapp_refuses_a_template_send_its_account_cannot_fill(aws, social, template, code):
    """Meta's error codes for a template send: 132001 "Template name does not exist in the translation", 132000
    "Number of parameters does not match the expected number of params" (its details: "body: number of
    localizable_params (0) does not match the expected number of params (1)"). Answered synchronously (third-party
    error guides: "Normally an immediate API error ... not a failed-status webhook"); End User Messaging's wrapping of
    them is not documented: ValidationException naming the code."""
    aws.fake.social.templates.add(WABA, _template(parameters=2))
    aws.fake.social.templates.add(WABA, _template("spring_sale", status="PENDING"))

    with pytest.raises(ClientError) as refused:
        _send(social, template)

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert code in refused.value.response["Error"]["Message"]
    assert aws.fake.whatsapp_sent == []


def test_an_approved_template_with_its_parameters_goes(aws, social):
    aws.fake.social.templates.add(WABA, _template(parameters=2))
    body = [{"type": "text", "text": "Ana"}, {"type": "text", "text": "A-1"}]

    sent = _send(
        social,
        {"name": "order_update", "language": {"code": "en_US"}, "components": [{"type": "body", "parameters": body}]},
    )

    assert sent["messageId"].startswith("wamid.")
    assert aws.fake.whatsapp_sent[-1].type == "template"


def test_a_business_account_with_no_declared_templates_takes_any_template(social, aws):
    """The fake knows only the templates a test or trace declares; with none it cannot tell, and accepts (the
    re-engagement template of traces written before templates were modelled)."""
    sent = _send(social, {"name": "anything", "language": {"code": "en_US"}})

    assert sent["messageId"]
