"""The replay's IAM check reads End User Messaging Social and Transcribe resources from the Service Authorization
Reference as parliament ships it, and keeps the actions parliament lacks in one table that cites the reference.

"Actions, resources, and condition keys for AWS End User Messaging Social"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsendusermessagingsocial.html): resource
types `phone-number-id` = `arn:${Partition}:social-messaging:${Region}:${Account}:phone-number-id/
${OriginationPhoneNumberId}` and `waba` = `…:waba/${WabaId}`; parliament 1.6.4 has SendWhatsAppMessage,
GetWhatsAppMessageMedia, PostWhatsAppMessageMedia, GetLinkedWhatsAppBusinessAccountPhoneNumber (`phone-number-id*`)
but neither ListWhatsAppMessageTemplates nor GetWhatsAppMessageTemplate. Transcribe: GetTranscriptionJob on
`transcription-job/${JobName}`, StartTranscriptionJob with no resource type and the dependent action s3:GetObject.
"""

from __future__ import annotations

import json

import pytest
from infra_helpers import operations_called

from sandbox import iam_check
from sandbox.iam_reference import NOT_IN_PARLIAMENT, NotInReference, _definition_path, _service, resource_types
from sandbox.program import ACCOUNT_ID, DEFAULT_REGION

ACCOUNT = iam_check.Account(region=DEFAULT_REGION, account_id=ACCOUNT_ID)
BASE = f"arn:aws:social-messaging:{DEFAULT_REGION}:{ACCOUNT_ID}"


def _parliament_actions(prefix: str) -> set[str]:
    (service,) = [s for s in json.loads(_definition_path().read_text(encoding="utf-8")) if s["prefix"] == prefix]
    return {p["privilege"] for p in service["privileges"]}


@pytest.mark.parametrize(("prefix", "action"), sorted(NOT_IN_PARLIAMENT))
def test_each_action_kept_by_hand_is_one_parliament_still_lacks(prefix, action):
    """When parliament gains the action, this fails: drop its row from NOT_IN_PARLIAMENT and read it from parliament."""
    assert action not in _parliament_actions(prefix), f"parliament now has {prefix}:{action}: retire its row"


@pytest.mark.parametrize(("prefix", "action"), sorted(NOT_IN_PARLIAMENT))
def test_each_row_cites_the_reference_page_and_names_resource_types_the_reference_defines(prefix, action):
    page, types = NOT_IN_PARLIAMENT[(prefix, action)]
    _, templates = _service(prefix)
    assert page.startswith("https://docs.aws.amazon.com/service-authorization/latest/reference/list_")
    assert types and all(name in templates for name, _ in types)


@pytest.mark.parametrize(
    ("botocore_name", "prefix"), [("socialmessaging", "social-messaging"), ("transcribe", "transcribe")]
)
def test_every_call_the_functions_make_is_in_the_reference_or_the_table(botocore_name, prefix):
    called = operations_called(botocore_name)
    assert called, f"the runtime calls {botocore_name}"
    for operation in sorted(called):
        resource_types(prefix, operation)  # raises NotInReference for an action neither knows


@pytest.mark.parametrize(
    ("operation", "params", "arn"),
    [
        ("SendWhatsAppMessage", {"originationPhoneNumberId": "phone-number-id-abc"}, f"{BASE}:phone-number-id/abc"),
        (
            "SendWhatsAppMessage",
            {"originationPhoneNumberId": f"{BASE}:phone-number-id/abc"},
            f"{BASE}:phone-number-id/abc",
        ),
        ("GetLinkedWhatsAppBusinessAccountPhoneNumber", {"id": "phone-number-id-abc"}, f"{BASE}:phone-number-id/abc"),
        ("ListWhatsAppMessageTemplates", {"id": "waba-123"}, f"{BASE}:waba/123"),
        ("GetWhatsAppMessageTemplate", {"id": f"{BASE}:waba/123", "metaTemplateId": "9"}, f"{BASE}:waba/123"),
    ],
)
def test_an_end_user_messaging_call_is_checked_on_the_resource_its_request_names(operation, params, arn):
    (request,) = iam_check.required("social-messaging", operation, params, ACCOUNT)
    assert (request.action, request.resource) == (f"social-messaging:{operation}", arn)


def test_an_end_user_messaging_call_that_names_no_number_is_an_error_not_a_pass():
    with pytest.raises(NotInReference, match="SendWhatsAppMessage requires a phone-number-id"):
        iam_check.required("social-messaging", "SendWhatsAppMessage", {"message": b"{}"}, ACCOUNT)


def test_transcribe_calls_are_checked_on_the_job_and_on_the_media_the_reference_makes_a_dependent_action():
    (get,) = iam_check.required("transcribe", "GetTranscriptionJob", {"TranscriptionJobName": "j-1"}, ACCOUNT)
    start = iam_check.required(
        "transcribe",
        "StartTranscriptionJob",
        {"TranscriptionJobName": "j-1", "Media": {"MediaFileUri": "s3://b/inbound/x"}},
        ACCOUNT,
    )
    assert (get.action, get.resource) == (
        "transcribe:GetTranscriptionJob",
        f"arn:aws:transcribe:{DEFAULT_REGION}:{ACCOUNT_ID}:transcription-job/j-1",
    )
    assert [(r.action, r.resource) for r in start] == [
        ("transcribe:StartTranscriptionJob", "*"),
        ("s3:GetObject", "arn:aws:s3:::b/inbound/x"),
    ]
