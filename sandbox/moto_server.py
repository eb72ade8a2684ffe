"""moto's server on loopback, with HTTP keep-alive and TCP_NODELAY.

moto's `ThreadedMotoServer` answers HTTP/1.0-style (a new connection per request), which costs a few milliseconds
per AWS call; the handlers of a 1,000-message replay make thousands. Same WSGI application, same backends — only
the connection handling differs.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class _KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class LoopbackMotoServer:
    """Serve moto on 127.0.0.1 (a free port) in a background thread."""

    def __init__(self) -> None:
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Serve moto from empty backends (moto's state is per process: a previous replay's tables are dropped)."""
        from moto.moto_api import _internal

        _internal.moto_api_backend.reset()
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_KeepAliveHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
