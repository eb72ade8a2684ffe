"""The one clock every handler reads.

Lambda uses wall time. The sandbox replays traces in virtual time by installing its own source with
`set_source`, so the debounce sees virtual time exactly as it would see real time in Lambda.
"""

from __future__ import annotations

import time
from collections.abc import Callable

_source: Callable[[], float] = time.time


def now() -> float:
    """Seconds since the epoch, from the installed source."""
    return _source()


def set_source(source: Callable[[], float]) -> None:
    """Replace the time source (sandbox and tests only)."""
    global _source
    _source = source


def reset() -> None:
    """Go back to wall time."""
    set_source(time.time)
