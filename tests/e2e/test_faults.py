"""Under every fault mix, a seeded random trace still ends with each accepted message in Connect exactly once, in order,
and each agent reply on WhatsApp (the full 1,000-message table is `make faults`)."""

from __future__ import annotations

import functools

import pytest

from bench.faults import fault_trace
from sandbox import faults, verify
from sandbox.replay import Replay

EVENTS = fault_trace(100, seed=5)


@functools.cache
def replayed(mix: str) -> tuple[Replay, dict]:
    """The seeded trace replayed under `mix` at a tenth of the calls, once in a process for the tests that read it."""
    rep = Replay(EVENTS, faults=faults.parse(mix, rate=0.1, seed=5))
    return rep, rep.run()


@pytest.mark.parametrize("mix", [*faults.MIXES, "all"])
def test_no_message_is_lost_duplicated_or_reordered_under_faults(mix):
    rep, transcript = replayed(mix)
    result = verify.audit(EVENTS, transcript)
    assert (result.lost, result.duplicated, result.reordered) == (0, 0, 0), result
    assert result.replies_lost == 0, result
    # A stream batch the mapping gave up on leaves its metadata in the failures queue; its messages still arrive.
    dropped = (
        [r for r in transcript["rejected"] if r["source"] == "stream"] if "stream-drop" in rep.faults.mixes else []
    )
    assert result.dead_lettered == len(dropped), transcript["rejected"]
    # WhatsApp's send API has no idempotency key: only an outbound Lambda killed right after a send that succeeded,
    # before anything recorded it, may repeat it (the sandbox counts those sends as in doubt).
    assert result.replies_duplicated <= result.replies_in_doubt, result
    if mix == "crash-mid-flush":
        # The mix must reach a burst whose marks stopped half-way (sent, so only marked, never sent again).
        assert transcript["metrics"]["aggregator"].get("BurstsMarkedAfterPartialMark", 0) > 0
    if mix == "crash-after-tick":
        # The mix must reach a window end that died right after writing its tick (the whole window is retried).
        assert any(
            i.function == "aggregator" and i.error_type == "InjectedCrash" and i.last_call == "PutItem"
            for i in rep.pipeline.invocations
        )
    if mix != "none":
        injected = (
            rep.pipeline.sns_duplicates
            + rep.pipeline.stream.dropped
            + rep.pipeline.injected_errors
            + sum(1 for i in rep.pipeline.invocations if not i.ok)
            + sum(1 for c in rep.services.fake.calls if c.error)
        )
        assert injected > 0, "the mix injected nothing: the test would prove nothing"


@pytest.mark.parametrize("mix", ["stream-drop"])
def test_a_stream_that_drops_batches_strands_no_conversation(mix):
    """`stream-drop`: the mapping gives up on a tenth of its batches (window invokes and final invokes alike), as
    Lambda does past MaximumRetryAttempts or MaximumRecordAgeInSeconds. The sweeper (every minute, the sparse
    pending-since index) brings each stranded conversation back: every message reaches Connect within
    maxWaitSeconds + 3 minutes of reaching the bridge."""
    rep, transcript = replayed(mix)

    assert rep.pipeline.stream.dropped > 0, "nothing was dropped: the test would prove nothing"
    assert rep.pipeline.metrics["sweeper"].get("StrandedConversations", 0) > 0
    arrived = transcript["stored_at"]
    shown: dict[str, float] = {}
    for item in transcript["connect"]:
        for message_id in item["message_ids"]:
            shown.setdefault(message_id, item["at"])
    max_wait = float(rep.wiring.functions["aggregator"].env["MAX_WAIT_SECONDS"])
    assert set(shown) == set(arrived)
    assert max(shown[m] - arrived[m] for m in arrived) <= max_wait + 180


@pytest.mark.parametrize("mix", ["ddb-conflict"])
def test_a_transaction_conflict_at_ingest_is_retried_within_the_invocation(mix):
    """`ddb-conflict`: DynamoDB cancels a tenth of ingest's transactions with reason TransactionConflict, as it does
    when two ingests of one conversation update its control item at once (botocore's DynamoDB model,
    TransactionCanceledException: "There is an ongoing TransactWriteItems operation that conflicts with a concurrent
    TransactWriteItems request. In this case the TransactWriteItems operation fails with a
    TransactionCanceledException"). botocore does not retry that code (tests/adapters/test_raw_messages_store.py), so
    ingest retries it itself: no ingest invocation fails (which would wait for Lambda's asynchronous retry, a minute
    or more, and split the message from its burst) and no message arrives late."""
    rep, transcript = replayed(mix)

    assert rep.pipeline.injected_errors > 0, "no conflict was injected: the test would prove nothing"
    failed = [i for i in rep.pipeline.invocations if i.function == "ingest" and not i.ok]
    assert failed == []
    assert verify.audit(EVENTS, transcript).late == 0
