"""Where a new chat goes: the contact flow of the business number the customer wrote to, the contact attributes that
name that number, and how the chat is tied to the customer's previous one.

Pure: no boto3, no environment. A business number is known by two ids: Meta's phone number id (the webhook's
`metadata.phone_number_id`, part of the conversation key) and End User Messaging's (`phone-number-id-<id>`, whose
ARN `…:phone-number-id/<id>` every inbound event carries in `context.MetaPhoneNumberIds[].arn`). `contactFlows` may
name either; the End User Messaging id is looked up first. A previous chat that is over is continued as a persistent
chat (Connect shows the agent its transcript); when Connect refuses that, the new chat is only related to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from whatsapp_buffer.model import EUM_ID_PREFIX, eum_number_suffix

META_NUMBER_ATTRIBUTE = "whatsappPhoneNumberId"
"""Contact attribute: Meta's phone number id of the business number the customer wrote to."""
EUM_NUMBER_ATTRIBUTE = "whatsappEumPhoneNumberId"
"""Contact attribute: End User Messaging's id (`phone-number-id-…`) of that number."""


def eum_phone_number_id(origination: str) -> str:
    """`phone-number-id-<id>` from the number's ARN (`…:phone-number-id/<id>`) or id; empty when unknown."""
    if not origination:
        return ""
    if origination.startswith(EUM_ID_PREFIX):
        return origination
    suffix = eum_number_suffix(origination) if ":phone-number-id/" in origination else ""
    return f"{EUM_ID_PREFIX}{suffix}" if suffix else ""


@dataclass(frozen=True)
class ContactFlows:
    """The default flow (`contactFlowId`) and each business number's own (`contactFlows`)."""

    default: str
    by_number: Mapping[str, str] = field(default_factory=dict)

    def for_number(self, meta_phone_number_id: str, origination: str) -> str:
        eum_id = eum_phone_number_id(origination)
        return (
            (self.by_number.get(eum_id) if eum_id else None) or self.by_number.get(meta_phone_number_id) or self.default
        )


def business_number_attributes(meta_phone_number_id: str, origination: str) -> dict[str, str]:
    """The business number as contact attributes, so one flow can branch on it (both ids; an unknown one left out)."""
    attributes = {META_NUMBER_ATTRIBUTE: meta_phone_number_id}
    eum_id = eum_phone_number_id(origination)
    if eum_id:
        attributes[EUM_NUMBER_ATTRIBUTE] = eum_id
    return attributes


@dataclass(frozen=True)
class ChatLink:
    """How a new chat is tied to the customer's previous chat with the same business number: continued or related,
    never both (botocore StartChatContact.RelatedContactId: "You cannot provide data for both RelatedContactId and
    PersistentChat")."""

    continue_from: str | None = None
    """The previous chat's initial contact id, as PersistentChat's SourceContactId (ENTIRE_PAST_SESSION)."""
    related_to: str | None = None
    """RelatedContactId: the previous chat, when it cannot be continued (or Connect refused to)."""

    def __post_init__(self) -> None:
        if self.continue_from and self.related_to:
            raise ValueError("a chat is either related to the previous one or continues it, not both")


def link_to_previous(previous_contact_id: str | None, *, persistent_refused: bool = False) -> ChatLink:
    """A chat replacing an ended one continues it; after Connect refused that, it is related to it instead. The
    inbound function starts a new chat only when the previous one is over (ended, expired, or its token refused), so
    Connect's first rule ("Only chat sessions that have ended are allowed to rehydrate") is met or Connect says no."""
    if not previous_contact_id:
        return ChatLink()
    if persistent_refused:
        return ChatLink(related_to=previous_contact_id)
    return ChatLink(continue_from=previous_contact_id)
