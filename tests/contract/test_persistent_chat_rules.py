"""Amazon Connect's rules for persistent chat (StartChatContact.PersistentChat) and for the flow a chat starts in, as
the fake enforces them, each with its source: the botocore model's documentation strings (quoted from the model
itself where the test can read it) and the Administrator Guide's "Enable persistent chat" page
(https://docs.aws.amazon.com/connect/latest/adminguide/chat-persistence.html)."""

from __future__ import annotations

import re

import botocore.session
import pytest
from botocore.exceptions import ClientError

from sandbox.fakes import FakeServices
from sandbox.fakes.connect import TRANSCRIPT_DELAY_SECONDS
from tests.contract.conftest import error_code
from tests.fixtures.fakes import NO_RETRIES

CONNECT = botocore.session.get_session().get_service_model("connect")
START = CONNECT.operation_model("StartChatContact")


def _doc(shape, member: str) -> str:
    return re.sub(r"<[^>]+>", "", shape.members[member].documentation)


def _start(aws, **extra):
    return aws.connect.start_chat_contact(
        InstanceId="instance", ContactFlowId="flow", ParticipantDetails={"DisplayName": "Maria"}, **extra
    )


def _ended(aws, seconds_ago: float) -> str:
    """A chat the agent ended `seconds_ago` (virtual) seconds ago."""
    contact_id, _ = aws.open_chat()
    aws.fake.end_chat(contact_id)
    aws.clock[0] += seconds_ago
    return contact_id


def _continue(aws, source: str, kind: str = "ENTIRE_PAST_SESSION", **extra):
    return _start(aws, PersistentChat={"RehydrationType": kind, "SourceContactId": source}, **extra)


def test_an_ended_chat_whose_transcript_is_written_is_continued_and_the_answer_names_it(aws):
    """botocore StartChatContactResponse.ContinuedFromContactId: "The contactId from which a persistent chat session
    is started. This field is populated only for persistent chats."; PersistentChat.RehydrationType
    ENTIRE_PAST_SESSION: "provide the initialContactId of the past ended chat session in the sourceContactId
    field"."""
    assert "populated only for persistent chats" in _doc(START.output_shape, "ContinuedFromContactId")
    assert "initialContactId of the past ended chat session" in _doc(
        START.input_shape.members["PersistentChat"], "RehydrationType"
    )
    source = _ended(aws, TRANSCRIPT_DELAY_SECONDS)

    continued = _continue(aws, source)
    plain = _start(aws)

    assert continued["ContinuedFromContactId"] == source
    assert "ContinuedFromContactId" not in plain
    assert aws.fake.contact(continued["ContactId"]).continued_from_contact_id == source


def test_a_chat_still_going_cannot_be_continued(aws):
    """Admin guide, chat persistence: "Only chat sessions that have ended are allowed to rehydrate onto a new chat
    session"."""
    live, _ = aws.open_chat()

    with pytest.raises(ClientError) as refused:
        _continue(aws, live)

    assert error_code(refused) == "InvalidRequestException"


def test_a_chat_that_ended_moments_ago_cannot_be_continued_until_its_transcript_is_written(aws):
    """Admin guide: "ensure that your instance's S3 bucket for chat transcripts contains the past contact's
    transcript", and users "should wait 30-60 seconds before attempting to rehydrate": the fake writes it 60 s after
    the end (the documented upper bound), so a bridge that copes with the fake copes with any wait in that range."""
    assert TRANSCRIPT_DELAY_SECONDS == 60
    source = _ended(aws, TRANSCRIPT_DELAY_SECONDS - 1)

    with pytest.raises(ClientError) as refused:
        _continue(aws, source)
    aws.clock[0] += 1

    assert error_code(refused) == "InvalidRequestException"
    assert _continue(aws, source)["ContinuedFromContactId"] == source


def test_an_instance_that_stores_no_chat_transcripts_continues_no_chat(aws):
    """Admin guide: persistent chat needs the past transcript in the instance's chat-transcript bucket; an instance
    without chat-transcript storage has none."""
    fake = FakeServices(clock=lambda: aws.clock[0], chat_transcripts=False)
    connect = fake.client("connect", config=NO_RETRIES)
    started = connect.start_chat_contact(InstanceId="i", ContactFlowId="f", ParticipantDetails={"DisplayName": "M"})
    fake.end_chat(started["ContactId"])
    aws.clock[0] += 3600

    with pytest.raises(ClientError) as refused:
        connect.start_chat_contact(
            InstanceId="i",
            ContactFlowId="f",
            ParticipantDetails={"DisplayName": "M"},
            PersistentChat={"RehydrationType": "ENTIRE_PAST_SESSION", "SourceContactId": started["ContactId"]},
        )

    assert error_code(refused) == "InvalidRequestException"


def test_a_chat_is_continued_once_only(aws):
    """Admin guide: "you can only enable persistence of a SourceContactID on a new chat once"."""
    source = _ended(aws, 120)
    _continue(aws, source)

    with pytest.raises(ClientError) as refused:
        _continue(aws, source)

    assert error_code(refused) == "InvalidRequestException"


def test_a_chat_cannot_both_continue_and_be_related_to_a_contact(aws):
    """botocore StartChatContact.RelatedContactId: "You cannot provide data for both RelatedContactId and
    PersistentChat"."""
    assert "You cannot provide data for both RelatedContactId and PersistentChat" in _doc(
        START.input_shape, "RelatedContactId"
    )
    source = _ended(aws, 120)

    with pytest.raises(ClientError) as refused:
        _continue(aws, source, RelatedContactId=source)

    assert error_code(refused) == "InvalidRequestException"


def test_an_unknown_contact_cannot_be_continued(aws):
    """botocore StartChatContact declares ResourceNotFoundException ("The specified resource was not found")."""
    assert "ResourceNotFoundException" in [e.name for e in START.error_shapes]

    with pytest.raises(ClientError) as refused:
        _continue(aws, "00000000-0000-0000-0000-000000000000")

    assert error_code(refused) == "ResourceNotFoundException"


def test_a_persistent_chat_without_its_rehydration_type_is_refused(aws):
    """botocore PersistentChat.RehydrationType: "RehydrationType is required for persistent chat"."""
    assert "required for persistent chat" in _doc(START.input_shape.members["PersistentChat"], "RehydrationType")
    source = _ended(aws, 120)

    with pytest.raises(ClientError) as refused:
        _start(aws, PersistentChat={"SourceContactId": source})

    assert error_code(refused) == "InvalidParameterException"


def test_a_chat_in_a_flow_the_instance_does_not_have_is_refused():
    """botocore StartChatContact.ContactFlowId: "The identifier of the flow for initiating the chat"; an id the
    instance does not have is ResourceNotFoundException (a declared error)."""
    fake = FakeServices(clock=lambda: 0.0, contact_flow_ids=["flow-a", "flow-b"])
    connect = fake.client("connect", config=NO_RETRIES)

    for flow in ("flow-a", "flow-b"):
        started = connect.start_chat_contact(
            InstanceId="i", ContactFlowId=flow, ParticipantDetails={"DisplayName": "M"}
        )
        assert fake.contact(started["ContactId"]).contact_flow_id == flow
    with pytest.raises(ClientError) as refused:
        connect.start_chat_contact(InstanceId="i", ContactFlowId="flow-c", ParticipantDetails={"DisplayName": "M"})

    assert error_code(refused) == "ResourceNotFoundException"
