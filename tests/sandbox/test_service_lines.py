"""A trace's `service` lines (sandbox/service_conditions.py): each refusal names the line; a valid line sets its
conditions on the replay's fake services and EventBridge path."""

from __future__ import annotations

import json
from types import SimpleNamespace

import botocore.session
import pytest

from sandbox import trace
from sandbox.fakes.services import SERVED

FIRST = '{"at": 0, "type": "whatsapp", "from": "15550100001", "text": "hi"}\n'
THROTTLE = {"operation": "connectparticipant:SendMessage", "error": "ThrottlingException", "times": 5}


def _read(tmp_path, service: dict[str, object]) -> list[trace.TraceEvent]:
    path = tmp_path / "trace.jsonl"
    path.write_text(FIRST + json.dumps({"at": 150, "type": "service", **service}) + "\n")
    return trace.read_trace(path)


@pytest.mark.parametrize(
    ("service", "reason"),
    [
        ({}, "needs transcribe_turnaround_seconds, events_lost or an error"),
        ({"events_lost": 1, "lose": 1}, r"does not take lose \(it takes transcribe_turnaround_seconds, "),
        ({"transcribe_turnaround_seconds": 0}, "'transcribe_turnaround_seconds' must be a number of seconds > 0"),
        ({"transcribe_turnaround_seconds": "90"}, "'transcribe_turnaround_seconds' must be a number of seconds > 0"),
        ({"transcribe_turnaround_seconds": True}, "'transcribe_turnaround_seconds' must be a number of seconds > 0"),
        ({"transcribe_turnaround_seconds": float("inf")}, "'transcribe_turnaround_seconds' must be a number of"),
        ({"transcribe_turnaround_seconds": 10**400}, "'transcribe_turnaround_seconds' must be a number of seconds"),
        ({"events_lost": 1.5}, "'events_lost' must be a share from 0 to 1"),
        ({"events_lost": -0.1}, "'events_lost' must be a share from 0 to 1"),
        (
            {"operation": "connectparticipant:SendMessage", "times": 5},
            r"needs operation, error, times \(missing error\)",
        ),
        ({**THROTTLE, "times": 0}, "'times' must be a whole number of calls >= 1"),
        ({**THROTTLE, "times": 2.5}, "'times' must be a whole number of calls >= 1"),
        ({**THROTTLE, "operation": "SendMessage"}, "'operation' 'SendMessage' is not one the fake serves"),
        ({**THROTTLE, "operation": "sqs:SendMessage"}, "'operation' 'sqs:SendMessage' is not one the fake serves"),
        ({**THROTTLE, "operation": "connect:DescribeUser"}, "'operation' 'connect:DescribeUser' is not one the fake"),
        ({**THROTTLE, "error": "ResourceNotFoundException"}, "SendMessage cannot return 'ResourceNotFoundException'"),
    ],
)
def test_a_service_line_the_sandbox_cannot_apply_is_a_trace_error_naming_the_line(tmp_path, service, reason):
    # GIVEN a trace whose second line is a service line with a wrong key or value
    # WHEN the sandbox reads it, THEN it refuses it with the line number and what is wrong
    with pytest.raises(trace.TraceError, match=f"line 2: .*{reason}"):
        _read(tmp_path, service)


def test_an_injected_error_is_one_the_botocore_model_lists_for_the_operation(tmp_path):
    # GIVEN botocore's model of Connect Participant's SendMessage, whose errors are exactly:
    model = botocore.session.get_session().get_service_model("connectparticipant").operation_model("SendMessage")
    listed = {shape.error_code for shape in model.error_shapes}
    assert listed == {"AccessDeniedException", "InternalServerException", "ThrottlingException", "ValidationException"}
    # WHEN a trace injects each of them, and an error other operations of the service return (ConflictException:
    # CompleteAttachmentUpload's), THEN only the listed ones are accepted
    for code in sorted(listed):
        assert _read(tmp_path, {**THROTTLE, "error": code})[1].data["error"] == code
    other = (
        botocore.session.get_session()
        .get_service_model("connectparticipant")
        .operation_model("CompleteAttachmentUpload")
    )
    assert "ConflictException" in {shape.error_code for shape in other.error_shapes}
    with pytest.raises(trace.TraceError, match="line 2: SendMessage cannot return 'ConflictException'"):
        _read(tmp_path, {**THROTTLE, "error": "ConflictException"})


@pytest.mark.parametrize("operation", sorted(f"{service}:{name}" for service, name in SERVED))
def test_every_operation_the_fake_serves_can_be_given_an_error_its_model_lists(tmp_path, operation):
    service, _, name = operation.partition(":")
    model = botocore.session.get_session().get_service_model(service).operation_model(name)
    code = model.error_shapes[0].error_code

    (_, line) = _read(tmp_path, {"operation": operation, "error": code, "times": 1})

    assert line.type == "service" and line.data["operation"] == operation


def test_a_service_line_sets_transcribes_turnaround_the_share_of_events_lost_and_an_error_for_the_next_calls(
    tmp_path,
):
    from sandbox import service_conditions

    # GIVEN a service line with every condition, and a replay's fake services and EventBridge path
    (_, line) = _read(tmp_path, {"transcribe_turnaround_seconds": 90, "events_lost": 0.5, **THROTTLE})
    injected = []
    fake = SimpleNamespace(
        transcribe=SimpleNamespace(turnaround_seconds=10.0),
        inject=lambda operation, code, times: injected.append((operation, code, times)),
    )
    replay = SimpleNamespace(services=SimpleNamespace(fake=fake), pipeline=SimpleNamespace(events=SimpleNamespace()))

    # WHEN the line's time comes
    service_conditions.apply(line.data, replay)

    # THEN Transcribe takes 90 s from now on, half the service events are lost and the next 5 SendMessage throttle
    assert fake.transcribe.turnaround_seconds == 90.0
    assert replay.pipeline.events.lose_events == 0.5
    assert injected == [("connectparticipant:SendMessage", "ThrottlingException", 5)]


def test_the_timeline_says_a_service_lines_conditions_at_its_time(tmp_path):
    from sandbox.timeline import render

    events = _read(tmp_path, {"transcribe_turnaround_seconds": 90, "events_lost": 1.0, **THROTTLE})

    rows = [row for row in render(events, {}).splitlines() if "services from now on" in row]

    assert rows == [
        "   150.0  services from now on   │ Transcribe takes 90 s a job; 100% of service events lost; "
        "connectparticipant:SendMessage answers ThrottlingException to the next 5"
    ]
