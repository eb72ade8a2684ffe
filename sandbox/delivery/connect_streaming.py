"""Connect chat streaming -> the out-topic: the fake Connect publishes what happens in a chat (agent messages,
the chat ending) to the SNS topic the contact was started with, and SNS delivers it (sandbox.delivery.sns).

The fake publishes from its HTTP thread, in the middle of a function's invoke; the publishes wait here until the
invoke is over and the scheduler settles, then go out in the order they were made.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class ConnectStreaming:
    def __init__(self, publish: Callable[[str, str, dict[str, str]], None]) -> None:
        self._publish = publish
        self._pending: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()

    def publish_from_service(self, topic_arn: str, message: str, attributes: dict[str, str]) -> None:
        """Thread-safe entry for the fake Connect."""
        with self._lock:
            self._pending.append((topic_arn, message, attributes))

    def settle(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
        for topic_arn, message, attributes in pending:
            self._publish(topic_arn, message, attributes)
