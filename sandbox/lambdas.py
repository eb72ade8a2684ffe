"""Run each Lambda function the way Lambda does: its own process (a warm container), its own environment.

The child process imports the handler named by the Pulumi program with exactly the environment the program sets,
plus the standard `AWS_ENDPOINT_URL*` variables that point boto3 at the loopback stand-ins. The parent sends
invocations over a pipe with the virtual time to show; the child answers with the handler's result or error,
every AWS API call the handler made (for the IAM check; recorded through botocore's events, see sandbox.sdk_events,
which also injects the fault plan's errors, crashes and timeouts), and everything it printed (logs and EMF metrics).
Workers are forked from one server process that has loaded the SDK and the runtime's environment-free modules already
(`sandbox.worker_preload`), so a cold start costs what depends on the function's environment, not a Python interpreter,
botocore and its models each time.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import io
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.s3_missing_objects import ListingRole
from sandbox.sdk_events import ApiCall, InjectedCrash, SdkHooks, WorkerFaults, without_parameters

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"
PRELOADED = ["sandbox.lambdas", "sandbox.worker_preload", "time_machine"]
"""What the fork server imports once for every worker (a worker's environment is set after the fork, before the
handler is imported): the SDK and its service models, and what of the runtime reads no environment variable."""


@dataclass
class Invocation:
    """What one invoke returned."""

    ok: bool
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    calls: list[ApiCall] = field(default_factory=list)
    signed: list[ApiCall] = field(default_factory=list)
    """Pre-signed requests the function generated: authorised, when used, with its role (sandbox.sdk_events)."""
    output: list[str] = field(default_factory=list)
    """Lines the function printed: Powertools JSON log lines and EMF metric documents."""
    injected: int = 0
    """AWS answers the sandbox replaced with an injected error during this invoke (the SDK may have retried them)."""
    sdk_backoff_s: float = 0.0
    """Seconds the SDK waited between retries during this invoke, passed in virtual time (sandbox.sdk_events)."""

    @property
    def timed_out(self) -> bool:
        """Killed by an injected Lambda timeout: the attempt lasted the function's whole timeout."""
        return not self.ok and (self.error_message or "").startswith("Task timed out")

    @property
    def whatsapp_send_in_doubt(self) -> bool:
        """Killed right after a SendWhatsAppMessage that succeeded, before anything recorded it: the customer has the
        message, and a retry cannot know (the API takes no idempotency token), so it may send it again."""
        return (
            not self.ok
            and self.error_type == "InjectedCrash"
            and bool(self.calls)
            and self.calls[-1].operation == "SendWhatsAppMessage"
            and self.calls[-1].error is None
        )

    def metrics(self) -> dict[str, float]:
        """Sum of each EMF metric the invocation emitted."""
        totals: dict[str, float] = {}
        for name, value in emitted_values(self.output):
            totals[name] = totals.get(name, 0.0) + value
        return totals


def emitted_values(output: list[str]) -> list[tuple[str, float]]:
    """Each value of each EMF metric in a function's output. A metric with a dimension beyond `service` is its own
    series, as in CloudWatch: `Name[Dim=value]`."""
    values = []
    for line in output:
        if '"_aws"' not in line:
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        for directive in doc.get("_aws", {}).get("CloudWatchMetrics", []):
            extra = sorted({d for dims in directive.get("Dimensions", []) for d in dims} - {"service"})
            suffix = "".join(f"[{d}={doc.get(d)}]" for d in extra)
            for metric in directive.get("Metrics", []):
                raw = doc.get(metric["Name"], 0)
                values += [(metric["Name"] + suffix, float(v)) for v in (raw if isinstance(raw, list) else [raw])]
    return values


class _Capture(io.TextIOBase):
    """Stands in for stdout/stderr in the child: keeps complete lines for the parent."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *done, self._partial = self._partial.split("\n")
        self.lines.extend(line for line in done if line.strip())
        return len(text)

    def take(self) -> list[str]:
        if self._partial.strip():
            self.lines.append(self._partial)
        self._partial = ""
        lines, self.lines = self.lines, []
        return lines


class _Context:
    """The parts of the Lambda context object handlers and Powertools use."""

    def __init__(self, function_name: str, function_arn: str, memory_mb: int, timeout_s: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "sandbox"
        self._timeout_ms = int(timeout_s * 1000)

    def get_remaining_time_in_millis(self) -> int:
        # Virtual time stands still during an invoke: the whole timeout is always left.
        return self._timeout_ms


def _child_main(conn: Any, spec: dict[str, Any]) -> None:
    # The environment a spawned process would have (the parent's at start), then the function's.
    os.environ.clear()
    os.environ.update(spec["parent_env"])
    os.environ.update(spec["env"])
    sys.path.insert(0, spec["runtime_dir"])
    capture = _Capture()
    sys.stdout = capture
    sys.stderr = capture
    now = [spec["now"]]
    faults = WorkerFaults(spec.get("faults") or [], spec.get("fault_seed", "0"))
    if any(rule.kind == "old_sdk" for rule in faults.rules):
        models = tempfile.mkdtemp(prefix="sandbox-sdk-")
        atexit.register(shutil.rmtree, models, ignore_errors=True)
        os.environ["AWS_DATA_PATH"] = without_parameters(faults.rules, models)  # before botocore reads it
    # The SDK's back-off between retries passes in the worker's virtual time, like any other bounded wait.
    hooks = SdkHooks(faults, on_backoff=lambda seconds: now.__setitem__(0, now[0] + seconds), role=spec.get("role"))
    hooks.install()  # before the handler builds its clients

    import time_machine

    try:
        from sandbox import worker_preload  # loaded by the fork server

        worker_preload.check_environment(os.environ)
        from whatsapp_buffer import clock

        clock.set_source(lambda: now[0])
        # A bounded wait inside an invocation (a pending transcript) passes in the worker's virtual time.
        clock.set_sleep(lambda seconds: now.__setitem__(0, now[0] + seconds))
        module_name, _, attr = spec["handler"].rpartition(".")
        with time_machine.travel(now[0], tick=False):
            handler = getattr(importlib.import_module(module_name), attr)
        if faults.rules:
            # Faults are drawn call by call from one seeded sequence: with the aggregator's flush threads the order of
            # the draws, and so the replay, would follow thread scheduling. A fault replay flushes one conversation at
            # a time so that its seed reproduces it; the threads themselves are exercised without faults.
            from whatsapp_buffer.aggregator import flush

            flush.FLUSH_CONCURRENCY = 1
    except Exception as exc:  # noqa: BLE001 - an init error is reported to the parent, like Lambda's Runtime.ImportModuleError
        conn.send({"ready": False, "error": f"{type(exc).__name__}: {exc}", "output": capture.take()})
        return
    conn.send({"ready": True, "output": capture.take(), "calls": hooks.take() + hooks.take_signed()})

    while True:
        message = conn.recv()
        if message is None:
            return
        now[0] = message["now"]
        context = _Context(spec["function_name"], spec["function_arn"], spec["memory_mb"], spec["timeout_s"])
        faults.start_invocation()
        try:
            # The whole process sees virtual time (Powertools idempotency expiry, TTLs, log timestamps).
            with time_machine.travel(now[0], tick=False):
                result = handler(message["event"], context)
            reply = {"ok": True, "result": json.loads(json.dumps(result, default=str))}
        except (Exception, InjectedCrash) as exc:  # noqa: BLE001 - the error is the invocation's result, as in Lambda
            traceback.print_exc(file=capture)
            reply = {"ok": False, "error_type": type(exc).__name__, "error_message": str(exc)}
        reply["calls"] = hooks.take()
        reply["signed"] = hooks.take_signed()
        reply["sdk_backoff_s"] = sum(hooks.take_backoffs())
        reply["output"] = capture.take()
        reply["injected"] = faults.injected
        faults.injected = 0
        conn.send(reply)


class FunctionProcess:
    """A warm Lambda container for one function."""

    def __init__(
        self,
        *,
        function_name: str,
        function_arn: str,
        handler: str,
        env: dict[str, str],
        memory_mb: int,
        timeout_s: float,
        faults: list[dict[str, Any]] | None = None,
        fault_seed: str = "0",
        role: ListingRole | None = None,
    ) -> None:
        """`role`: the function's role, which S3 consults when the handler reads a missing object
        (sandbox.s3_missing_objects)."""
        self.function_name = function_name
        self.spec = {
            "function_name": function_name,
            "function_arn": function_arn,
            "handler": handler,
            "env": env,
            "memory_mb": memory_mb,
            "timeout_s": timeout_s,
            "runtime_dir": str(RUNTIME_DIR),
            "now": 0.0,
            "faults": faults or [],
            "fault_seed": fault_seed,
            "role": role,
        }
        self._process: Any = None
        self._conn: Any = None
        self.init_calls: list[ApiCall] = []
        self.init_output: list[str] = []

    def start(self, now: float) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOADED)
        parent, child = ctx.Pipe()
        self.spec["now"] = now
        self.spec["parent_env"] = dict(os.environ)
        self._process = ctx.Process(target=_child_main, args=(child, self.spec), daemon=True)
        self._process.start()
        self._conn = parent

    def wait_ready(self) -> None:
        hello = self._conn.recv()
        self.init_output = hello.get("output", [])
        if not hello["ready"]:
            raise RuntimeError(f"function {self.function_name} failed to initialise: {hello['error']}")
        self.init_calls = hello.get("calls", [])

    def invoke(self, event: dict[str, Any], now: float) -> Invocation:
        self._conn.send({"event": event, "now": now})
        reply = self._conn.recv()
        return Invocation(
            ok=reply["ok"],
            result=reply.get("result"),
            error_type=reply.get("error_type"),
            error_message=reply.get("error_message"),
            calls=reply["calls"],
            signed=reply.get("signed", []),
            output=reply["output"],
            injected=reply.get("injected", 0),
            sdk_backoff_s=reply.get("sdk_backoff_s", 0.0),
        )

    def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send(None)
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
