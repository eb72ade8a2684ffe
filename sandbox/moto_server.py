"""moto's server on loopback, in this process: HTTP keep-alive, TCP_NODELAY and cheap DynamoDB transactions.

moto's `ThreadedMotoServer` answers HTTP/1.0-style (a new connection per request), which costs a few milliseconds
per AWS call; the handlers of a 1,000-message replay make thousands. Same WSGI application, same backends — only
the connection handling differs, and transactions skip moto's table backups (see sandbox.moto_internals).
"""

from __future__ import annotations

import http.client
import threading
from typing import Any

from sandbox.fakes.transport import SHUTDOWN_POLL_SECONDS


class LoopbackMotoServer:
    """Serve moto on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self) -> None:
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Serve moto from empty backends (moto's state is per process: a previous replay's tables are dropped)."""
        from sandbox import moto_internals

        moto_internals.speed_up_transactions()
        moto_internals.check_key_sizes_on_reads()
        self._server = moto_internals.keep_alive_app_server()
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), name="moto-server", daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        # moto's documented reset API: every backend of this process back to empty.
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request("POST", "/moto-api/reset")
            connection.getresponse().read()
        finally:
            connection.close()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
