"""End User Messaging Social's number and template lookups, and how WhatsApp checks a template send: part of the one
End User Messaging fake (`socialmessaging.SocialMessagingBackend.templates`), in its own module for size.

Each rule and its source is listed on `WhatsAppTemplates` and pinned in `tests/contract/test_template_rules.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.fakes.rest_json import ApiError

VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MAX_DEFINITION_CHARS = 6000
"""botocore GetWhatsAppMessageTemplate.template: max 6,000."""
APPROVED = "APPROVED"


def suffix_of(resource_id: str) -> str:
    """`waba-abc`, `arn:…:waba/abc`, `phone-number-id-abc`, `arn:…:phone-number-id/abc` -> `abc`."""
    tail = resource_id.rsplit("/", 1)[-1]
    return tail.removeprefix("waba-").removeprefix("phone-number-id-")


@dataclass(frozen=True)
class FakeTemplate:
    name: str
    language: str = "en_US"
    status: str = APPROVED
    parameters: int = 0
    text: str | None = None
    category: str = "UTILITY"
    meta_id: str = "0"

    @property
    def body(self) -> str:
        if self.text is not None:
            return self.text
        return " ".join([f"Message {self.name}:", *(f"{{{{{i}}}}}" for i in range(1, self.parameters + 1))])

    def definition(self) -> str:
        template = {
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.meta_id,
            "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": self.body}],
        }
        return json.dumps(template, ensure_ascii=False)[:MAX_DEFINITION_CHARS]

    @property
    def body_variables(self) -> int:
        return len(dict.fromkeys(VARIABLE.findall(self.body)))


@dataclass
class WhatsAppTemplates:
    """The account's WABAs: which number belongs to which (with Meta's id of it) and each WABA's templates.

    Rules and their sources:
    * GetLinkedWhatsAppBusinessAccountPhoneNumber (botocore): "Retrieve the WABA account id and phone number details of a
      WhatsApp business account phone number"; `linkedWhatsAppBusinessAccountId` "formatted as `waba-0123…`",
      `phoneNumber.metaPhoneNumberId` "The phone number ID from Meta". A number the account does not have:
      ResourceNotFoundException (a declared error of the operation).
    * GetLinkedWhatsAppBusinessAccount(`id` "formatted as waba-0123…"): "Get the details of your linked WhatsApp
      Business Account" — `account` with the required `arn`, `id`, `wabaId`, `registrationStatus` (COMPLETE or
      INCOMPLETE), `linkDate`, `wabaName`, `eventDestinations` ("The event destinations for the linked WhatsApp
      Business Account", each `eventDestinationArn`) and `phoneNumbers`. PutWhatsAppBusinessAccountEventDestinations:
      "A WABA can only have one event destination at a time". An unknown WABA: ResourceNotFoundException.
    * ListLinkedWhatsAppBusinessAccounts(`maxResults` 1-100, `nextToken`): "List all WhatsApp Business Accounts
      linked to your Amazon Web Services account" — summaries with the same required members but `phoneNumbers`.
    * ListWhatsAppMessageTemplates(`id` = the WABA, `maxResults` "(1-100)", `nextToken`): summaries with `templateName`,
      `metaTemplateId`, `templateStatus` "(for example, APPROVED, PENDING, or REJECTED)", `templateLanguage`,
      `templateCategory`. A WABA the account does not have: ResourceNotFoundException.
    * GetWhatsAppMessageTemplate(`id`, `metaTemplateId`, or `templateName` "together with `templateLanguageCode` as an
      alternative to `metaTemplateId`"): "The complete template definition as a JSON string (maximum 6000 characters)" —
      Meta's template object (Graph API "WhatsApp Business HSM": `name`, `language`, `status`, `category`, `id`,
      `components` with `{"type": "BODY", "text": …}`, `parameter_format`). Neither key: InvalidParametersException.
    * A template send (Meta Cloud API error codes): a name/language the WABA does not have, or a template not APPROVED,
      is refused with 132001 ("Template name does not exist in the translation"); a body parameter count other than the
      template's with 132000 ("Number of parameters does not match the expected number of params"). Third-party copies
      say these come back synchronously from the send (not as a `failed` status); how End User Messaging wraps them is
      not documented: the fake answers ValidationException naming Meta's code. A WABA the sandbox declared no templates
      for takes any template (as before this module; the re-engagement template of older traces).
    """

    numbers: dict[str, tuple[str, str]] = field(default_factory=dict)
    """End User Messaging number suffix -> (Meta's phone number id, WABA suffix)."""
    templates: dict[str, dict[tuple[str, str], FakeTemplate]] = field(default_factory=dict)
    """WABA suffix -> (name, language) -> template."""
    event_destinations: dict[str, str] = field(default_factory=dict)
    """WABA suffix -> its one event destination's ARN (none: the WABA sends its events nowhere)."""
    _next_meta_id: int = 1_000_000_000_000_000

    def link_number(self, phone_number_id: str, meta_phone_number_id: str, waba: str) -> None:
        self.numbers[suffix_of(phone_number_id)] = (meta_phone_number_id, suffix_of(waba))

    def add(self, waba: str, template: FakeTemplate) -> FakeTemplate:
        """The WABA has (or now has, replacing the same name and language) `template`."""
        self._next_meta_id += 1
        if template.meta_id == "0":
            template = FakeTemplate(**{**template.__dict__, "meta_id": str(self._next_meta_id)})
        self.templates.setdefault(suffix_of(waba), {})[(template.name, template.language)] = template
        return template

    # ---------------------------------------------------------------- API

    def get_linked_whatsapp_business_account_phone_number(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        suffix = suffix_of(params["id"])
        if suffix not in self.numbers:
            raise ApiError("ResourceNotFoundException", f"phone number {params['id']} not found")
        return {
            "phoneNumber": self._number(suffix),
            "linkedWhatsAppBusinessAccountId": f"waba-{self.numbers[suffix][1]}",
        }

    def _number(self, suffix: str) -> dict[str, str]:
        return {
            "arn": f"arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/{suffix}",
            "phoneNumber": "+15550100000",
            "phoneNumberId": f"phone-number-id-{suffix}",
            "metaPhoneNumberId": self.numbers[suffix][0],
            "displayPhoneNumberName": "Sandbox",
            "displayPhoneNumber": "+1 555-010-0000",
            "qualityRating": "GREEN",
        }

    def get_linked_whatsapp_business_account(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        waba = suffix_of(params["id"])
        self._waba(params["id"])
        destination = self.event_destinations.get(waba)
        numbers = [number for number, (_, owner) in self.numbers.items() if owner == waba]
        return {
            "account": {
                "arn": f"arn:aws:social-messaging:us-east-1:123456789012:waba/{waba}",
                "id": f"waba-{waba}",
                "wabaId": "100000000000000",
                "registrationStatus": "COMPLETE",
                "linkDate": at,
                "wabaName": "Sandbox",
                "eventDestinations": [{"eventDestinationArn": destination}] if destination else [],
                "phoneNumbers": [self._number(number) for number in numbers],
            }
        }

    def list_linked_whatsapp_business_accounts(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        wabas = sorted({*self.templates, *(w for _, w in self.numbers.values()), *self.event_destinations})
        size = int(params.get("maxResults") or 100)
        start = int(params.get("nextToken") or 0)
        accounts = []
        for waba in wabas[start : start + size]:
            account = self.get_linked_whatsapp_business_account({"id": f"waba-{waba}"}, at)["account"]
            del account["phoneNumbers"]
            accounts.append(account)
        answer: dict[str, Any] = {"linkedAccounts": accounts}
        if start + size < len(wabas):
            answer["nextToken"] = str(start + size)
        return answer

    def list_whatsapp_message_templates(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        rows = sorted(self._waba(params["id"]).values(), key=lambda t: (t.name, t.language))
        size = int(params.get("maxResults") or 100)
        start = int(params.get("nextToken") or 0)
        page = rows[start : start + size]
        answer: dict[str, Any] = {
            "templates": [
                {
                    "templateName": t.name,
                    "metaTemplateId": t.meta_id,
                    "templateStatus": t.status,
                    "templateLanguage": t.language,
                    "templateCategory": t.category,
                }
                for t in page
            ]
        }
        if start + size < len(rows):
            answer["nextToken"] = str(start + size)
        return answer

    def get_whatsapp_message_template(self, params: dict[str, Any], at: float) -> dict[str, Any]:
        templates = self._waba(params["id"])
        meta_id, name, language = (
            params.get("metaTemplateId"),
            params.get("templateName"),
            params.get("templateLanguageCode"),
        )
        if meta_id:
            found = next((t for t in templates.values() if t.meta_id == meta_id), None)
        elif name and language:
            found = templates.get((name, language))
        else:
            raise ApiError("InvalidParametersException", "metaTemplateId, or templateName with templateLanguageCode")
        if found is None:
            raise ApiError("ResourceNotFoundException", "template not found")
        return {"template": found.definition()}

    # ---------------------------------------------------------------- sends

    def check_send(self, origination: str, template: Mapping[str, Any]) -> None:
        """What WhatsApp checks of a template message from `origination` against its WABA's templates."""
        linked = self.numbers.get(suffix_of(origination))
        known = self.templates.get(linked[1]) if linked else None
        if not known:
            return
        language = template.get("language") or {}
        found = known.get(
            (str(template.get("name")), str(language.get("code") if isinstance(language, Mapping) else ""))
        )
        if found is None or found.status != APPROVED:
            raise ApiError("ValidationException", "(#132001) Template name does not exist in the translation")
        given = 0
        for component in template.get("components") or []:
            if isinstance(component, Mapping) and str(component.get("type")).lower() == "body":
                given = len(component.get("parameters") or [])
        if given != found.body_variables:
            raise ApiError(
                "ValidationException",
                "(#132000) Number of parameters does not match the expected number of params: body: number of "
                f"localizable_params ({given}) does not match the expected number of params ({found.body_variables})",
            )

    def _waba(self, waba_id: str) -> dict[tuple[str, str], FakeTemplate]:
        suffix = suffix_of(waba_id)
        if suffix not in {*self.templates, *self.event_destinations, *(w for _, w in self.numbers.values())}:
            raise ApiError("ResourceNotFoundException", f"WhatsApp Business Account {waba_id} not found")
        return self.templates.get(suffix, {})
