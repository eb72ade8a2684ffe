"""Under every fault mix, a seeded random trace still ends with each accepted message in Connect exactly once, in order,
and each agent reply on WhatsApp (the full 1,000-message table is `make faults`)."""

from __future__ import annotations

import pytest

from bench.faults import fault_trace
from sandbox import faults, verify
from sandbox.replay import Replay

EVENTS = fault_trace(100, seed=5)


@pytest.mark.parametrize("mix", [*faults.MIXES, "all"])
def test_no_message_is_lost_duplicated_or_reordered_under_faults(mix):
    rep = Replay(EVENTS, faults=faults.parse(mix, rate=0.1, seed=5))
    transcript = rep.run()
    result = verify.audit(EVENTS, transcript)
    assert (result.lost, result.duplicated, result.reordered) == (0, 0, 0), result
    assert result.replies_lost == 0, result
    assert result.dead_lettered == 0, transcript["rejected"]
    outbound_crashes = sum(
        1 for i in rep.pipeline.invocations if i.function == "outbound" and i.error_type == "InjectedCrash"
    )
    # WhatsApp's send API has no idempotency key: only an outbound Lambda killed right after a send may repeat it.
    assert result.replies_duplicated <= outbound_crashes, result
    if mix != "none":
        injected = (
            rep.pipeline.sns_duplicates
            + rep.pipeline.injected_errors
            + sum(1 for i in rep.pipeline.invocations if not i.ok)
            + sum(1 for c in rep.services.fake.calls if c.error)
        )
        assert injected > 0, "the mix injected nothing: the test would prove nothing"
