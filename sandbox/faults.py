"""Fault injection for replays: `python -m sandbox replay TRACE --faults MIX[,MIX...]` (`--fault-rate`, `--seed`).

Faults are injected where they happen in AWS, so the code under test meets them the way it would in Lambda:

* in a function's worker process: throttling/5xx or a transaction cancelled by a concurrent one at the HTTP layer
  (the SDK's retries apply, where it has any), a crash right after a call succeeded, a Lambda timeout at a random
  point; or a botocore whose model lacks a parameter (`old-sdk`);
* in the delivery paths (sandbox.pipeline): SNS delivering an event twice, the stream mapping dropping a batch;
* in the fake Connect / End User Messaging service: throttling, 5xx and AccessDeniedException answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WorkerFault:
    """A fault inside one function's process."""

    kind: str
    """`error` (replace the answer of a call), `crash_after` (die right after the call succeeded), `timeout`, or
    `old_sdk` (the function's botocore does not know `parameter` of `service`'s `operation`; every call)."""
    rate: float
    service: str = "*"
    operation: str = "*"
    code: str = ""
    status: int = 500
    parameter: str = ""
    cancellation: tuple[str, ...] = ()
    """For an injected TransactionCanceledException: the reason code of each item of the transaction, in order."""

    def matches(self, service: str, operation: str) -> bool:
        return self.service in ("*", service) and self.operation in ("*", operation)


@dataclass(frozen=True)
class FakeFault:
    operation: str
    code: str
    status: int
    rate: float


@dataclass
class FaultPlan:
    """Everything one replay injects."""

    mixes: tuple[str, ...] = ()
    seed: int = 0
    worker: dict[str, list[WorkerFault]] = field(default_factory=dict)
    """function key (ingest, aggregator, inbound, outbound) -> its faults."""
    fake: list[FakeFault] = field(default_factory=list)
    sns_duplicate_rate: float = 0.0
    stream_drop_rate: float = 0.0
    """Share of stream batches (window invokes and final invokes) the mapping gives up on without handing them to the
    function: their metadata goes to the on-failure destination, the records are gone."""

    @property
    def label(self) -> str:
        return "+".join(self.mixes) or "none"

    def rng(self, salt: str) -> random.Random:
        return random.Random(f"{self.seed}:{salt}")


FUNCTIONS = ("ingest", "aggregator", "inbound", "outbound", "sweeper")


def _ddb(plan: FaultPlan, rate: float) -> None:
    for function in FUNCTIONS:
        plan.worker.setdefault(function, []).extend(
            [
                WorkerFault("error", rate, "dynamodb", "*", "ProvisionedThroughputExceededException", 400),
                WorkerFault("error", rate / 2, "dynamodb", "*", "InternalServerError", 500),
            ]
        )


def _ddb_conflict(plan: FaultPlan, rate: float) -> None:
    # Two ingests of one conversation at once (an album: one webhook per photo) both update its control item, and
    # DynamoDB cancels one: "There is an ongoing TransactWriteItems operation that conflicts with a concurrent
    # TransactWriteItems request. In this case the TransactWriteItems operation fails with a
    # TransactionCanceledException" (botocore DynamoDB model), reason "TransactionConflict" on the item in conflict.
    # The sandbox runs one ingest at a time, so the conflict is injected on ingest's transaction (seen, message, control).
    plan.worker.setdefault("ingest", []).append(
        WorkerFault(
            "error",
            rate,
            "dynamodb",
            "TransactWriteItems",
            "TransactionCanceledException",
            400,
            cancellation=("None", "None", "TransactionConflict"),
        )
    )


def _sns(plan: FaultPlan, rate: float) -> None:
    plan.sns_duplicate_rate = max(plan.sns_duplicate_rate, rate)


def _stream_drop(plan: FaultPlan, rate: float) -> None:
    # Lambda's DynamoDB parameters: MaximumRetryAttempts "The number of times to retry a record before it is bypassed.
    # If an OnFailure destination is set, metadata describing the records will be sent to the destination", and the
    # same for MaximumRecordAgeInSeconds (AWS SAM's event source reference; Lambda's services-ddb-params page:
    # DestinationConfig "destination for discarded records"). A dropped final invoke loses the window's state.
    plan.stream_drop_rate = max(plan.stream_drop_rate, rate)


def _crash_after_send(plan: FaultPlan, rate: float) -> None:
    # The aggregator dies after the burst reached the queue and before it marked the messages sent / settled control.
    plan.worker.setdefault("aggregator", []).append(WorkerFault("crash_after", rate, "sqs", "SendMessage"))


def _crash_mid_flush(plan: FaultPlan, rate: float) -> None:
    # The aggregator dies right after one of its UpdateItems succeeded: between two messages' claims (a partial claim),
    # between two marks sent (a partial mark: the burst is on the queue), after a touch or a settle.
    plan.worker.setdefault("aggregator", []).append(WorkerFault("crash_after", rate, "dynamodb", "UpdateItem"))


def _crash_after_tick(plan: FaultPlan, rate: float) -> None:
    # The aggregator dies right after its window end's tick (PutItem) succeeded: the window's work is all done, the
    # final invoke fails and Lambda retries it, so every flush and the tick are done again (and a retried window's
    # tick record can reach the next window twice).
    plan.worker.setdefault("aggregator", []).append(WorkerFault("crash_after", rate, "dynamodb", "PutItem"))


def _timeouts(plan: FaultPlan, rate: float) -> None:
    for function in FUNCTIONS:
        plan.worker.setdefault(function, []).append(WorkerFault("timeout", rate))


def _connect(plan: FaultPlan, rate: float) -> None:
    for operation in ("SendMessage", "StartChatContact", "CreateParticipantConnection", "StartAttachmentUpload"):
        plan.fake.append(FakeFault(operation, "ThrottlingException", 429, rate))
        plan.fake.append(FakeFault(operation, "InternalServerException", 500, rate / 2))


def _connect_denied(plan: FaultPlan, rate: float) -> None:
    # A connection token that stops working mid-conversation: Connect answers AccessDeniedException.
    for operation in ("SendMessage", "StartAttachmentUpload"):
        plan.fake.append(FakeFault(operation, "AccessDeniedException", 403, rate))


def _eum(plan: FaultPlan, rate: float) -> None:
    plan.fake.append(FakeFault("SendWhatsAppMessage", "ThrottledRequestException", 429, rate))
    plan.fake.append(FakeFault("SendWhatsAppMessage", "InternalServiceException", 500, rate / 2))
    plan.fake.append(FakeFault("GetWhatsAppMessageMedia", "InternalServiceException", 500, rate / 2))


def _old_sdk(plan: FaultPlan, rate: float) -> None:
    # The inbound function without the stack's SDK layer: "The version of the AWS SDK included in the Python runtime
    # depends on the runtime version and your AWS Region" (Lambda developer guide, "Building Lambda functions with
    # Python", Runtime-included SDK versions), and a botocore older than 1.43.104 does not know
    # StartChatContact.ChatStreamingConfiguration (components/sdk_layer.py). A function has one SDK: `rate` is unused.
    plan.worker.setdefault("inbound", []).append(
        WorkerFault("old_sdk", 1.0, "connect", "StartChatContact", parameter="ChatStreamingConfiguration")
    )


MIXES = {
    "ddb": (_ddb, "DynamoDB throttling and 5xx in every function"),
    "ddb-conflict": (_ddb_conflict, "DynamoDB cancels ingest's transactions for a concurrent one on the conversation"),
    "sns-dup": (_sns, "SNS delivers events twice (in-topic and out-topic)"),
    "stream-drop": (_stream_drop, "the stream mapping gives up on a batch (retries exhausted, record too old)"),
    "crash-after-send": (_crash_after_send, "aggregator crashes after the burst is on the queue, before clearing it"),
    "crash-mid-flush": (
        _crash_mid_flush,
        "aggregator crashes after any one of its UpdateItems (between two claims or marks)",
    ),
    "crash-after-tick": (_crash_after_tick, "aggregator crashes right after writing its window end's tick"),
    "timeouts": (_timeouts, "Lambda timeouts at a random point of an invocation, every function"),
    "connect": (_connect, "Connect ThrottlingException and 5xx"),
    "connect-denied": (_connect_denied, "AccessDeniedException mid-conversation (connection token stops working)"),
    "eum": (_eum, "End User Messaging throttling and 5xx (outbound sends, media fetch)"),
}

MISCONFIGURATIONS = {
    "old-sdk": (_old_sdk, "inbound runs a botocore that does not know StartChatContact.ChatStreamingConfiguration"),
}
"""Deploy mistakes the code must report clearly rather than survive: chosen by name only, never part of `all` (nothing
reaches Connect under `old-sdk`, so the no-loss audit of the fault table does not apply)."""


def parse(spec: str | None, *, rate: float = 0.05, seed: int = 0) -> FaultPlan:
    """`ddb,sns-dup` -> a plan; `all` = every mix; empty/None = no faults. Unknown names raise ValueError."""
    names = [n.strip() for n in (spec or "").split(",") if n.strip() and n.strip() != "none"]
    if names == ["all"]:
        names = list(MIXES)
    known = MIXES | MISCONFIGURATIONS
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown fault mix {', '.join(unknown)}: choose from {', '.join(known)}, all")
    if not 0 <= rate <= 1:
        raise ValueError(f"fault rate {rate} is not between 0 and 1")
    plan = FaultPlan(mixes=tuple(names), seed=seed)
    for name in names:
        known[name][0](plan, rate)
    return plan


def worker_spec(plan: FaultPlan, function: str) -> list[dict[str, Any]]:
    """The picklable form a worker process receives."""
    return [fault.__dict__ for fault in plan.worker.get(function, [])]


def inject_into_fake(plan: FaultPlan, fake: Any) -> None:
    """Arm the fake Connect / End User Messaging service (sandbox.fakes) with the plan's faults, each with its own
    seed so a replay fails the same calls every time."""
    for index, fault in enumerate(plan.fake):
        fake.inject(fault.operation, fault.code, status=fault.status, rate=fault.rate, seed=hash((plan.seed, index)))
