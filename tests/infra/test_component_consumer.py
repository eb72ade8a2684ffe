"""A program in another directory and project builds the whole bridge from `WhatsAppBuffer("support", {...})`: from
this checkout, and from the package pip builds out of the repository (components + Lambda code as package data)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infra_helpers import env, function

from sandbox.program import PROJECT_DIR, run_program
from whatsapp_buffer.settings import FUNCTIONS

EXAMPLE = PROJECT_DIR / "examples" / "support_center"


def _run_example(**config):
    return run_program(
        config,
        project="contact-center",
        program=EXAMPLE / "__main__.py",
        stack_file=EXAMPLE / "Pulumi.dev.yaml",
        project_file=EXAMPLE / "Pulumi.yaml",
    )


def test_another_program_builds_the_whole_bridge_and_buffer_seconds_reaches_the_aggregator(monkeypatch):
    monkeypatch.chdir(EXAMPLE)
    graph = _run_example(bufferSeconds=12)

    (bridge,) = graph.by_type("whatsapp-buffer:index:WhatsAppBuffer")
    assert bridge.name == "support"
    children = {r.name for r in graph.children_of(bridge.urn)}
    assert children == {
        f"support-{c}"
        for c in (
            "sdk-layer",
            "media-layer",
            "buffered-ingest",
            "stream-aggregator",
            "connect-bridge",
            "contact-flow-outreach",
            "dashboard",
        )
    }
    assert len(graph.by_type("aws:lambda/function:Function")) == len(FUNCTIONS)
    assert env(function(graph, "aggregator"))["BUFFER_SECONDS"] == "12"
    assert env(function(graph, "ingest"))["IGNORE_STICKERS"] == "false"
    assert function(graph, "ingest").outputs["name"] == "contact-center-dev-ingest"
    assert graph.stack_outputs["inTopicArn"] == graph.get("support-buffered-ingest-in-topic").outputs["arn"]
    # Aliases to the layout before, under the bridge (the stage components' former types, the ConnectBridge Outbound
    # was split from), which any program's stack may hold; none to the stack's root: that move was this repository's.
    aliases = [alias for r in graph.resources for alias in r.aliases]
    assert aliases
    assert all(not a["noParent"] and ("WhatsAppBuffer" in a["parentUrn"] or not a["parentUrn"]) for a in aliases)


def _wheel(tmp: Path) -> Path:
    """The wheel pip builds from the repository (offline: the pinned setuptools, no build isolation)."""
    source = tmp / "source"
    source.mkdir()
    shutil.copy(PROJECT_DIR / "pyproject.toml", source)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("components", "runtime"):
        shutil.copytree(PROJECT_DIR / folder, source / folder, ignore=ignore)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps", "-w", str(tmp)]
    subprocess.run([*command, str(source)], check=True, capture_output=True)
    (wheel,) = tmp.glob("whatsapp_buffer-*.whl")
    return wheel


PROBE = """
import json, sys
from pathlib import Path
import components, components.lambda_function as lf, components.stack_config as s
from sandbox.program import run_program
example = Path(sys.argv[1])
graph = run_program({"bufferSeconds": 15}, project="contact-center", program=example / "__main__.py",
                    stack_file=example / "Pulumi.dev.yaml", project_file=example / "Pulumi.yaml")
paths = sorted(asset.path for asset in lf.runtime_archive().assets.values())
aggregator = next(f for f in graph.by_type("aws:lambda/function:Function") if "aggregator" in f.inputs["handler"])
print(json.dumps({"components": components.__file__, "runtime": str(s.RUNTIME_DIR), "paths": paths,
                  "buffer": aggregator.inputs["environment"]["variables"]["BUFFER_SECONDS"]}))
"""


def test_the_package_pip_builds_holds_the_lambda_code_and_runs_from_another_directory(tmp_path):
    wheel = _wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    runtime = sorted(p.relative_to(PROJECT_DIR / "runtime").as_posix() for p in (PROJECT_DIR / "runtime").rglob("*.py"))
    assert "components/whatsapp_buffer.py" in names and "components/_runtime/requirements.txt" in names
    assert "components/_runtime/media-requirements.txt" in names
    assert {f"components/_runtime/{path}" for path in runtime if "__pycache__" not in path} <= set(names)

    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    # The consuming project: a copy of the example elsewhere, the SDK layer cache shared with this checkout's.
    project = tmp_path / "contact-center"
    shutil.copytree(EXAMPLE, project)
    (project / ".build").symlink_to(PROJECT_DIR / ".build")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(project)],
        cwd=project,
        env={"PYTHONPATH": f"{site}:{PROJECT_DIR}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])

    assert probe["components"].startswith(str(site))
    assert probe["runtime"] == str(site / "components" / "_runtime")
    assert probe["buffer"] == "15"
    # The state holds paths relative to the project's directory, never this machine's absolute paths.
    assert probe["paths"] and not any(path.startswith("/") for path in probe["paths"])
    assert all((project / path).resolve().is_file() for path in probe["paths"])


NAMED_INPUTS = ("name",)
"""The physical name an AWS resource is created under (other `...Name` inputs refer to another resource)."""


def test_two_bridges_fit_in_one_stack_by_their_name_prefix(monkeypatch):
    """AWS wants unique names per account and region for functions, log groups, queues, tables, alarms and roles; two
    WhatsAppBuffers of one stack share none of them when the second has a name prefix, and each function reports
    its own metric `service`, so alarms and the dashboard read one bridge each."""
    monkeypatch.chdir(EXAMPLE)
    graph = run_program(
        {},
        project="contact-center",
        program=Path(__file__).parent / "programs" / "two_bridges.py",
        stack_file=EXAMPLE / "Pulumi.dev.yaml",
        project_file=EXAMPLE / "Pulumi.yaml",
    )
    assert {b.name for b in graph.by_type("whatsapp-buffer:index:WhatsAppBuffer")} == {"support", "sales"}
    physical: dict[tuple[str, str], list[str]] = {}
    for resource in graph.resources:
        for key in NAMED_INPUTS:
            value = resource.inputs.get(key)
            if isinstance(value, str) and value and not resource.type.startswith("aws:lambda/permission"):
                physical.setdefault((resource.type, value), []).append(resource.name)
    shared = {k: v for k, v in physical.items() if len(v) > 1}
    assert shared == {}
    functions = graph.by_type("aws:lambda/function:Function")
    assert len(functions) == 2 * len(FUNCTIONS)
    assert "contact-center-dev-sales-ingest" in {f.outputs["name"] for f in functions}
    services = {env(f).get("POWERTOOLS_SERVICE_NAME") for f in functions}
    assert services == {"contact-center-dev", "contact-center-dev-sales"}


def test_a_name_prefix_that_cannot_start_a_resource_name_is_refused():
    from components.whatsapp_buffer import NAME_PREFIX

    assert NAME_PREFIX.fullmatch("sales") and NAME_PREFIX.fullmatch("") and NAME_PREFIX.fullmatch("eu-2")
    for bad in ("Sales", "2nd", "sales_team", "a" * 17, "-x"):
        assert not NAME_PREFIX.fullmatch(bad), bad
