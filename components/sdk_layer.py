"""SdkLayer: the Lambda layer every function lists, holding exactly the SDK the tests ran.

The Lambda runtime's bundled boto3/botocore is of an unknown, lagging version, so the stack builds one layer from
`runtime/requirements.txt` (exact pins of the runtime's whole third-party closure) and every function lists it.
`build_layer_dir` builds it once per pin set into `.build/sdk-layer/<key>/python/` (key: the requirements' sha256,
the target platform and this builder's format version) with `pip install --target --platform manylinux2014_aarch64
--only-binary=:all: --no-deps --no-compile`, offline from `.build/wheels` when every pin is there, into a temporary
directory renamed into place (atomic). The media layer (`MediaLayer`, `MEDIA`) is built the same way from
`runtime/media-requirements.txt`. Why and how: docs/deploy.md#the-sdk-layer.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.context import StackContext
from components.lambda_function import ARCHITECTURE, RUNTIME
from components.stack_config import RUNTIME_DIR

PROJECT_DIR = Path(__file__).resolve().parent.parent
REQUIREMENTS = RUNTIME_DIR / "requirements.txt"
BUILD_DIR = PROJECT_DIR / ".build" if RUNTIME_DIR.parent == PROJECT_DIR else Path.cwd() / ".build"
"""The cache: .build/ of the checkout, or, where pip installed the component, .build/ of the consuming project (the
working directory under `pulumi up`), never site-packages."""
WHEELS_DIR = BUILD_DIR / "wheels"
LAYERS_DIR = BUILD_DIR / "sdk-layer"
MEDIA_REQUIREMENTS = RUNTIME_DIR / "media-requirements.txt"
MEDIA_LAYERS_DIR = BUILD_DIR / "media-layer"

PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
"""pip's platform tag for each Lambda architecture (Lambda runs Amazon Linux 2023, glibc 2.34 >= manylinux2014)."""
PLATFORM = PLATFORMS[ARCHITECTURE]
PYTHON_VERSION = RUNTIME.removeprefix("python")
IMPLEMENTATION = "cp"
MEDIA_PLATFORM = "manylinux_2_28_aarch64" if ARCHITECTURE == "arm64" else "manylinux_2_28_x86_64"
BUILD_FORMAT = 1
"""Part of the cache key: bump it when the build procedure changes what lands in the layer."""

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


class LayerBuildError(RuntimeError):
    """pip could not build the layer; the message carries pip's own output."""


def canonical_name(name: str) -> str:
    """A distribution name as PEP 503 compares them (`Typing_Extensions` == `typing-extensions`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """canonical distribution name -> pinned version; any line that is not `name==version` (or a comment) is an
    error, so the file stays a plain, exact pin list."""
    found: dict[str, str] = {}
    for number, line in enumerate(requirements.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        match = _PIN.match(text)
        if match is None:
            raise ValueError(f"{requirements.name}:{number}: expected an exact pin `name==version`, got {text!r}")
        found[canonical_name(match[1])] = match[2]
    return found


def _platform_args(platform: str = PLATFORM) -> list[str]:
    return [
        "--platform",
        platform,
        "--implementation",
        IMPLEMENTATION,
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-deps",
    ]


def cache_key(requirements: Path = REQUIREMENTS, platform: str = PLATFORM) -> str:
    """What the built layer depends on: the pins, the target platform and the build procedure."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"\0{platform}\0{IMPLEMENTATION}\0{PYTHON_VERSION}\0{BUILD_FORMAT}".encode())
    return digest.hexdigest()[:16]


def _cached_wheels(wheels: Path) -> set[tuple[str, str]]:
    """(canonical name, version) of every wheel in the cache directory (`name-version-…-tags.whl`)."""
    if not wheels.is_dir():
        return set()
    return {
        (canonical_name(parts[0]), parts[1])
        for parts in (path.name.split("-") for path in wheels.glob("*.whl"))
        if len(parts) >= 5
    }


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LayerBuildError(f"pip {args[0]} failed ({done.returncode}):\n{done.stderr.strip() or done.stdout}")


def download_wheels(requirements: Path = REQUIREMENTS, wheels: Path = WHEELS_DIR, platform: str = PLATFORM) -> None:
    """Fill the wheel cache with every pin for the functions' platform (network: the package index, unless the cache
    already holds every pin)."""
    if set(pins(requirements).items()) <= _cached_wheels(wheels):
        return
    wheels.mkdir(parents=True, exist_ok=True)
    _pip("download", "--dest", str(wheels), *_platform_args(platform), "-r", str(requirements))


def build_layer_dir(
    requirements: Path = REQUIREMENTS, wheels: Path = WHEELS_DIR, layers: Path = LAYERS_DIR, platform: str = PLATFORM
) -> Path:
    """The layer's content directory (`python/` inside), built unless the same key was built before."""
    target = layers / cache_key(requirements, platform)
    if target.is_dir():
        return target
    layers.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=layers))
    try:
        offline = set(pins(requirements).items()) <= _cached_wheels(wheels)
        sources = ["--no-index"] if offline else []
        _pip(
            "install",
            "--target",
            str(staging / "python"),
            *_platform_args(platform),
            "--no-compile",
            *sources,
            "--find-links",
            str(wheels),
            "-r",
            str(requirements),
        )
        # Console scripts (jmespath's jp.py) are of no use on a function's path.
        shutil.rmtree(staging / "python" / "bin", ignore_errors=True)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
            # Another process built the same key first: its copy is as good as ours.
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class LayerSpec:
    """One layer the stack builds: its pins, where it is built, for which platform, what its description names."""

    name: str
    requirements: Path
    layers: Path
    platform: str
    shown: tuple[str, ...]

    def build(self) -> Path:
        return build_layer_dir(self.requirements, WHEELS_DIR, self.layers, self.platform)

    def download(self) -> None:
        download_wheels(self.requirements, WHEELS_DIR, self.platform)


SDK = LayerSpec("sdk", REQUIREMENTS, LAYERS_DIR, PLATFORM, ("boto3", "botocore", "aws-lambda-powertools"))
MEDIA = LayerSpec("media", MEDIA_REQUIREMENTS, MEDIA_LAYERS_DIR, MEDIA_PLATFORM, ("av", "pillow", "pi-heif"))


@functools.cache
def layer_archive(spec: LayerSpec = SDK) -> pulumi.FileArchive:
    """The built layer directory as an archive, by a path relative to the working directory (the project root under
    `pulumi up`) so the state holds no machine paths; built at most once per process."""
    return pulumi.FileArchive(os.path.relpath(spec.build()))


def layer_description(requirements: Path = REQUIREMENTS, shown: tuple[str, ...] = SDK.shown) -> str:
    pinned = pins(requirements)
    named = ", ".join(f"{name} {pinned[name]}" for name in shown)
    return f"{named} (runtime/{requirements.name})"


@dataclass(frozen=True)
class SdkLayerArgs:
    context: StackContext


class SdkLayer(pulumi.ComponentResource):
    """One layer version per stack with the pinned SDK; pass `layer.arn` to every function."""

    TYPE = "whatsapp-buffer:index:SdkLayer"
    SPEC = SDK
    layer: aws.lambda_.LayerVersion

    def __init__(self, name: str, args: SdkLayerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-version",
            layer_name=args.context.physical_name(self.SPEC.name),
            description=layer_description(self.SPEC.requirements, self.SPEC.shown),
            code=layer_archive(self.SPEC),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"arn": self.layer.arn})


class MediaLayer(SdkLayer):
    """One layer version per stack with PyAV and Pillow (runtime/media-requirements.txt); the inbound and outbound
    functions list it."""

    TYPE = "whatsapp-buffer:index:MediaLayer"
    SPEC = MEDIA
