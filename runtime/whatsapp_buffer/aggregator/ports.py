"""What the aggregator use case needs from the services (docs/architecture.md#layers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from whatsapp_buffer.aggregator.debounce import ControlView
from whatsapp_buffer.aggregator.lifecycle import BufferedMessage, Settlement
from whatsapp_buffer.model import Burst, Conversation, TypingSignal


class RawStore(Protocol):
    """The raw table as the aggregator's flush uses it: claims, marks, settles, ticks (`adapters.raw_table`)."""

    def read_control(self, conversation: Conversation) -> ControlView: ...
    def claim(
        self,
        conversation: Conversation,
        messages: Iterable[BufferedMessage],
        burst_id: str,
        claimed_at: float | None = ...,
    ) -> None: ...
    def mark_sent(self, conversation: Conversation, messages: Iterable[BufferedMessage], burst_id: str) -> None: ...
    def unsent_messages(self, conversation: Conversation, start: str | None = ...) -> list[BufferedMessage]: ...
    def count_failed_read(self, conversation: Conversation, store_key: str, reason: str) -> int: ...
    def count_refused_send(self, conversation: Conversation, store_key: str, reason: str) -> int: ...
    def set_aside(self, conversation: Conversation, store_key: str, reason: str) -> None: ...
    def settle_control(self, conversation: Conversation, settlement: Settlement) -> bool: ...
    def write_tick(self, anchor: Conversation, listed: Mapping[str, list[Any] | None], now: float) -> int: ...


class BurstsQueue(Protocol):
    """The bursts FIFO queue the aggregator sends bursts and typing signals to (`adapters.bursts_queue`)."""

    def send(self, burst: Burst) -> str: ...
    def send_typing(self, signal: TypingSignal, slot: str) -> None: ...


class StrandedConversations(Protocol):
    """The raw table as the sweeper uses it: the pending-since index, and a touch that brings a conversation back
    into the stream (`adapters.raw_table`)."""

    def pending_since_before(self, cutoff: float) -> list[Conversation]: ...
    def touch(self, conversation: Conversation) -> None: ...
