"""Cold start: how long each handler module takes to import in a fresh interpreter with its function's environment,
and the size of the deployment package (runtime/ zipped the way `components/lambda_function.py` packages it)."""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DIR = ROOT / "runtime"
HANDLERS = ("ingest", "aggregator", "inbound", "outbound")
_PROBE = (
    "import time\n"
    "t = time.perf_counter()\n"
    "import importlib\n"
    "importlib.import_module({module!r})\n"
    "print(time.perf_counter() - t)\n"
)


def import_seconds(module: str, env: Mapping[str, str], repeats: int = 3) -> list[float]:
    """Seconds to import `module` in `repeats` fresh interpreters (bytecode already cached, as in a Lambda package
    that ships without .pyc the first import also compiles: see `compile_included`)."""
    times = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE.format(module=module)],
            env={**env, "PYTHONPATH": str(RUNTIME_DIR)},
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def function_environments() -> dict[str, dict[str, str]]:
    """Each function's environment as the Pulumi program sets it (from the sandbox's wiring of the resource graph),
    plus throwaway credentials and a loopback endpoint so building a client at import can never reach AWS."""
    from sandbox.program import run_program
    from sandbox.wiring import from_graph

    graph = run_program({}, stack="sandbox")
    region = str(graph.stack_outputs["inTopicArn"]).split(":")[3]
    wiring = from_graph(graph, region=region, account_id="123456789012")
    base = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    return {key: {**base, **{k: str(v) for k, v in spec.env.items()}} for key, spec in wiring.functions.items()}


def package() -> dict[str, Any]:
    """runtime/ zipped as the program packages it: every file except bytecode caches (Powertools and boto3 come from
    the Powertools layer and the Lambda runtime, not from the package)."""
    buffer = io.BytesIO()
    files = 0
    raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(RUNTIME_DIR.rglob("*")):
            relative = path.relative_to(RUNTIME_DIR)
            if path.is_dir() or "__pycache__" in relative.parts or path.suffix in (".pyc", ".pyo"):
                continue
            archive.write(path, relative.as_posix())
            files += 1
            raw += path.stat().st_size
    return {"files": files, "uncompressed_bytes": raw, "zip_bytes": len(buffer.getvalue())}


def run(repeats: int = 3) -> dict[str, Any]:
    envs = function_environments()
    baseline = import_seconds("json", envs["ingest"], repeats)
    results: dict[str, Any] = {}
    for name in HANDLERS:
        times = import_seconds(f"whatsapp_buffer.entrypoints.{name}", envs[name], repeats)
        results[name] = {"median_ms": round(1000 * statistics.median(times), 1), "max_ms": round(1000 * max(times), 1)}
    return {
        "imports": results,
        "repeats": repeats,
        "baseline_import_json_ms": round(1000 * statistics.median(baseline), 2),
        "package": package(),
    }
