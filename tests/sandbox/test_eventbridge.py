"""The sandbox's EventBridge path: rules and targets read from the program, events matched with the pattern language,
delivered to the target function as asynchronous invokes, refused where the function's resource policy does not admit
the rule, and a service's event emitted when its virtual-time turnaround ends even if nothing else happens then."""

from __future__ import annotations

import dataclasses

import pytest

from sandbox import filters
from sandbox.delivery.eventbridge import EventBridgeToLambda
from sandbox.delivery.scheduler import Scheduler, VirtualClock
from sandbox.program import ACCOUNT_ID, ResourceGraph, deployed_graph
from sandbox.wiring import PERMISSION, from_graph


@pytest.fixture(scope="module")
def graph():
    return deployed_graph({"transcribeLanguages": "en-US"}, stack="dev")


def transcribe_event(job, status="COMPLETED"):
    return {
        "version": "0",
        "id": "e1",
        "detail-type": "Transcribe Job State Change",
        "source": "aws.transcribe",
        "account": ACCOUNT_ID,
        "time": "2026-12-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"TranscriptionJobName": job, "TranscriptionJobStatus": status},
    }


def test_the_programs_rule_targets_inbound_and_matches_only_this_stacks_finished_jobs(graph):
    wiring = from_graph(graph, region="us-east-1", account_id=ACCOUNT_ID)
    (rule,) = wiring.event_rules
    bucket = graph.get("whatsapp-buffer-connect-bridge-media").outputs["bucket"]
    assert rule.function == "inbound" and rule.may_invoke
    assert filters.matches(rule.pattern, transcribe_event(f"{bucket}-5550007"))
    assert filters.matches(rule.pattern, transcribe_event(f"{bucket}-5550007", "FAILED"))
    assert not filters.matches(rule.pattern, transcribe_event(f"{bucket}-5550007", "IN_PROGRESS"))
    assert not filters.matches(rule.pattern, transcribe_event("another-stacks-bucket-5550007"))


def test_a_rule_whose_function_does_not_admit_eventbridge_is_refused(graph):
    without = ResourceGraph(
        [
            r
            for r in graph.resources
            if not (r.type == PERMISSION and r.inputs.get("principal") == "events.amazonaws.com")
        ],
        graph.stack_outputs,
    )
    (rule,) = from_graph(without, region="us-east-1", account_id=ACCOUNT_ID).event_rules
    assert not rule.may_invoke


class Source:
    """A service stand-in with one event due at `due`."""

    def __init__(self, due, event):
        self.due, self.event, self.sent = due, event, False

    def next_event_at(self):
        return None if self.sent else self.due

    def events_due(self, at):
        if self.sent or at < self.due:
            return []
        self.sent = True
        return [self.event]


class Functions:
    def __init__(self, clock):
        self.clock, self.invoked = clock, []

    def invoke(self, key, event):
        self.invoked.append((self.clock.elapsed, key, event["detail"]["TranscriptionJobName"]))
        return type("Invocation", (), {"ok": True})()


@pytest.mark.parametrize("admitted", [True, False])
def test_an_event_due_at_a_quiet_moment_is_delivered_on_time_once_and_only_where_admitted(graph, admitted):
    wiring = from_graph(graph, region="us-east-1", account_id=ACCOUNT_ID)
    wiring.event_rules = [dataclasses.replace(rule, may_invoke=admitted) for rule in wiring.event_rules]
    bucket = graph.get("whatsapp-buffer-connect-bridge-media").outputs["bucket"]
    clock = VirtualClock(1_000.0)
    path: EventBridgeToLambda | None = None
    scheduler = Scheduler(clock, settle=lambda: path.settle() if path else None)
    functions = Functions(clock)
    path = EventBridgeToLambda(wiring, scheduler, functions, dead_letters=None)
    path.attach(Source(1_090.0, transcribe_event(f"{bucket}-5550007")))
    scheduler.run(until=2_000.0)
    if admitted:
        assert functions.invoked == [(90.5, "inbound", f"{bucket}-5550007")] and path.refused == 0
    else:
        assert functions.invoked == [] and path.refused == 1


@pytest.mark.parametrize(("rate", "delivered"), [(1.0, 0), (0.0, 1)])
def test_a_replay_may_lose_the_services_events_which_then_never_reach_the_rule(graph, rate, delivered):
    """EventBridge events reference, "Amazon Transcribe events": "Delivery type: Best effort"."""
    wiring = from_graph(graph, region="us-east-1", account_id=ACCOUNT_ID)
    bucket = graph.get("whatsapp-buffer-connect-bridge-media").outputs["bucket"]
    clock = VirtualClock(1_000.0)
    path: EventBridgeToLambda | None = None
    scheduler = Scheduler(clock, settle=lambda: path.settle() if path else None)
    functions = Functions(clock)
    path = EventBridgeToLambda(wiring, scheduler, functions, dead_letters=None)
    path.lose_events = rate
    path.attach(Source(1_090.0, transcribe_event(f"{bucket}-5550007")))
    scheduler.run(until=2_000.0)
    assert len(functions.invoked) == delivered and len(path.lost) == 1 - delivered
