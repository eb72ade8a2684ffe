"""EventBridge -> Lambda: the events AWS services emit (Transcribe's job state changes), matched against the program's
rules and delivered to each rule's target function as an asynchronous invoke.

A source says when its next event is due (`next_event_at()`) and hands over the events due by then (`events_due(at)`);
the path wakes the scheduler at that time. Rules match with the event pattern language (sandbox.filters); a refused
invoke (the function's resource policy does not admit the rule) is counted, never delivered; `lose_events` drops a
seeded share of the best-effort events. The AWS rules and their sources: docs/sandbox.md#eventbridge-rules.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from sandbox import filters
from sandbox.delivery.dead_letters import DeadLetters
from sandbox.delivery.functions import AsyncDeliveryPath, Functions
from sandbox.delivery.scheduler import Scheduler
from sandbox.wiring import Wiring

EVENTBRIDGE_DELIVERY_DELAY = 0.5
"""Seconds from a service's event to the target's invoke (an assumption: EventBridge states no figure)."""


class EventSource(Protocol):
    def next_event_at(self) -> float | None: ...

    def events_due(self, at: float) -> list[dict[str, Any]]: ...


class EventBridgeToLambda(AsyncDeliveryPath):
    source = "eventbridge"

    def __init__(self, wiring: Wiring, scheduler: Scheduler, functions: Functions, dead_letters: DeadLetters) -> None:
        super().__init__(wiring, scheduler, functions, dead_letters)
        self.lose_events = 0.0
        """Share of the service events that never reach a rule (1.0: none arrives)."""
        self._loss = random.Random("eventbridge-loss")
        self.lost: list[dict[str, Any]] = []
        """The service events that never reached a rule."""
        self.sources: list[EventSource] = []
        self.delivered: list[tuple[float, str, dict[str, Any]]] = []
        """(trace seconds, function, event) of each event handed to a target."""
        self.refused = 0
        """Events a rule matched whose function's resource policy does not admit the rule."""
        self._wakeups: set[float] = set()
        self.duplicate_after: float | None = None
        """Set: every event also reaches its target a second time, this many seconds later (EventBridge delivers at
        least once; a replay can ask for the duplicate)."""

    def attach(self, source: EventSource) -> None:
        self.sources.append(source)

    def settle(self) -> None:
        """After each job: hand on the events due now; wake up when the next one is due."""
        for source in self.sources:
            for event in source.events_due(self.clock.now):
                self._route(event)
            due = source.next_event_at()
            if due is not None and due > self.clock.now and due not in self._wakeups:
                self._wakeups.add(due)
                self.scheduler.at(due, "eventbridge-wakeup", lambda: None)

    def _route(self, event: dict[str, Any]) -> None:
        if self.lose_events and self._loss.random() < self.lose_events:
            self.lost.append(event)
            return
        for rule in self.wiring.event_rules:
            if not filters.matches(rule.pattern, event):
                continue
            if not rule.may_invoke:
                self.refused += 1
                continue
            delays = [EVENTBRIDGE_DELIVERY_DELAY]
            if self.duplicate_after is not None:
                delays.append(EVENTBRIDGE_DELIVERY_DELAY + self.duplicate_after)
            self.deliver(rule.function, event, delays)

    def attempting(self, key: str, event: dict[str, Any]) -> None:
        self.delivered.append((self.clock.elapsed, key, event))
