"""Bad-input tests: the handler fixtures of tests/handlers (moto raw table, stream, queue, virtual clock), and loopback
sockets for the sandbox replays in test_replay.py (the sandbox starts moto and the fake Connect on this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.handlers.conftest import (  # noqa: F401 - fixtures shared with the handler tests
    aggregator,
    aws,
    dynamodb,
    ingest,
    ingest_settings,
    queue_url,
    store,
    stream,
    virtual_clock,
    window,
)

LOOPBACK = ["127.0.0.1", "localhost", "::1"]
_REPLAYS = Path(__file__).parent / "test_replay.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.path)) == _REPLAYS:
            item.add_marker(pytest.mark.allow_hosts(LOOPBACK))
            item.add_marker(pytest.mark.e2e)
