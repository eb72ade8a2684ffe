"""The SDK layer: every function runs the boto3, botocore and Powertools the tests ran, built for arm64/python3.13.

Why: the runtime starts each chat with `StartChatContact(…, ChatStreamingConfiguration={"StreamingEndpointArn": …})`
(runtime/whatsapp_buffer/connect_chat.py). The botocore model gained `StartChatContact.ChatStreamingConfiguration`
in botocore 1.43.104 (checked against the released wheels: the
`StartChatContactRequest` shape of botocore 1.43.103's `data/connect/2017-08-08/service-2.json.gz` has no such
member, 1.43.104's has it). An older botocore raises ParamValidationError before any request leaves the function,
and the Lambda runtime's bundled SDK is of an unknown, lagging version. Lambda's Python search path puts the layer
(`/opt/python`) ahead of the runtime's bundled libraries (`/var/lang/lib/python3.13/site-packages`, `/var/runtime`;
AWS Lambda Developer Guide, "Working with .zip file archives for Python Lambda functions", dependency search path).
"""

from __future__ import annotations

import ast
import gzip
import importlib.metadata
import json
import os
import re
import sys
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from components import sdk_layer
from components.lambda_function import RUNTIME_DIR
from components.sdk_layer import LayerBuildError, build_layer_dir, cache_key, canonical_name, pins
from sandbox.program import ACCOUNT_ID, ResourceGraph, run_program
from whatsapp_buffer.settings import FUNCTIONS

LAYER_TYPE = "aws:lambda/layerVersion:LayerVersion"
EM_AARCH64 = 183
"""ELF e_machine of AArch64 (the System V ABI's machine number; `readelf -h` prints "AArch64")."""
LAMBDA_ENVIRONMENT = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "extra": "",
}
"""Environment markers as a python3.13 arm64 function evaluates them (no extras requested)."""


def the_layer(graph: ResourceGraph, name: str = "sdk"):
    (layer,) = [r for r in graph.by_type(LAYER_TYPE) if r.name == f"whatsapp-buffer-{name}-layer-version"]
    return layer


def layer_dir(graph: ResourceGraph, name: str = "sdk") -> Path:
    """The directory the program archived as the layer's code (relative to the working directory, like the state)."""
    return Path(the_layer(graph, name).inputs["code"].path)


def distributions(root: Path) -> dict[str, dict]:
    """canonical name -> {version, requires, tags} read from every `*.dist-info` of the built `python/` tree."""
    found = {}
    for info in (root / "python").glob("*.dist-info"):
        metadata = Parser().parsestr((info / "METADATA").read_text())
        wheel = Parser().parsestr((info / "WHEEL").read_text())
        found[canonical_name(metadata["Name"])] = {
            "version": metadata["Version"],
            "requires": metadata.get_all("Requires-Dist") or [],
            "tags": wheel.get_all("Tag") or [],
        }
    return found


def test_every_function_lists_the_sdk_layer_the_stack_builds_and_only_the_bridge_functions_the_media_layer(graph):
    layer, media = the_layer(graph), the_layer(graph, "media")
    (component,) = graph.by_type("whatsapp-buffer:index:SdkLayer")
    arn = layer.outputs.get("arn")

    assert layer.parent == component.urn and component.parent.endswith("index:WhatsAppBuffer::whatsapp-buffer")
    assert re.fullmatch(rf"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:layer:whatsapp-buffer-dev-sdk:\d+", str(arn)), arn
    assert layer.inputs["compatibleRuntimes"] == ["python3.13"]
    assert layer.inputs["compatibleArchitectures"] == ["arm64"]
    functions = graph.by_type("aws:lambda/function:Function")
    assert len(functions) == len(FUNCTIONS)
    for f in functions:
        converts = f.name.endswith(("-inbound-function", "-outbound-function"))  # customer's and agent's files
        assert f.inputs["layers"] == [arn, *([media.outputs["arn"]] if converts else [])], f.name
    assert graph.stack_outputs["sdkLayerArn"] == arn
    (media_component,) = graph.by_type("whatsapp-buffer:index:MediaLayer")
    assert media.parent == media_component.urn
    assert re.fullmatch(
        rf"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:layer:whatsapp-buffer-dev-media:\d+", str(media.outputs["arn"])
    )
    assert media.inputs["compatibleRuntimes"] == ["python3.13"] and media.inputs["compatibleArchitectures"] == ["arm64"]
    assert media.inputs["description"] == "av 18.1.0, pillow 13.0.0, pi-heif 1.4.0 (runtime/media-requirements.txt)"


def test_the_layer_is_archived_by_a_relative_path_so_the_state_holds_no_machine_path(graph):
    path = the_layer(graph).inputs["code"].path

    assert not os.path.isabs(path)
    assert Path(path).resolve() == (sdk_layer.LAYERS_DIR / cache_key()).resolve()


def test_the_layer_holds_exactly_the_pinned_versions_the_tests_import(graph):
    """Production runs what CI tested: the built layer's dist-infos are exactly runtime/requirements.txt, and each is
    the version this test process imports (the top-level requirements-dev.txt includes the same file)."""
    built = {name: d["version"] for name, d in distributions(layer_dir(graph)).items()}

    assert built == pins()
    for name, version in built.items():
        assert importlib.metadata.version(name) == version, name


def test_the_layers_botocore_accepts_chat_streaming_configuration_on_start_chat_contact(graph):
    """botocore model, connect 2017-08-08, `StartChatContactRequest.ChatStreamingConfiguration` ("The streaming
    configuration, such as the Amazon SNS streaming endpoint. Use it to initiate real-time message streaming when the
    chat is created."): present in the botocore the functions import, so the call never fails validation."""
    (model,) = (layer_dir(graph) / "python" / "botocore" / "data" / "connect").glob("*/service-2.json.gz")
    shapes = json.loads(gzip.decompress(model.read_bytes()))["shapes"]

    assert "ChatStreamingConfiguration" in shapes["StartChatContactRequest"]["members"]
    assert Version(pins()["botocore"]) >= Version("1.43.104")


def _loads_on_lambda(tag: str) -> bool:
    python, abi, platform = tag.split("-")
    return (
        (
            bool(set(python.split(".")) & {"py3", "cp313"})
            # A stable-ABI wheel built for CPython 3.x loads on every later CPython (PEP 384).
            or (abi == "abi3" and re.fullmatch(r"cp3(\d+)", python) is not None and int(python[3:]) <= 13)
        )
        and abi in ("none", "abi3", "cp313")
        and (platform == "any" or re.fullmatch(r"manylinux\w*_aarch64", platform) is not None)
    )


def foreign_binaries(root: Path) -> list[str]:
    """Files that would not load on arm64 Linux: ELF objects for another machine, native-extension names that are no
    ELF at all (Mach-O, PE), and wheels tagged for another platform or interpreter."""
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        with path.open("rb") as file:
            header = file.read(20)
        native_name = path.suffix in (".so", ".pyd", ".dylib") or ".so." in path.name
        if header[:4] == b"\x7fELF":
            machine = int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")
            if machine != EM_AARCH64:
                found.append(f"{path.relative_to(root)}: ELF machine {machine}")
        elif native_name:
            found.append(f"{path.relative_to(root)}: not an ELF object")
    for info in sorted(root.rglob("*.dist-info/WHEEL")):
        # A wheel loads if any one of its tags matches (`py2-none-any` + `py3-none-any` is a universal wheel).
        tags = Parser().parsestr(info.read_text()).get_all("Tag") or []
        if not any(_loads_on_lambda(tag) for tag in tags):
            found.append(f"{info.parent.name}: wheel tags {', '.join(tags)}")
    return found


def test_the_layer_holds_no_native_code_or_wheel_built_for_another_platform(graph):
    assert foreign_binaries(layer_dir(graph)) == []


def test_the_media_layer_holds_exactly_the_media_pins_built_for_aarch64_only(graph):
    """PyAV and Pillow as runtime/media-requirements.txt pins them, the versions the tests convert with; their bundled
    FFmpeg, libwebp and friends are all AArch64 ELF objects."""
    root = layer_dir(graph, "media")
    built = {name: d["version"] for name, d in distributions(root).items()}

    assert built == pins(sdk_layer.MEDIA_REQUIREMENTS) == {"av": "18.1.0", "pillow": "13.0.0", "pi-heif": "1.4.0"}
    for name, version in built.items():
        assert importlib.metadata.version(name) == version, name
    assert any(path.name.startswith("libavcodec") for path in (root / "python" / "av.libs").iterdir())
    assert foreign_binaries(root) == []
    assert not set(built) & set(pins())


def test_foreign_binaries_names_an_x86_64_extension_a_macos_one_and_a_foreign_wheel_tag(tmp_path):
    python = tmp_path / "python"
    (python / "fast.dist-info").mkdir(parents=True)
    x86_64 = b"\x7fELF\x02\x01\x01" + bytes(11) + (62).to_bytes(2, "little")
    aarch64 = b"\x7fELF\x02\x01\x01" + bytes(11) + EM_AARCH64.to_bytes(2, "little")
    (python / "_x.cpython-313-x86_64-linux-gnu.so").write_bytes(x86_64 + bytes(44))
    (python / "_ok.cpython-313-aarch64-linux-gnu.so").write_bytes(aarch64 + bytes(44))
    (python / "_mac.cpython-313-darwin.so").write_bytes(b"\xcf\xfa\xed\xfe" + bytes(60))
    (python / "fast.dist-info" / "WHEEL").write_text("Wheel-Version: 1.0\nTag: cp313-cp313-manylinux2014_x86_64\n")

    assert foreign_binaries(tmp_path) == [
        "python/_mac.cpython-313-darwin.so: not an ELF object",
        "python/_x.cpython-313-x86_64-linux-gnu.so: ELF machine 62",
        "fast.dist-info: wheel tags cp313-cp313-manylinux2014_x86_64",
    ]


def test_runtime_requirements_are_closed_so_no_deps_leaves_nothing_out(graph):
    """The layer is installed with `--no-deps`: every requirement of every pinned distribution that applies on
    python3.13/arm64 must itself be pinned, at a version the requirement accepts (read from the shipped METADATA)."""
    pinned = pins()
    missing = []
    for name, dist in distributions(layer_dir(graph)).items():
        for text in dist["requires"]:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate(LAMBDA_ENVIRONMENT):
                continue
            wanted = canonical_name(requirement.name)
            if wanted not in pinned or not requirement.specifier.contains(pinned[wanted], prereleases=True):
                missing.append(f"{name} needs {text}; pinned: {pinned.get(wanted)}")

    assert missing == []


def third_party_imports(package: Path) -> set[str]:
    """Top-level modules the package imports that are neither the standard library nor the package itself."""
    modules = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {package.name}


def test_runtime_requirements_pin_every_distribution_the_runtime_imports():
    modules = third_party_imports(RUNTIME_DIR / "whatsapp_buffer")
    owners = importlib.metadata.packages_distributions()

    assert {"boto3", "botocore", "aws_lambda_powertools"} <= modules
    pinned = set(pins()) | set(pins(sdk_layer.MEDIA_REQUIREMENTS))
    unpinned = {module for module in modules if not {canonical_name(d) for d in owners.get(module, [])} & pinned}
    assert unpinned == set()
    assert {"av", "PIL"} <= modules


def test_top_level_requirements_take_the_runtime_pins_from_runtime_requirements():
    """One pin rules tests and production: requirements-dev.txt (what the tests run in) includes
    runtime/requirements.txt and pins none of its distributions again."""
    lines = [
        line.split("#", 1)[0].strip() for line in (RUNTIME_DIR.parent / "requirements-dev.txt").read_text().splitlines()
    ]

    assert "-r runtime/requirements.txt" in lines and "-r runtime/media-requirements.txt" in lines
    named = {canonical_name(re.split(r"[\[=<>!~ ]", line, maxsplit=1)[0]) for line in lines if line and line[0] != "-"}
    assert named & (set(pins()) | set(pins(sdk_layer.MEDIA_REQUIREMENTS))) == set()


def test_program_runs_reuse_the_built_layer_without_running_pip(graph, monkeypatch):
    def no_pip(*args: str) -> None:
        raise AssertionError(f"pip ran: {args}")

    built = layer_dir(graph)
    monkeypatch.setattr(sdk_layer, "_pip", no_pip)
    sdk_layer.layer_archive.cache_clear()

    assert layer_dir(run_program({"aws:region": "eu-west-1"})) == built


def fake_requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


def test_the_cache_key_follows_the_pins_not_the_files_location(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = fake_requirements(tmp_path / "a", "six==1.17.0\n")
    same = fake_requirements(tmp_path / "b", "six==1.17.0\n")

    assert cache_key(one) == cache_key(same)
    same.write_text("six==1.16.0\n")
    assert cache_key(one) != cache_key(same)


@pytest.mark.parametrize(
    ("cached", "offline"),
    [
        (["six-1.17.0-py2.py3-none-any.whl", "Typing_Extensions-4.16.0-py3-none-any.whl"], True),
        (["six-1.17.0-py2.py3-none-any.whl"], False),
    ],
    ids=["every-pin-cached", "one-pin-missing"],
)
def test_the_build_uses_no_index_only_when_the_wheel_cache_holds_every_pin(tmp_path, monkeypatch, cached, offline):
    requirements = fake_requirements(tmp_path, "six==1.17.0\ntyping-extensions==4.16.0\n")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for name in cached:
        (wheels / name).write_bytes(b"")
    calls = []

    def fake_pip(*args: str) -> None:
        calls.append(args)
        target = Path(args[args.index("--target") + 1])
        (target / "bin").mkdir(parents=True)
        (target / "six.py").write_text("")

    monkeypatch.setattr(sdk_layer, "_pip", fake_pip)
    built = build_layer_dir(requirements, wheels, tmp_path / "layers")

    (args,) = calls
    assert ("--no-index" in args) is offline
    assert args[args.index("--find-links") + 1] == str(wheels)
    assert {"--no-deps", "--only-binary=:all:", "--no-compile", "manylinux2014_aarch64"} <= set(args)
    assert built == tmp_path / "layers" / cache_key(requirements)
    assert sorted(p.name for p in (built / "python").iterdir()) == ["six.py"]
    assert [p.name for p in (tmp_path / "layers").iterdir()] == [built.name]


def test_a_failed_build_leaves_nothing_under_its_key(tmp_path, monkeypatch):
    def failing_pip(*args: str) -> None:
        Path(args[args.index("--target") + 1]).mkdir(parents=True)
        raise LayerBuildError("pip install failed (1): no matching distribution")

    monkeypatch.setattr(sdk_layer, "_pip", failing_pip)
    requirements = fake_requirements(tmp_path, "six==1.17.0\n")

    with pytest.raises(LayerBuildError, match="no matching distribution"):
        build_layer_dir(requirements, tmp_path / "wheels", tmp_path / "layers")
    assert list((tmp_path / "layers").iterdir()) == []


@pytest.mark.parametrize("line", ["boto3>=1.44", "boto3", "-e ./vendor/boto3", "boto3==1.44.8 --hash=sha256:00"])
def test_runtime_requirements_accept_only_exact_pins(tmp_path, line):
    with pytest.raises(ValueError, match="expected an exact pin"):
        pins(fake_requirements(tmp_path, f"six==1.17.0\n{line}\n"))


def test_the_makefiles_layer_command_runs_without_python_warning_of_a_module_run_twice():
    """`make test` and `make demo` start with `python -m components.layer_wheels`: run as `-m components.sdk_layer`,
    a module the package already imports, Python ran it twice and said so ("found in sys.modules after import of
    package 'components' ... may result in unpredictable behaviour"). Here any RuntimeWarning is an error."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "components.layer_wheels", "nonsense"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert (done.returncode, done.stderr.strip()) == (2, "usage: python -m components.layer_wheels [build [media]]")
