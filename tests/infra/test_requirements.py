"""The program's dependencies apart from the tests' and the benchmarks': requirements.txt is what `pulumi up` needs,
requirements-dev.txt (what `make` installs) adds the Lambda runtime's exact pins and the tools."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

from components.sdk_layer import canonical_name, pins

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "requirements.txt"
DEV = ROOT / "requirements-dev.txt"


def _lines(path: Path) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]


def _named(path: Path) -> set[str]:
    """The distributions the file names itself (not through -r)."""
    return {canonical_name(re.split(r"[\[=<>!~ ]", line, maxsplit=1)[0]) for line in _lines(path) if line[:1].isalnum()}


def _closure(names: set[str]) -> set[str]:
    """`names` and every distribution they require (extras left out), as installed in this environment."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = canonical_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for spec in importlib.metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def _imports(paths: list[Path]) -> set[str]:
    modules = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


def test_the_program_requirements_install_everything_the_program_imports():
    # What `pulumi up` runs: __main__.py and components/ (whatsapp_buffer is runtime/, shipped with the components,
    # whose settings declaration imports only the standard library).
    # components/doctor*.py are not run by `pulumi up`: `make doctor` runs them in the dev .venv, whose boto3 is the
    # runtime's pin (test_the_program_requirements_install_no_test_tool_and_no_lambda_dependency keeps it out of here).
    program = [p for p in ROOT.glob("components/*.py") if not p.name.startswith("doctor")]
    modules = _imports([ROOT / "__main__.py", *program]) - {"components", "whatsapp_buffer"}
    owners = importlib.metadata.packages_distributions()
    installed = _closure(_named(PROGRAM))

    missing = {m for m in modules if not {canonical_name(d) for d in owners.get(m, [])} & installed}
    assert {"pulumi", "pulumi_aws"} <= modules and missing == set()


def test_the_program_requirements_install_no_test_tool_and_no_lambda_dependency():
    installed = _closure(_named(PROGRAM))
    tools = _named(DEV)
    lambda_only = set(pins()) - {"typing-extensions"}  # typing-extensions: pulumi requires it too

    assert {"moto", "pytest", "mypy", "ruff", "pre-commit", "matplotlib"} <= tools
    assert installed & (tools | lambda_only) == set()


def test_the_dev_requirements_build_on_the_program_and_the_runtime_pins():
    lines = [line for line in _lines(DEV) if line]

    assert lines[:3] == ["-r requirements.txt", "-r runtime/requirements.txt", "-r runtime/media-requirements.txt"]
    assert _named(DEV) & _named(PROGRAM) == set()


def test_make_reinstalls_when_any_requirements_file_changes():
    stamp_rule = re.search(r"^\$\(STAMP\): (.*)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)

    assert stamp_rule is not None
    assert set(stamp_rule[1].split()) == {
        "requirements.txt",
        "requirements-dev.txt",
        "runtime/requirements.txt",
        "runtime/media-requirements.txt",
    }
