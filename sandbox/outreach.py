"""The replay contract's `template` and `outreach` lines (docs/sandbox.md#tracejsonl): the WhatsApp Business Account's
templates, and a contact flow invoking the outreach function as Amazon Connect does (its *Invoke AWS Lambda function*
block).

A `template` line adds the template to the sandbox WABA in the End User Messaging fake (which every sandbox number is
linked to). An `outreach` line becomes Connect's Lambda event — `Details.ContactData` of the contact whose flow asks,
`Details.Parameters` in the documented encoding (docs/deploy.md) — invoked synchronously, but only if the program
let the instance invoke the function (association and permission, `wiring.connect_invocable`); the flow's answer is
the transcript's `outreach[]` entry `{at, to, template, result, reason}`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox import trace
from sandbox.fakes.templates import FakeTemplate

FUNCTION = "outreach"
FLOW_TIMEOUT_SECONDS = 8.0
"""Amazon Connect's *Invoke AWS Lambda function* block waits at most 8 seconds."""


def template_of(event: trace.TraceEvent) -> FakeTemplate:
    data = event.data
    return FakeTemplate(
        name=str(data["name"]),
        language=str(data.get("language") or "en_US"),
        status=str(data.get("status") or "APPROVED"),
        parameters=int(data.get("parameters") or 0),
        text=str(data["text"]) if isinstance(data.get("text"), str) else None,
    )


def parameters_of(event: trace.TraceEvent) -> dict[str, Any]:
    """The flow's `Details.Parameters` for an outreach line: only what the line says (a missing `to` stays missing,
    a value that is not a string stays what it is), so bad input reaches the function as a flow would send it."""
    data = event.data
    parameters: dict[str, Any] = {}
    for key in ("to", "template", "language"):
        if key in data:
            parameters[key] = data[key]
    if data.get("phone_number_id", trace.DEFAULT_PHONE_NUMBER_ID) is not None:
        parameters["phoneNumberId"] = f"phone-number-id-{trace.eum_phone_number_id(event.phone_number_id)}"
    values = data.get("parameters") or []
    for index, value in enumerate(values if isinstance(values, list) else [values], start=1):
        parameters[f"parameter{index}"] = value
    attributes = data.get("attributes") or {}
    if isinstance(attributes, dict):
        parameters.update({f"attribute_{key}": value for key, value in attributes.items()})
    return parameters


def connect_event(event: trace.TraceEvent, instance_arn: str) -> dict[str, Any]:
    """Amazon Connect admin guide, "Invoke AWS Lambda function" block, the event's shape: `Details.ContactData`
    (`ContactId`, `InitialContactId`, `Channel`, `InstanceARN`, `Attributes`, …) and `Details.Parameters`, with
    `Name` `ContactFlowEvent`."""
    contact_id = hashlib.sha1(f"outreach-flow:{event.line}".encode()).hexdigest()  # noqa: S324 - an id
    contact_id = f"{contact_id[:8]}-{contact_id[8:12]}-{contact_id[12:16]}-{contact_id[16:20]}-{contact_id[20:32]}"
    return {
        "Details": {
            "ContactData": {
                "ContactId": contact_id,
                "InitialContactId": contact_id,
                "Channel": "TASK",
                "InitiationMethod": "API",
                "InstanceARN": instance_arn,
                "Attributes": {},
            },
            "Parameters": parameters_of(event),
        },
        "Name": "ContactFlowEvent",
    }


def flow_answer(invocation: Any, seconds: float) -> tuple[str, str]:
    """(result, reason) as the flow sees it: the function's answer, or the block's Error branch."""
    if seconds > FLOW_TIMEOUT_SECONDS:
        return "refused", f"the function took {seconds:.1f} s, past the flow's {FLOW_TIMEOUT_SECONDS:.0f} s"
    if not invocation.ok:
        return "refused", f"the function failed ({invocation.error_type}): the flow takes its Error branch"
    answer = invocation.result if isinstance(invocation.result, dict) else {}
    if any(not isinstance(value, str) for value in answer.values()):
        return "refused", "the function's answer is not a flat map of strings"
    return str(answer.get("result") or "refused"), str(answer.get("reason") or "no reason given")
