"""Sweep: bring back into the flow any conversation whose messages have been pending far longer than they may.

The aggregator only looks at a conversation when a stream record of its control item reaches a window. When the
stream mapping gives up on a batch (retries exhausted or record too old: Lambda sends only the batch's metadata to
the on-failure destination) or a window's final invoke never succeeds, that record is gone, and the conversation's
pending messages would wait for the customer's next message. Every minute the sweeper reads the sparse
`pending-since` index (only control items with pending messages are in it) for conversations whose oldest pending
message was stored more than maxWaitSeconds + `MARGIN_SECONDS` ago -- none, while the aggregator is healthy: it
flushes every message within maxWaitSeconds + windowSeconds -- and touches each control item. The touch writes a
new stream record, so the aggregator decides and flushes the conversation at the next window end, through the one
flush path with all its conditional writes. Touching is idempotent: a touch of a conversation flushed meanwhile (the
index lags) finds nothing due and the conversation leaves the loop.

No boto3 here: the store is handed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.raw_table import RawStore
from whatsapp_buffer.observability import logger, metrics

MARGIN_SECONDS = 30.0
"""Past maxWaitSeconds, how long a pending message waits before the sweep calls its conversation stranded. A healthy
flush comes within maxWaitSeconds + windowSeconds (+ the stream's delay, under a second), so at the default window
(1 s) the sweep touches nothing healthy; with windowSeconds over 30 it may touch a conversation that is only waiting
for its window's end, which costs one write and changes nothing. Small enough that with a sweep every minute a
stranded message reaches Connect within maxWaitSeconds + 3 minutes even if the stream drops the sweep's record once."""


@dataclass
class Sweeper:
    store: RawStore
    max_wait_seconds: float
    now: Callable[[], float] = clock.now

    def sweep(self) -> int:
        """Touch every stranded conversation; return how many. One failing touch does not stop the others."""
        cutoff = self.now() - self.max_wait_seconds - MARGIN_SECONDS
        touched = failed = 0
        for conversation in self.store.pending_since_before(cutoff):
            try:
                self.store.touch(conversation)
            except Exception:
                logger.exception(
                    "touch of a stranded conversation failed; the next sweep tries again",
                    phone_number_id=conversation.phone_number_id,
                    customer=conversation.masked_customer,
                )
                failed += 1
                continue
            logger.warning(
                "stranded conversation brought back into the flow",
                phone_number_id=conversation.phone_number_id,
                customer=conversation.masked_customer,
            )
            touched += 1
        metrics.add_metric(name="StrandedConversations", unit=MetricUnit.Count, value=touched)
        if failed:
            metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=failed)
        return touched
