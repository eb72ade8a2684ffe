"""No module of the runtime, the components, the sandbox or the benchmarks is longer than a reader can hold: a module
that grows past the limit is split by what it does (as `sandbox/stack_files.py` left `sandbox/program.py`, and
`bench/dynamodb_units.py` and `bench/update_expressions.py` left `bench/cost.py`)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 450
PACKAGES = ("runtime", "components", "sandbox", "bench")


def test_no_module_of_the_runtime_components_sandbox_or_bench_is_over_450_lines():
    modules = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts]
    long = {str(p.relative_to(ROOT)): n for p in modules if (n := len(p.read_text().splitlines())) > MAX_LINES}

    assert len(modules) > 100
    assert long == {}
