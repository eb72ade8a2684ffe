"""What a contact flow asks for, and whether the template can carry it (pure: no boto3, no clock).

The flow's *Invoke AWS Lambda function* block hands `Details.Parameters`, a flat map of strings (docs/deploy.md has
the encoding): `to`, `template`, `language`, `phoneNumberId`, `parameter1`…`parameterN` (the body's variables in
order) and `attribute_<key>` (contact attributes the customer's reply carries). A request or a template this module
cannot accept raises `OutreachRefused` with a one-line reason the flow branches on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from whatsapp_buffer import settings
from whatsapp_buffer.errors import OutreachRefused
from whatsapp_buffer.model import WA_ID, eum_number_suffix, is_user_id

PARAMETER_PREFIX = "parameter"
ATTRIBUTE_PREFIX = "attribute_"
KNOWN_KEYS = ("to", "template", "language", "phoneNumberId")
"""The keys `parse` reads by name besides `parameterN` and `attribute_<key>`: the flow in docs/ sends no others
(tests/docs/test_outreach_flow.py)."""
DEFAULT_LANGUAGE = "en_US"
MAX_PARAMETERS = 20
"""More body variables than any template the flow would fill by hand; a guard against a runaway parameter list."""
MAX_PARAMETER_CHARS = 1024
"""Meta: a template body is at most 1,024 characters; no one parameter can be longer."""
ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""botocore StartChatContact.Attributes: "Attribute keys can include only alphanumeric, dash, and underscore
characters" (the same rule UpdateContactAttributes states)."""
MAX_ATTRIBUTE_BYTES = 8192
"""What the outreach may add to a contact's attributes (Connect allows 32,768 bytes in all, the bridge's own and the
flow's need room too)."""
TEMPLATE_NAME = re.compile(settings.TEMPLATE_NAME)
LANGUAGE = re.compile(settings.TEMPLATE_LANGUAGE)
PHONE_NUMBER_ID = re.compile(
    rf"({settings.EUM_NUMBER_ID}|arn:[^:\s]+:social-messaging:[^:\s]*:\d*:phone-number-id/[0-9a-zA-Z]+)"
)
"""botocore's `id` pattern of GetLinkedWhatsAppBusinessAccountPhoneNumber: `phone-number-id-…` or its ARN."""
TO = re.compile(rf"\+?{WA_ID.pattern}")
"""Who a flow may name in `to`: a wa_id, also with a leading `+`."""
VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
"""A template variable: `{{1}}` (positional) or `{{first_name}}` (named, `parameter_format` NAMED)."""
_BAD_SPACING = re.compile(r"[\n\t]| {5,}")
_SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone UTF-16 surrogate (JSON "\\ud800" decodes to one): no UTF-8 encoding exists for it, so End User Messaging,
DynamoDB and the attributes' size in bytes could never take it."""


@dataclass(frozen=True)
class OutreachRequest:
    to: str
    """The customer: a wa_id (digits) or a BSUID."""
    template: str
    language: str
    phone_number_id: str
    parameters: tuple[str, ...]
    attributes: dict[str, str] = field(default_factory=dict)
    asked_by: str = ""
    """The contact whose flow asked (`Details.ContactData.ContactId`), for the record and the attributes."""

    @property
    def number_suffix(self) -> str:
        """The End User Messaging id without prefix or ARN: what `whatsappPhoneNumberIds` entries end with."""
        return eum_number_suffix(self.phone_number_id)


def parse(event: Any) -> OutreachRequest:
    """The flow's request, or `OutreachRefused` saying what is missing or malformed."""
    details = event.get("Details") if isinstance(event, Mapping) else None
    if not isinstance(details, Mapping) or not isinstance(details.get("Parameters", {}), Mapping):
        raise OutreachRefused("malformed event: not a contact flow's Lambda event (Details.Parameters)")
    parameters = details.get("Parameters") or {}
    contact_data = details.get("ContactData")
    contact: Mapping[str, Any] = contact_data if isinstance(contact_data, Mapping) else {}
    if any(not isinstance(value, str) for value in parameters.values()):
        raise OutreachRefused("malformed event: every parameter must be a string")
    for key, value in parameters.items():
        if _SURROGATE.search(value):
            named = _SURROGATE.sub("\ufffd", key)
            raise OutreachRefused(f"parameter '{named}' is not text (it holds a lone UTF-16 surrogate)")
    to = parameters.get("to", "").strip()
    if not to:
        raise OutreachRefused("missing parameter 'to' (the customer's WhatsApp number)")
    if not (TO.fullmatch(to) or is_user_id(to)):
        raise OutreachRefused("parameter 'to' is not a WhatsApp number (digits) or user id")
    template = parameters.get("template", "").strip()
    if not TEMPLATE_NAME.fullmatch(template):
        raise OutreachRefused("missing or malformed parameter 'template' (lowercase letters, digits, underscores)")
    language = parameters.get("language", "").strip() or DEFAULT_LANGUAGE
    if not LANGUAGE.fullmatch(language):
        raise OutreachRefused("parameter 'language' is not a template language code like en_US")
    number = parameters.get("phoneNumberId", "").strip()
    if not number:
        raise OutreachRefused("missing parameter 'phoneNumberId' (the business number's phone-number-id-...)")
    if not PHONE_NUMBER_ID.fullmatch(number):
        raise OutreachRefused("parameter 'phoneNumberId' is not an End User Messaging phone-number-id-... or its ARN")
    return OutreachRequest(
        to=to.removeprefix("+"),
        template=template,
        language=language,
        phone_number_id=number,
        parameters=_body_parameters(parameters),
        attributes=_attributes(parameters),
        asked_by=str(contact.get("ContactId") or ""),
    )


def _body_parameters(parameters: Mapping[str, str]) -> tuple[str, ...]:
    numbered: dict[int, str] = {}
    for key, value in parameters.items():
        suffix = key.removeprefix(PARAMETER_PREFIX)
        if key.startswith(PARAMETER_PREFIX) and suffix.isdigit():
            numbered[int(suffix)] = value
    if numbered and sorted(numbered) != list(range(1, len(numbered) + 1)):
        raise OutreachRefused("template parameters must be parameter1, parameter2, ... without gaps")
    if len(numbered) > MAX_PARAMETERS:
        raise OutreachRefused(f"at most {MAX_PARAMETERS} template parameters")
    values = tuple(numbered[i] for i in sorted(numbered))
    for index, value in enumerate(values, start=1):
        if not value.strip():
            raise OutreachRefused(f"parameter{index} is empty")
        if len(value) > MAX_PARAMETER_CHARS or _BAD_SPACING.search(value):
            raise OutreachRefused(
                f"parameter{index}: at most {MAX_PARAMETER_CHARS} characters, no line breaks, tabs or 5 spaces in a row"
            )
    return values


def _attributes(parameters: Mapping[str, str]) -> dict[str, str]:
    attributes = {
        key.removeprefix(ATTRIBUTE_PREFIX): value
        for key, value in parameters.items()
        if key.startswith(ATTRIBUTE_PREFIX)
    }
    bad = [key for key in attributes if not ATTRIBUTE_KEY.fullmatch(key)]
    if bad:
        raise OutreachRefused("attribute names may hold only letters, digits, '-' and '_' (1-128 characters)")
    if sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items()) > MAX_ATTRIBUTE_BYTES:
        raise OutreachRefused(f"the attributes to carry exceed {MAX_ATTRIBUTE_BYTES} bytes")
    return attributes


@dataclass(frozen=True)
class TemplateShape:
    """What a template's definition (GetWhatsAppMessageTemplate: Meta's template object as a JSON string) says the
    send must fill: the body's variables, in order of first appearance."""

    body: str
    variables: tuple[str, ...]
    named: bool
    unfilled: str | None = None
    """A component with variables or media the outreach does not fill (header, buttons), or None."""

    @classmethod
    def from_definition(cls, definition: str) -> TemplateShape:
        try:
            template = json.loads(definition)
        except ValueError:
            raise OutreachRefused("the template's definition is not JSON") from None
        components = template.get("components") if isinstance(template, Mapping) else None
        if not isinstance(components, list):
            raise OutreachRefused("the template's definition has no components")
        body, unfilled = "", None
        for component in components:
            if not isinstance(component, Mapping):
                continue
            kind = str(component.get("type") or "").upper()
            if kind == "BODY":
                body = str(component.get("text") or "")
            elif kind == "HEADER" and (
                str(component.get("format") or "TEXT").upper() != "TEXT" or VARIABLE.search(str(component.get("text")))
            ):
                unfilled = "its header takes a variable or media"
            elif kind == "BUTTONS" and VARIABLE.search(json.dumps(component.get("buttons") or [])):
                unfilled = "a button takes a variable"
        variables = tuple(dict.fromkeys(VARIABLE.findall(body)))
        named = str(template.get("parameter_format") or "").upper() == "NAMED" or any(
            not v.isdigit() for v in variables
        )
        return cls(body=body, variables=variables, named=named, unfilled=unfilled)

    @staticmethod
    def status_of(definition: str) -> str:
        """Meta's template object's `status` (APPROVED, PENDING, REJECTED, PAUSED, ...), or "" when it has none."""
        try:
            template = json.loads(definition)
        except ValueError:
            return ""
        return str(template.get("status") or "") if isinstance(template, Mapping) else ""

    def check(self, request: OutreachRequest) -> None:
        """Refuse what Meta would refuse (error 132000: "Number of parameters does not match the expected number of
        params") and what the outreach cannot fill."""
        if self.unfilled:
            raise OutreachRefused(f"template {request.template}: {self.unfilled}, which outreach does not fill")
        if len(request.parameters) != len(self.variables):
            raise OutreachRefused(
                f"template {request.template} takes {len(self.variables)} body parameter(s), "
                f"the flow gave {len(request.parameters)}"
            )

    def components(self, parameters: tuple[str, ...]) -> list[dict[str, Any]]:
        """Meta's `template.components` for the send: one body component, or none for a template without variables.
        Named variables carry `parameter_name` (Meta, "Named parameters")."""
        if not self.variables:
            return []
        filled = [
            {"type": "text", "text": value, **({"parameter_name": name} if self.named else {})}
            for name, value in zip(self.variables, parameters, strict=True)
        ]
        return [{"type": "body", "parameters": filled}]

    def rendered(self, parameters: tuple[str, ...]) -> str:
        """The body as the customer reads it (what the agent is shown before the reply)."""
        values = dict(zip(self.variables, parameters, strict=False))
        return VARIABLE.sub(lambda match: values.get(match.group(1), match.group(0)), self.body)
