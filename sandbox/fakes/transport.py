"""How requests reach `FakeServices`: a threaded HTTP server on loopback (the sandbox), a botocore `before-send`
answer in-process (unit tests), and the PUT End User Messaging makes to a pre-signed S3 URL."""

from __future__ import annotations

import io
import sys
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sandbox.fakes.rest_json import ApiError, error_response


def target(url: str) -> str:
    split = urlsplit(url)
    return split.path + (f"?{split.query}" if split.query else "")


def requests_put(url: str, headers: Mapping[str, str], data: bytes) -> int:
    """How End User Messaging writes to a pre-signed URL. `requests`, because moto's in-process mock intercepts it
    (unit tests) while the sandbox's moto server answers it on loopback."""
    import requests

    return requests.put(url, data=data, headers=dict(headers), timeout=10).status_code


class RawBody(io.BytesIO):
    """The raw body botocore reads from an `AWSResponse`."""

    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is normal for a pooled connection; anything else is still reported."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeServices/1"
    # Headers and body go out in two writes; with Nagle on, keep-alive clients wait ~40 ms for each answer.
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence: the sandbox owns stdout and stderr."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, payload = self.server.fake._handle_http(self.command, self.path, self.headers, body)
        except Exception as exc:
            status, headers, payload = error_response(ApiError("InternalServerException", f"fake failed: {exc!r}"), 500)
        self.send_response(status)
        headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve
