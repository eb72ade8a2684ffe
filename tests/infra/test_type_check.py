"""The type check `make test` runs (mypy, configured in pyproject.toml): strict enough to refuse a wrong type handed
from one layer to the next, and following every pulumi_aws service the components use and every moto module the
sandbox imports."""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def _followed_modules() -> set[str]:
    followed = [o for o in CONFIG["overrides"] if o.get("follow_imports") == "normal"]
    return {module for override in followed for module in override["module"]}


def _is_module(name: str) -> bool:
    """Whether `name` is a module of its installed package (found on disk, without importing it)."""
    top, *rest = name.split(".")
    spec = importlib.util.find_spec(top)
    assert spec is not None and spec.submodule_search_locations, f"{top} is not an installed package"
    path = Path(next(iter(spec.submodule_search_locations)), *rest)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported_modules(paths: list[Path], package: str) -> set[str]:
    """The modules of `package` these files import: `from a.b import c` names a.b.c when c is a module, else a.b."""
    used = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                used |= {alias.name for alias in node.names if alias.name.split(".")[0] == package}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == package:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    used.add(submodule if _is_module(submodule) else str(node.module))
    return used


def test_every_pulumi_aws_module_the_program_uses_is_type_checked():
    # pulumi_aws.* is skipped (Any) except the listed services; a service missing from the list would be unchecked.
    used = set()
    for path in [*ROOT.glob("components/*.py"), ROOT / "__main__.py"]:
        used |= {f"pulumi_aws.{name}" for name in re.findall(r"\baws\.([a-z][a-z0-9_]*)\b", path.read_text())}

    assert used, "no aws.<service> found: the scan no longer matches how the components import pulumi_aws"
    assert used - _followed_modules() == set()


def test_every_moto_module_the_sandbox_imports_is_type_checked():
    # moto.* is skipped (Any) except the listed modules; a module missing from the list would be unchecked.
    assert "sandbox" in CONFIG["files"]
    used = _imported_modules(sorted(ROOT.glob("sandbox/**/*.py")), "moto")

    assert {"moto.core.responses", "moto.dynamodb.models.table"} <= used, (
        "the scan no longer finds the sandbox's moto imports"
    )
    assert used - _followed_modules() == set()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module's checks: the first builds it (the standard library's types), the rest reuse it."""
    return tmp_path_factory.mktemp("mypy-cache")


def _check(tmp_path: Path, cache: Path, source: str) -> tuple[str, int]:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(source)
    stdout, stderr, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache), str(snippet)]
    )
    assert stderr == ""
    return stdout, status


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            # The program's typed settings -> a component: buffer_seconds is an int, not text.
            "from components.stack_config import parse_settings\nname: str = parse_settings({}).buffer_seconds\n",
            'expression has type "int", variable has type "str"',
        ),
        (
            # A function's environment -> its use case: a quiet period given as the variable's text.
            "from whatsapp_buffer.buffer_policy import BufferPolicy\n"
            'BufferPolicy(buffer_seconds="20", max_wait_seconds=60, max_messages=50, window_seconds=1, end_of_turn="cues")\n',
            'Argument "buffer_seconds" to "BufferPolicy" has incompatible type "str"; expected "float"',
        ),
        (
            # A setting that is not declared does not exist on the typed settings.
            "from components.stack_config import parse_settings\nparse_settings({}).bufferSeconds\n",
            '"StackSettings" has no attribute "bufferSeconds"',
        ),
    ],
)
def test_the_type_check_refuses_a_wrong_type_between_layers(tmp_path, cache, source, error):
    stdout, status = _check(tmp_path, cache, source)

    assert status == 1 and error in stdout


def test_the_type_check_accepts_the_same_code_with_the_right_types(tmp_path, cache):
    stdout, status = _check(
        tmp_path,
        cache,
        "from components.stack_config import parse_settings\n"
        "from whatsapp_buffer.buffer_policy import BufferPolicy\n"
        "seconds: int = parse_settings({}).buffer_seconds\n"
        'BufferPolicy(buffer_seconds=seconds, max_wait_seconds=60, max_messages=50, window_seconds=1, end_of_turn="cues")\n',
    )

    assert (status, stdout.splitlines()[-1]) == (0, "Success: no issues found in 1 source file")
