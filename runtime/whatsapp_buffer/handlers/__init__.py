"""Lambda entry points: `whatsapp_buffer.handlers.<name>.handler`. Each parses its event, calls the runtime, shapes the
response; adapters are built once per cold start from the environment (settings.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar


class _WithIdempotency(Protocol):
    idempotency: Any


R = TypeVar("R", bound=_WithIdempotency)


class Installed(Generic[R]):
    """The runtime a handler uses: installed by `configure` (tests and the sandbox inject theirs), otherwise built
    from the environment on the first invocation and kept for the warm container's life."""

    def __init__(self) -> None:
        self.current: R | None = None

    def install(self, runtime: R) -> R:
        self.current = runtime
        return runtime

    def reset(self) -> None:
        self.current = None

    def get(self, context: Any, build: Callable[[], R]) -> R:
        runtime = self.current or build()
        if context is not None:
            runtime.idempotency.register_lambda_context(context)
        return runtime
