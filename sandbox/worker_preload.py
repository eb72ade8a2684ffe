"""What the function workers' fork server (`sandbox.lambdas`) loads once for all of them, so that a worker's cold start
costs only what depends on its own function's environment.

It loads the SDK's models of the services the functions call (`sandbox.sdk_models`), the libraries the runtime imports
and the runtime modules that import no module reading its function's environment (`whatsapp_buffer.observability`
builds the Powertools logger and metrics from it, so it and every module that imports it are left to the worker).
Each environment variable read while loading is noted; `check_environment` refuses a worker whose function sets one
of them to another value, so a worker never runs with a module loaded under another environment than its own.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path

import botocore.session

from sandbox import sdk_models

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"
PACKAGE = "whatsapp_buffer"
ENTRIES = (
    f"{PACKAGE}.bootstrap",
    *(
        f"{PACKAGE}.entrypoints.{p.stem}"
        for p in sorted((RUNTIME_DIR / PACKAGE / "entrypoints").glob("*.py"))
        if p.stem != "__init__"
    ),
)
"""Where the import graph starts: what a function's handler module and its composition root import."""
READS_ENVIRONMENT = f"{PACKAGE}.observability"
SERVICES = ("dynamodb", "sqs", "s3", "connect", "connectparticipant", "socialmessaging", "transcribe")
"""The services the runtime's adapters build clients of."""

read_at_preload: dict[str, str | None] = {}
"""Each environment variable a preloaded module read, and its value then."""


class _RecordingEnvironment(MutableMapping[str, str]):
    """os.environ, noting each variable read."""

    def __init__(self, real: MutableMapping[str, str]) -> None:
        self.real = real

    def _note(self, key: str) -> None:
        read_at_preload.setdefault(key, self.real.get(key))

    def __getitem__(self, key: str) -> str:
        self._note(key)
        return self.real[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._note(key)
        return key in self.real

    def __setitem__(self, key: str, value: str) -> None:
        self.real[key] = value

    def __delitem__(self, key: str) -> None:
        del self.real[key]

    def __iter__(self) -> Iterator[str]:
        for key in self.real:
            self._note(key)
            yield key

    def __len__(self) -> int:
        return len(self.real)


def _source(module: str) -> Path:
    path = RUNTIME_DIR / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _is_runtime_module(name: str) -> bool:
    return name.startswith(f"{PACKAGE}.") and (_source(name).is_file())


def _imports(module: str) -> tuple[set[str], set[str]]:
    """The runtime modules `module` imports, wherever in it (a function-local import counts too), and the library
    modules it imports when it is loaded (its top-level statements)."""
    tree = ast.parse(_source(module).read_text())
    runtime: set[str] = set()
    libraries: set[str] = set()
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        # Importing a module first imports each package above it.
        runtime |= {".".join(n.split(".")[:i]) for n in names for i in range(2, n.count(".") + 2)}
        runtime = {name for name in runtime if _is_runtime_module(name)}
        if id(node) in top_level:
            libraries |= {name for name in names if name.split(".")[0] not in (PACKAGE, "__future__")}
    return runtime, libraries


def preloadable() -> tuple[list[str], list[str]]:
    """What every worker imports anyway: the library modules the runtime loads, and the runtime modules that import
    nothing reading the environment (`READS_ENVIRONMENT`, directly or through another module)."""
    graph: dict[str, set[str]] = {}
    libraries: set[str] = set()
    pending = list(ENTRIES)
    while pending:
        module = pending.pop()
        if module not in graph:
            graph[module], loaded = _imports(module)
            libraries |= loaded
            pending.extend(graph[module])
    tainted = {READS_ENVIRONMENT}
    while grown := {m for m, imported in graph.items() if m not in tainted and imported & tainted}:
        tainted |= grown
    return sorted(libraries), sorted(set(graph) - tainted)


def _preload() -> None:
    for service in SERVICES:  # each model, endpoint rule set and partition file, into the shared loader
        # Throwaway credentials: no request is made, and none are looked for (no metadata endpoint is asked).
        botocore.session.get_session().create_client(
            service,
            region_name="us-east-1",
            aws_access_key_id="preload",
            aws_secret_access_key="preload",  # noqa: S106
        )
    loaded_before = set(sys.modules)
    real = os.environ
    os.environ = _RecordingEnvironment(real)  # type: ignore[assignment]  # noqa: B003 - wraps it, clears nothing
    try:
        libraries, runtime = preloadable()
        for name in libraries:
            with contextlib.suppress(ImportError):  # `from package import name` where name is not a module
                importlib.import_module(name)
        for name in runtime:
            importlib.import_module(name)
    finally:
        os.environ = real  # noqa: B003 - the same mapping back
    loaded = set(sys.modules) - loaded_before
    assert READS_ENVIRONMENT not in loaded, f"{READS_ENVIRONMENT} must be left to each worker"


def check_environment(env: Mapping[str, str]) -> None:
    """Refuse a worker whose environment gives a variable a preloaded module read another value."""
    differing = sorted(key for key, value in read_at_preload.items() if env.get(key) != value)
    if differing:
        raise RuntimeError(
            f"the function sets {', '.join(differing)} differently from the fork server, which read them while "
            "preloading modules (sandbox/worker_preload.py): leave the module that reads them to the worker"
        )


sdk_models.install()
if str(RUNTIME_DIR) not in sys.path:
    sys.path.insert(0, str(RUNTIME_DIR))
_preload()
