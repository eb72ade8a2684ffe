"""How requests reach `FakeServices`: a threaded HTTP server on loopback (the sandbox), a botocore `before-send`
answer in-process (unit tests), both through `Reachable`, and the PUT End User Messaging makes to a pre-signed S3 URL.

Apart from services.py because none of it knows which services answer: it moves requests and answers, nothing else.
"""

from __future__ import annotations

import io
import sys
import threading
import uuid
from collections.abc import Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse

from sandbox.fakes.rest_json import ApiError, Headers, error_response

SHUTDOWN_POLL_SECONDS = 0.02
"""How often the serving thread looks whether `stop()` asked it to end (socketserver's default, 0.5 s, made every
replay wait about a quarter of a second for each of its servers)."""


def target(url: str) -> str:
    split = urlsplit(url)
    return split.path + (f"?{split.query}" if split.query else "")


def requests_put(url: str, headers: Mapping[str, str], data: bytes) -> int:
    """How End User Messaging writes to a pre-signed URL. `requests`, because moto's in-process mock intercepts it
    (unit tests) while the sandbox's moto server answers it on loopback."""
    import requests

    return requests.put(url, data=data, headers=dict(headers), timeout=10).status_code


def requests_get(url: str, headers: Mapping[str, str]) -> tuple[int, bytes]:
    """How End User Messaging reads a pre-signed URL (`requests`, as `requests_put`): the HTTP status and the body."""
    import requests

    answer = requests.get(url, headers=dict(headers), timeout=10)
    return answer.status_code, answer.content


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


class Reachable:
    """What makes a fake reachable both ways: served on loopback (`start()`, the sandbox), or answering a boto3
    client's requests in-process (`client(...)` / `attach(client)`, the unit tests). Either way the request ends in
    `_handle_http(method, target, headers, body) -> (status, headers, body)`, which the fake implements."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    def _handle_http(
        self, method: str, target: str, headers: Headers, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def start(self) -> str:
        """Serve on loopback in a background thread; returns the base URL (`http://127.0.0.1:<port>`)."""
        if self._server is not None:
            return self.url
        server = Server((self._host, self._port), Handler)
        server.fake = self
        self._server = server
        self._base_url = f"http://{self._host}:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), name="fake-services", daemon=True
        )
        self._thread.start()
        return self._base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the fake is not started")
        return self._base_url

    def client(self, service: str, region_name: str = "us-east-1", **kwargs: Any) -> Any:
        """A real boto3 client of `service` whose requests this fake answers in-process."""
        return self.attach(boto3.client(service, region_name=region_name, **kwargs))

    def attach(self, client: Any) -> Any:
        """Answer `client`'s requests in-process (botocore's documented `before-send` event); returns the client."""
        client.meta.events.register_first("before-send", self._before_send)
        return client

    def http_put(self, url: str, headers: Mapping[str, str], data: bytes) -> None:
        """An upload to an attachment URL this fake handed out, in-process (raises on a refusal, as urllib3 would
        let the caller see a non-2xx status)."""
        message = Message()
        for name, value in headers.items():
            message[name] = value
        status, _, body = self._handle_http("PUT", target(url), message, data)
        if status >= 300:
            raise RuntimeError(f"attachment upload answered HTTP {status}: {body[:200]!r}")

    def http_get(self, url: str) -> bytes:
        status, _, body = self._handle_http("GET", target(url), Message(), b"")
        if status >= 300:
            raise RuntimeError(f"attachment download answered HTTP {status}: {body[:200]!r}")
        return body

    def _before_send(self, request: Any, **_: Any) -> AWSResponse:
        split = urlsplit(request.url)
        target = split.path + (f"?{split.query}" if split.query else "")
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = Message()
        for name, value in request.headers.items():
            headers[name] = value.decode() if isinstance(value, bytes) else value
        status, answer_headers, payload = self._handle_http(request.method, target, headers, body)
        answer_headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        return AWSResponse(request.url, status, answer_headers, RawBody(payload))
