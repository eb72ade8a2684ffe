"""The outreach function's use case: check the template, send it, record it, answer the flow.

The number's account (`waba-…`) comes from GetLinkedWhatsAppBusinessAccountPhoneNumber; the template must exist in
it with status APPROVED (GetWhatsAppMessageTemplate, or ListWhatsAppMessageTemplates, see `_template`), and its
definition must take as many body parameters as the flow gave. The send is recorded under the conversation
(`outreach_records`) so the customer's reply carries the outreach's attributes and the agent sees what was sent
(`inbound.outreach_reply`). A repeated invocation with the same request answers from the record and sends nothing
twice, unless its send failed for a temporary reason (`unsent`: the flow may try again) or its invocation ended
mid-send (`sending` for longer than the function's timeout: sent again, as in doubt). The flow always gets a flat
map `{"result": "sent" | "refused", "reason": one line}` (plus `messageId` when sent), never a traceback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from whatsapp_buffer import clock
from whatsapp_buffer.errors import (
    LookupRefused,
    OutreachRefused,
    TransientAwsError,
    WhatsAppBufferError,
    WhatsAppRefused,
)
from whatsapp_buffer.model import (
    OUTREACH_REFUSED,
    OUTREACH_SENDING,
    OUTREACH_SENT,
    OUTREACH_UNSENT,
    Conversation,
    OutreachRecord,
    Template,
    eum_number_suffix,
)
from whatsapp_buffer.observability import count, logger
from whatsapp_buffer.outreach.ports import OutreachRecords, TemplateSummary, WhatsApp
from whatsapp_buffer.outreach.request import OutreachRequest, TemplateShape, parse
from whatsapp_buffer.settings import OUTREACH_TIMEOUT_SECONDS

APPROVED = "APPROVED"
RECORD_DAYS = 7
"""How long a customer's reply still starts a chat that carries the outreach (and shows it to the agent)."""
SHOWN_CHARS = 1000


def refused(reason: str) -> dict[str, str]:
    return {"result": "refused", "reason": reason[:300]}


@dataclass
class Outreach:
    whatsapp: WhatsApp
    records: OutreachRecords
    phone_number_ids: tuple[str, ...] = ()
    """`whatsappPhoneNumberIds`: the numbers the stack may use (empty: every number of the account)."""
    now: Callable[[], float] = clock.now

    def handle(self, event: Any) -> dict[str, str]:
        try:
            request = parse(event)
            answer = self._send(request)
        except OutreachRefused as refusal:
            count("OutreachRefused")
            logger.info("outreach refused", reason=str(refusal))
            return refused(str(refusal))
        except WhatsAppBufferError as exc:
            # A service failure this module does not expect to refuse on: still one answer the flow can branch on.
            count("OutreachRefused")
            logger.warning("outreach failed", error=type(exc).__name__)
            return refused(f"temporarily unavailable ({type(exc).__name__}); try again")
        count("OutreachSent")
        return answer

    def _send(self, request: OutreachRequest) -> dict[str, str]:
        allowed = {eum_number_suffix(n) for n in self.phone_number_ids}
        if allowed and request.number_suffix not in allowed:
            raise OutreachRefused("this stack may not send from that number (whatsappPhoneNumberIds)")
        number = self._lookup(lambda: self.whatsapp.linked_number(request.phone_number_id), "the business number")
        definition, status = self._template(number.waba_id, request)
        if status.upper() != APPROVED:
            raise OutreachRefused(f"template {request.template} is {status or 'not approved'}, not APPROVED")
        shape = TemplateShape.from_definition(definition)
        shape.check(request)
        conversation = Conversation(number.meta_phone_number_id, request.to).key
        record = OutreachRecord(
            conversation=conversation,
            request=_digest(request),
            template=request.template,
            language=request.language,
            shown_text=shape.rendered(request.parameters)[:SHOWN_CHARS],
            attributes={**request.attributes, "outreachTemplate": request.template}
            | ({"outreachContactId": request.asked_by} if request.asked_by else {}),
            sent_at=self.now(),
            expires_at=int(self.now() + RECORD_DAYS * 86400),
        )
        if not self._claim(record):
            return self._repeated(conversation)
        try:
            message_id = self.whatsapp.send_template(
                request.phone_number_id,
                request.to,
                Template(request.template, request.language),
                shape.components(request.parameters),
            )
        except WhatsAppRefused as exc:
            self._settle(record, OUTREACH_REFUSED)
            raise OutreachRefused(f"End User Messaging refused the send: {_cause(exc)}") from exc
        except TransientAwsError as exc:
            # Not sent (throttled, unreachable) or in doubt (a read timeout: WhatsApp may have taken it, and its send
            # has no idempotency key). As for an agent reply in doubt (docs/faults.md), the flow asking the same
            # again sends it again: a template twice rather than none.
            self._settle(record, OUTREACH_UNSENT)
            raise OutreachRefused(f"End User Messaging is unavailable (the send: {_cause(exc)}); try again") from exc
        if not self._settle(record, OUTREACH_SENT, message_id):
            # Sent all the same: the reply starts a chat without the outreach's attributes.
            count("OutreachNotRecorded")
        logger.info("outreach sent", template=request.template, message_id=message_id, asked_by=request.asked_by)
        return {"result": "sent", "reason": f"template {request.template} sent", "messageId": message_id}

    def _template(self, waba_id: str, request: OutreachRequest) -> tuple[str, str]:
        """The template's definition and status. One call in the usual case: GetWhatsAppMessageTemplate by name and
        language, its status read from the definition (Meta's template object has `status`). When the service will not
        look a template up by name (an older API asked for `metaTemplateId` only) or the definition carries no status,
        the account's list (ListWhatsAppMessageTemplates, every page) gives the id and the documented
        `templateStatus`."""
        wanted = TemplateSummary(request.template, request.language, "", None)
        try:
            definition = self.whatsapp.template_definition(waba_id, wanted)
        except LookupRefused as exc:
            if exc.code == "ResourceNotFoundException":
                raise OutreachRefused(self._unknown(request)) from exc
            definition = None
        except TransientAwsError as exc:
            raise OutreachRefused("End User Messaging is unavailable (the template); try again") from exc
        status = TemplateShape.status_of(definition) if definition is not None else ""
        if definition is not None and status:
            return definition, status
        summary = self._lookup(
            lambda: self.whatsapp.find_template(waba_id, request.template, request.language), "the template"
        )
        if summary is None:
            raise OutreachRefused(self._unknown(request))
        if definition is None:
            definition = self._lookup(lambda: self.whatsapp.template_definition(waba_id, summary), "the template")
        return definition, summary.status

    @staticmethod
    def _unknown(request: OutreachRequest) -> str:
        return f"unknown template {request.template} ({request.language}) in the number's account"

    def _settle(self, record: OutreachRecord, state: str, message_id: str = "") -> bool:
        try:
            return self.records.settle(record.conversation, record.request, state, message_id)
        except TransientAwsError:
            logger.warning("outreach record not settled", state=state)
            return False

    def _claim(self, record: OutreachRecord) -> bool:
        """A claim older than the function's timeout belongs to an invocation Lambda ended (a timeout, a crash) before
        it recorded the outcome: taken over and sent again. That send may have gone; as for an agent reply in doubt
        (docs/faults.md), a template twice rather than none."""
        try:
            return self.records.claim(record, stale_before=record.sent_at - OUTREACH_TIMEOUT_SECONDS)
        except TransientAwsError as exc:
            raise OutreachRefused("could not record the outreach (DynamoDB unavailable); nothing was sent") from exc

    def _repeated(self, conversation: str) -> dict[str, str]:
        """The same request again (a flow that invokes the block twice): answered from the record, never resent."""
        earlier = self.records.get(conversation)
        if earlier is not None and earlier.state == OUTREACH_SENT:
            return {"result": "sent", "reason": "already sent for this request", "messageId": earlier.message_id}
        if earlier is not None and earlier.state == OUTREACH_SENDING:
            raise OutreachRefused(
                "the same request is being sent; if that attempt failed, ask again in "
                f"{OUTREACH_TIMEOUT_SECONDS} seconds"
            )
        raise OutreachRefused("the same request is being sent or was refused; ask again with other parameters")

    @staticmethod
    def _lookup(call: Callable[[], Any], what: str) -> Any:
        try:
            return call()
        except LookupRefused as exc:
            raise OutreachRefused(f"End User Messaging could not find or read {what}: {_cause(exc)}") from exc
        except TransientAwsError as exc:
            raise OutreachRefused(f"End User Messaging is unavailable ({what}); try again") from exc


def _digest(request: OutreachRequest) -> str:
    seed = json.dumps(
        [request.asked_by, request.to, request.template, request.language, request.parameters, request.attributes],
        sort_keys=True,
    )
    return hashlib.sha256(seed.encode()).hexdigest()


def _cause(exc: Exception) -> str:
    """The service's own one-line message (its error code and text), without the customer's number."""
    return " ".join(str(exc.__cause__ or exc).split())[:200]
