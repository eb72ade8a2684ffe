"""Pure: when the aggregator turns a conversation's pending messages into a burst, the four numbers and the end-of-turn
mode the debounce (`aggregator.debounce`, `end_of_turn`) decides with; the aggregator's settings carry one
(`environment`)."""

from __future__ import annotations

from dataclasses import dataclass

from whatsapp_buffer.errors import ConfigurationError
from whatsapp_buffer.settings import END_OF_TURN_RULE


@dataclass(frozen=True)
class BufferPolicy:
    """When a conversation's pending messages become a burst (see `debounce`)."""

    buffer_seconds: float
    """Quiet period: flush once the customer has sent nothing for this long."""
    max_wait_seconds: float
    """Flush once the oldest pending message has waited this long, quiet or not."""
    max_messages: int
    """Flush once this many messages are pending."""
    window_seconds: float
    """The tumbling window: how often pending conversations are looked at."""
    end_of_turn: str
    """`fixed`: wait `buffer_seconds` after every message; `cues`: scale it by the latest message's cue
    (`end_of_turn`). No default here: a function reads `endOfTurn` (declared default `cues`), and every model, bench
    and test names the mode it means."""

    def __post_init__(self) -> None:
        if not END_OF_TURN_RULE.holds(self.end_of_turn):
            raise ConfigurationError(f"end_of_turn={self.end_of_turn!r} is not one of {END_OF_TURN_RULE.label}")
