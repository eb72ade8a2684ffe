"""DynamoDB stream -> Lambda: an event source mapping with a tumbling window, as Lambda runs one.

The mapping's filter criteria, batch size and window length come from the program. Windows are aligned on the
clock; the `state` each invoke returns is handed to the next invoke of its window, and a final invoke runs at each
window's end. A failed batch (an error, batch item failures, or a window invoke that returned no `state`) is retried
from its first failed record up to the mapping's MaximumRetryAttempts, then its metadata goes to the on-failure
destination (sandbox.delivery.dead_letters); the `stream-drop` fault (sandbox.faults) gives up on a batch before
it reaches the function, as Lambda does past the retry or record-age limit.

Lambda's shard poller is emulated by reading the stream records from the moto backend in this process
(sandbox.moto_internals); the handlers reach moto over HTTP like any AWS client.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from sandbox import filters
from sandbox.delivery.dead_letters import DeadLetters
from sandbox.delivery.functions import DeliveryPath, Functions
from sandbox.delivery.scheduler import Scheduler, iso
from sandbox.faults import FaultPlan
from sandbox.iam_check import RoleCheck
from sandbox.sdk_events import ApiCall
from sandbox.wiring import StreamMapping, Wiring

STREAM_RETRY_DELAY = 1.0
_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


def _touches(params: dict[str, Any], tables: set[str]) -> bool:
    names = {params.get("TableName")}
    names.update(next(iter(e.values())).get("TableName") for e in params.get("TransactItems", []))
    names.update(params.get("RequestItems", {}).keys())
    return bool(names & tables)


class StreamToLambda(DeliveryPath):
    def __init__(
        self,
        wiring: Wiring,
        scheduler: Scheduler,
        functions: Functions,
        dead_letters: DeadLetters,
        faults: FaultPlan | None = None,
    ) -> None:
        super().__init__(wiring, scheduler, functions)
        self.dead_letters = dead_letters
        self.faults = faults or FaultPlan()
        self._drops = self.faults.rng("stream-drop")
        self.dropped = 0
        """Batches the `stream-drop` fault gave up on."""
        self._windows: dict[int, dict[float, dict[str, Any]]] = {}
        """mapping index -> window start -> the window's `state`."""
        self._readers: dict[int, Any] = {}
        self._dirty = False
        self._streamed_tables = {m.table for m in wiring.stream_mappings}

    def check_role(self, roles: RoleCheck) -> None:
        """The calls Lambda makes with the function's role to read the stream."""
        for mapping in self.wiring.stream_mappings:
            stream_arn = self.wiring.tables[mapping.table].arn + "/stream/" + "2026-01-01T00:00:00.000"
            roles.service_side(
                mapping.function,
                [(f"dynamodb:{action}", stream_arn) for action in ("DescribeStream", "GetRecords", "GetShardIterator")],
            )

    def start(self) -> None:
        """Start reading every mapped stream at LATEST."""
        from sandbox.moto_internals import StreamShardReader

        account = self.wiring.account
        for index, mapping in enumerate(self.wiring.stream_mappings):
            self._readers[index] = StreamShardReader(account.account_id, account.region, mapping.table)
            self._windows[index] = {}

    def notice_calls(self, calls: list[ApiCall]) -> None:
        """A handler wrote to a streamed table: there are new records to hand on."""
        if any(
            c.service == "dynamodb" and c.operation in _WRITES and _touches(c.params, self._streamed_tables)
            for c in calls
        ):
            self._dirty = True

    def settle(self) -> None:
        if self._dirty:
            self._dirty = False
            for index in range(len(self.wiring.stream_mappings)):
                self._pump(index)

    def _pump(self, index: int) -> None:
        mapping = self.wiring.stream_mappings[index]
        records = [self._lambda_record(mapping, r) for r in self._readers[index].read()]
        records = [r for r in records if filters.matches_any(mapping.filters, r)]
        if not records:
            return
        window = mapping.window_s or 0
        start = math.floor(self.clock.now / window) * window if window else self.clock.now
        windows = self._windows[index]
        is_new = start not in windows
        windows.setdefault(start, {"state": {}})
        for offset in range(0, len(records), mapping.batch_size):
            batch = records[offset : offset + mapping.batch_size]
            self._invoke(index, start, batch, final=False, attempt=0)
        if window and is_new:
            self.scheduler.at(
                start + window,
                f"window-end->{mapping.function}",
                lambda: self._invoke(index, start, [], final=True, attempt=0),
            )
        elif not window:
            windows.pop(start, None)

    def _lambda_record(self, mapping: StreamMapping, record: dict[str, Any]) -> dict[str, Any]:
        table = self.wiring.tables[mapping.table]
        dynamodb = dict(record["dynamodb"])
        dynamodb["ApproximateCreationDateTime"] = float(int(self.clock.now))
        return {
            "eventID": record.get("eventID", uuid.uuid4().hex),
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self.wiring.account.region,
            "dynamodb": dynamodb,
            "eventSourceARN": table.stream_arn,
        }

    def _window_event(self, index: int, start: float, records: list[dict[str, Any]], *, final: bool) -> dict[str, Any]:
        mapping = self.wiring.stream_mappings[index]
        table = self.wiring.tables[mapping.table]
        event: dict[str, Any] = {"Records": records}
        if mapping.window_s:
            event.update(
                {
                    "window": {"start": iso(start), "end": iso(start + mapping.window_s)},
                    "state": self._windows[index].get(start, {}).get("state", {}),
                    "shardId": "shardId-00000001-sandbox",
                    "eventSourceARN": table.stream_arn,
                    "isFinalInvokeForWindow": final,
                    "isWindowTerminatedEarly": False,
                }
            )
        return event

    def _invoke(self, index: int, start: float, batch: list[dict[str, Any]], *, final: bool, attempt: int) -> None:
        mapping = self.wiring.stream_mappings[index]
        if attempt == 0 and self.faults.stream_drop_rate and self._drops.random() < self.faults.stream_drop_rate:
            # As after the last retry or past the record age limit: nothing reaches the function, the batch's
            # metadata goes to the on-failure destination; a final invoke's window state goes with it.
            self.dropped += 1
            condition = self._drops.choice(("RetryAttemptsExhausted", "RecordAgeExceeded"))
            self.dead_letters.stream_batch_dropped(
                mapping.function, mapping.on_failure_arn, None, len(batch), final=final, condition=condition
            )
            if final:
                self._windows[index].pop(start, None)
            return
        invocation = self.functions.invoke(mapping.function, self._window_event(index, start, batch, final=final))
        failed_from = None
        if invocation.ok:
            result = invocation.result if isinstance(invocation.result, dict) else {}
            if mapping.window_s and "state" not in result:
                failed_from = 0  # Lambda counts a tumbling-window invoke without `state` as failed
            elif mapping.window_s:
                self._windows[index].setdefault(start, {})["state"] = result["state"]
            failures = (result.get("batchItemFailures") or []) if mapping.report_item_failures else []
            if failures and failed_from is None:
                failed_ids = {f.get("itemIdentifier") for f in failures}
                failed_from = next(
                    (i for i, r in enumerate(batch) if r["dynamodb"].get("SequenceNumber") in failed_ids), 0
                )
        else:
            failed_from = 0
        if failed_from is None:
            if final:
                self._windows[index].pop(start, None)
            return
        remaining = batch[failed_from:]
        if mapping.max_retries < 0 or attempt < mapping.max_retries:
            # The shard waits for this batch: Lambda retries it (from the first failed record) before anything else;
            # a failed final invoke is retried with the window's state, which stays until it succeeds or is dropped.
            self.scheduler.after(
                STREAM_RETRY_DELAY,
                f"stream-retry->{mapping.function}",
                lambda: self._invoke(index, start, remaining, final=final, attempt=attempt + 1),
            )
            return
        self.dead_letters.stream_batch_dropped(
            mapping.function, mapping.on_failure_arn, invocation, len(remaining), final=final
        )
        if final:
            self._windows[index].pop(start, None)
