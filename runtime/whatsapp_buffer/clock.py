"""The one clock every handler reads.

Lambda uses wall time. The sandbox replays traces in virtual time by installing its own source with
`set_source`, so the debounce sees virtual time exactly as it would see real time in Lambda.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_source: Callable[[], float] = time.time
_sleep: Callable[[float], None] = time.sleep


def now() -> float:
    """Seconds since the epoch, from the installed source."""
    return _source()


def sleep(seconds: float) -> None:
    """Let `seconds` pass (a bounded wait inside an invocation), by the installed sleep."""
    _sleep(seconds)


def set_sleep(sleeper: Callable[[float], None]) -> None:
    """Replace how a wait passes (the sandbox: virtual time moves on instead of the worker sleeping)."""
    global _sleep
    _sleep = sleeper


def set_source(source: Callable[[], float]) -> None:
    """Replace the time source (sandbox and tests only)."""
    global _source
    _source = source


def reset() -> None:
    """Go back to wall time."""
    set_source(time.time)
    set_sleep(time.sleep)
