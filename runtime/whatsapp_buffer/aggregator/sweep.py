"""Sweep: bring back into the flow any conversation whose messages have been pending far longer than they may.

When the stream mapping gives up on a batch or a window's final invoke never succeeds, the records that would have
brought a conversation back are gone. Every minute the sweeper reads the sparse `pending-since` index for conversations
whose oldest pending message was stored more than maxWaitSeconds + `MARGIN_SECONDS` ago (none while the aggregator is
healthy) and touches each control item; the touch's stream record brings the conversation to the next window, through
the one flush path. Idempotent: a conversation flushed meanwhile is found not due. More:
docs/architecture.md#the-sweeper. No boto3 here: the store is handed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from whatsapp_buffer import clock
from whatsapp_buffer.aggregator.ports import StrandedConversations
from whatsapp_buffer.observability import count, logger

MARGIN_SECONDS = 30.0
"""Past maxWaitSeconds, how long a pending message waits before the sweep calls its conversation stranded. A healthy
flush comes within maxWaitSeconds + windowSeconds (+ the stream's delay, under a second), so at the default window
(1 s) the sweep touches nothing healthy; with windowSeconds over 30 it may touch a conversation that is only waiting
for its window's end, which costs one write and changes nothing. Small enough that with a sweep every minute a
stranded message reaches Connect within maxWaitSeconds + 3 minutes even if the stream drops the sweep's record once."""


@dataclass
class Sweeper:
    store: StrandedConversations
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
        count("StrandedConversations", touched)
        if failed:
            count("SweepFailures", failed)
        return touched
