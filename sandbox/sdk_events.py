"""Inside a function's worker: every AWS SDK call seen through botocore's documented event system.

`provide-client-params` records the call for the IAM check (or ends the invocation when the fault plan times it
out), and a pre-signed URL as the call it authorises, apart (`signed`); `before-call` answers SQS's refusal of a
body's characters (sandbox.sqs_message_rules); `before-send` answers an attempt with an injected throttling or 5xx
error, which botocore parses and retries as the service's own; `after-call` turns a missing
object's 404 into the 403 S3 gives a role that may not list it (sandbox.s3_missing_objects), notes the error code, or
crashes the process after a call that succeeded. `install()` adds the handlers to botocore's built-in list before the
handler module is imported, so every session created after it is hooked, and hands the SDK's back-off sleep to the
worker's virtual clock (`on_backoff`). How and why: docs/sandbox.md#sdk-events-inside-a-worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sandbox import sqs_message_rules
from sandbox.faults import WorkerFault
from sandbox.s3_missing_objects import ListingRole, refuse

_CALL = "sandbox_call"
"""Key of the recorded call in botocore's per-call request context."""


@dataclass
class ApiCall:
    """One AWS API call a handler made, as botocore saw it."""

    service: str
    """The IAM prefix (botocore's signing name), e.g. dynamodb, sqs, social-messaging, connect."""
    operation: str
    params: dict[str, Any]
    error: str | None = None


class InjectedCrash(BaseException):
    """The sandbox killed the function mid-invoke (a BaseException: no `except Exception` in a handler can swallow it,
    just as no handler code runs after a real Lambda runtime dies)."""


class WorkerFaults:
    """The worker side of sandbox.faults: decides, call by call, whether to fail, crash or time out."""

    def __init__(self, rules: list[dict[str, Any]], seed: str) -> None:
        self.rules = [WorkerFault(**rule) for rule in rules]
        self.rng = random.Random(seed)
        self.timeout_at: int | None = None
        self.injected = 0

    def start_invocation(self) -> None:
        self.timeout_at = None
        for rule in self.rules:
            if rule.kind == "timeout" and self.rng.random() < rule.rate:
                self.timeout_at = self.rng.randint(0, 6)

    def check_timeout(self, call_index: int) -> None:
        if self.timeout_at is not None and call_index >= self.timeout_at:
            self.timeout_at = None
            raise InjectedCrash("Task timed out (injected)")

    def error_for(self, service: str, operation: str) -> WorkerFault | None:
        for rule in self.rules:
            if rule.kind == "error" and rule.matches(service, operation) and self.rng.random() < rule.rate:
                self.injected += 1
                return rule
        return None

    def crash_after(self, service: str, operation: str) -> bool:
        return any(
            rule.kind == "crash_after" and rule.matches(service, operation) and self.rng.random() < rule.rate
            for rule in self.rules
        )


def without_parameters(rules: list[WorkerFault], directory: str) -> str:
    """Write, under `directory`, each service model an `old_sdk` rule names, without the rule's parameter in its
    operation's input; returns the `AWS_DATA_PATH` that makes botocore load them. botocore's loader searches the
    paths of that variable before its own data (botocore.loaders.create_loader: "The AWS_DATA_PATH value. A string
    of data path values"; Loader: extra search paths, then ~/.aws/models, then botocore/data), so a process started
    with it validates requests against the model written here, as a botocore that predates the parameter does:
    "Unknown parameter in input" (botocore.validate)."""
    from botocore.loaders import create_loader

    loader = create_loader()
    for rule in (r for r in rules if r.kind == "old_sdk"):
        version = loader.determine_latest_version(rule.service, "service-2")
        target = os.path.join(directory, rule.service, version, "service-2.json")
        if os.path.exists(target):
            with open(target, encoding="utf-8") as handle:
                model = json.load(handle)
        else:
            model = loader.load_service_model(rule.service, "service-2", version)
        shape = model["shapes"][model["operations"][rule.operation]["input"]["shape"]]
        shape["members"].pop(rule.parameter)
        shape["required"] = [name for name in shape.get("required", []) if name != rule.parameter]
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(model, handle)
    return directory


def error_response(
    url: str,
    protocol: str,
    code: str,
    status: int,
    cancellation: tuple[str, ...] = (),
    message: str = "injected by the sandbox",
) -> Any:
    """An AWS error answer as the service would send it, so botocore parses it and its retry policy applies;
    `cancellation`: the CancellationReasons of a DynamoDB TransactionCanceledException (its modeled member: botocore
    parses it into the error's response)."""
    from botocore.awsrequest import AWSResponse

    if protocol in ("rest-xml", "query", "ec2"):
        body = f"<ErrorResponse><Error><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>"
        headers = {"Content-Type": "text/xml"}
    else:
        answer: dict[str, Any] = {"__type": code, "message": message}
        if cancellation:
            answer["CancellationReasons"] = [{"Code": reason} for reason in cancellation]
        body = json.dumps(answer)
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-ErrorType": code}

    class _Raw:
        def stream(self, **_: Any) -> Any:
            yield body.encode()

    return AWSResponse(url, status, headers, _Raw())


class _VirtualSleepTime:
    """`botocore.endpoint`'s `time` while installed: the real module, except that `sleep` goes to `on_backoff`."""

    def __init__(self, on_backoff: Callable[[float], None]) -> None:
        self._on_backoff = on_backoff

    def sleep(self, seconds: float) -> None:
        self._on_backoff(float(seconds))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


class SdkHooks:
    """The calls one worker's handler makes, recorded and fault-injected through botocore events."""

    def __init__(
        self,
        faults: WorkerFaults,
        on_backoff: Callable[[float], None] | None = None,
        role: ListingRole | None = None,
    ) -> None:
        """`on_backoff`: given each back-off the SDK would sleep between retries (seconds) instead of sleeping it;
        None leaves the SDK's sleep alone. `role`: the function's role, which decides whether S3 tells it an object
        is missing (None: moto's answer stands)."""
        self.faults = faults
        self.role = role
        self.calls: list[ApiCall] = []
        self.signed: list[ApiCall] = []
        """Pre-signed requests generated since the last `take_signed()`: S3 authorises each with the signer's role."""
        self.backoffs: list[float] = []
        """The back-offs handed to `on_backoff` since the last `take_backoffs()`."""
        self._on_backoff = on_backoff
        self._lock = threading.Lock()
        self._real_time: Any = None
        self._specs = [
            ("provide-client-params", self._on_params),
            ("before-call", self._on_call),
            ("before-send", self._on_send),
            ("after-call", self._on_answer),
        ]

    def install(self) -> None:
        """Hook every botocore session created from now on in this process."""
        from botocore import endpoint, handlers

        handlers.BUILTIN_HANDLERS.extend(self._specs)
        if self._on_backoff is not None and self._real_time is None:
            self._real_time = endpoint.time
            endpoint.time = _VirtualSleepTime(self._backoff)

    def uninstall(self) -> None:
        from botocore import endpoint, handlers

        for spec in self._specs:
            with contextlib.suppress(ValueError):
                handlers.BUILTIN_HANDLERS.remove(spec)
        if self._real_time is not None:
            endpoint.time = self._real_time
            self._real_time = None

    def _backoff(self, seconds: float) -> None:
        with self._lock:
            self.backoffs.append(seconds)
        if self._on_backoff is not None:
            self._on_backoff(seconds)

    def take_backoffs(self) -> list[float]:
        with self._lock:
            backoffs, self.backoffs = self.backoffs, []
        return backoffs

    @contextlib.contextmanager
    def installed(self) -> Iterator[SdkHooks]:
        self.install()
        try:
            yield self
        finally:
            self.uninstall()

    def take(self) -> list[ApiCall]:
        calls, self.calls = self.calls, []
        return calls

    def take_signed(self) -> list[ApiCall]:
        signed, self.signed = self.signed, []
        return signed

    def _on_params(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service_model = model.service_model
        call = ApiCall(service_model.signing_name or service_model.endpoint_prefix, model.name, dict(params))
        if context.get("is_presign_request"):
            # No API call now, but the request whoever uses the URL sends is authorised as the signer's: "The
            # credentials used by the presigned URL are those of the AWS Identity and Access Management (IAM)
            # principal who generated the URL" (Amazon S3 User Guide, "Download and upload objects with presigned
            # URLs"). Kept apart from `calls`: it is not sent, so no fault applies and no call count changes.
            self.signed.append(call)
            return
        self.faults.check_timeout(len(self.calls))
        self.calls.append(call)
        context[_CALL] = (call, service_model.resolved_protocol)

    def _on_send(self, request: Any, **_: Any) -> Any:
        recorded = (getattr(request, "context", None) or {}).get(_CALL)
        if recorded is None:
            return None
        call, protocol = recorded
        rule = self.faults.error_for(call.service, call.operation)
        if rule is None:
            return None
        return error_response(request.url, protocol, rule.code, rule.status, rule.cancellation)

    def _on_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        """SQS's refusal of a body's characters (sandbox.sqs_message_rules): the answer SQS gives, parsed by botocore's
        own parser, in place of the request (not retryable, so no attempt is lost)."""
        recorded = context.get(_CALL)
        if recorded is None:
            return None
        call, protocol = recorded
        code = sqs_message_rules.refusal(call.service, call.operation, call.params)
        if code is None:
            return None
        from botocore.parsers import create_parser

        http = error_response(
            params.get("url", ""), protocol, code, sqs_message_rules.STATUS, message=sqs_message_rules.MESSAGE
        )
        answer = {"status_code": http.status_code, "headers": http.headers, "body": http.content}
        return http, create_parser(protocol).parse(answer, model.output_shape)

    def _on_answer(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        recorded = context.get(_CALL)
        if recorded is None:
            return
        call, _protocol = recorded
        code = parsed.get("Error", {}).get("Code")
        if self.role and self.role.hides(call.service, call.operation, call.params, http_response.status_code, code):
            refuse(http_response, parsed, model)
        if http_response.status_code >= 300:
            call.error = parsed.get("Error", {}).get("Code", "ClientError")
        elif self.faults.crash_after(call.service, call.operation):
            raise InjectedCrash(f"crashed after {call.operation} (injected)")
