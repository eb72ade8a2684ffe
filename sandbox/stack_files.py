"""Stack config as the Pulumi CLI hands it to the program: the stack file's `config:`, `pulumi config set` values on
top, then Pulumi.yaml's `config:` block (defaults, required keys, types). What the CLI refuses is a StackConfigError
with the CLI's message, before any program runs; `sandbox.program` runs the program with what this returns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components.stack_config import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE_STACK_FILE = PROJECT_DIR / "Pulumi.dev.yaml"
PROJECT_FILE = PROJECT_DIR / "Pulumi.yaml"


class StackConfigError(ConfigError):
    """Stack config `pulumi preview` refuses before the program runs: a key without a namespace, a value that is not
    of the type Pulumi.yaml declares, a required key unset. The message is the CLI's."""


def parse_key(key: str) -> str:
    """A stack-file key as the Pulumi CLI parses it: `<namespace>:<name>` (or the old `<namespace>:config:<name>`).

    pulumi/pulumi sdk/go/common/resource/config/key.go, `ParseKey`: one colon splits namespace and name; two are
    accepted only as `<namespace>:config:<name>`; anything else is "could not parse %s as a configuration key
    (configuration keys should be of the form `<namespace>:<name>`)". A stack file's `config:` map is unmarshalled
    key by key through it (`Key.UnmarshalYAML`), so a bare `bufferSeconds` in Pulumi.<stack>.yaml stops the CLI.
    """
    parts = key.split(":")
    if len(parts) == 2 and all(parts):
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    raise StackConfigError(
        f"could not parse {key} as a configuration key (configuration keys should be of the form `<namespace>:<name>`)"
    )


def stack_file_config(path: Path) -> dict[str, str]:
    """A stack file's `config:` as the CLI reads it: keys parsed by `parse_key`, each scalar value as its text.

    A scalar is taken as written (`20`, `true`, `us-east-1`), so `True`, `0x14` or `20.0`, which some Pulumi releases
    normalise while decoding YAML and others pass on as written, are refused by the type rules below rather than
    guessed at: write `true`/`false` and decimal integers. Structured values are passed on as JSON, as Pulumi does.
    """
    node = yaml.compose(path.read_text())
    values: dict[str, str] = {}
    if node is None:
        return values
    config = next((v for k, v in node.value if k.value == "config"), None)
    for key_node, value_node in getattr(config, "value", None) or []:
        key = parse_key(key_node.value)
        if isinstance(value_node, yaml.ScalarNode):
            values[key] = value_node.value
        else:
            values[key] = json.dumps(yaml.safe_load(yaml.serialize(value_node)))
    return values


def _go_atoi(text: str) -> bool:
    """Whether Go's strconv.Atoi accepts `text`: an optional sign, ASCII digits, within int64; no spaces, no `_`."""
    return re.fullmatch(r"[+-]?[0-9]+", text) is not None and -(2**63) <= int(text) < 2**63


def _valid(type_name: str, value: str) -> bool:
    """pulumi/pulumi sdk/go/common/workspace/project.go, `ValidateConfigValue`, for the string a stack value is:
    `integer` -> `strconv.Atoi(valueAsText)` must succeed; `boolean` -> `literalValue == "true" || literalValue ==
    "false"`; `string` -> any string."""
    if type_name == "integer":
        return _go_atoi(value)
    if type_name == "boolean":
        return value in ("true", "false")
    return True


def apply_project_config(
    values: dict[str, str], project: str, stack: str, project_file: Path = PROJECT_FILE
) -> dict[str, str]:
    """What the CLI does with Pulumi.yaml's `config:` before the program runs (pulumi/pulumi
    sdk/go/common/workspace/config.go, `mergeConfig` and `validateStackConfigValues`): an unset key takes its
    `default` (or `value`); an unset project key with neither is "Stack '<stack>' is missing configuration value
    '<key>'"; a typed key's value must validate, else "Stack '<stack>' with configuration key '<key>' must be of type
    '<type>'"."""
    declared = (yaml.safe_load(project_file.read_text()) or {}).get("config") or {}
    merged = dict(values)
    missing = []
    for name in sorted(declared):
        spec = declared[name] if isinstance(declared[name], dict) else {"default": declared[name]}
        key = name if ":" in name else f"{project}:{name}"
        if key not in merged:
            fallback = spec.get("default", spec.get("value"))
            if fallback is not None:
                merged[key] = _config_string(fallback)
            elif key.split(":")[0] == project:
                missing.append(name)
    if missing:
        quoted = [f"'{name}'" for name in missing]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
        plural = "value" if len(missing) == 1 else "values"
        raise StackConfigError(f"Stack '{stack}' is missing configuration {plural} {listed}")
    for name in sorted(declared):
        spec = declared[name] if isinstance(declared[name], dict) else {}
        key = name if ":" in name else f"{project}:{name}"
        if "type" in spec and not _valid(spec["type"], merged[key]):
            raise StackConfigError(f"Stack '{stack}' with configuration key '{name}' must be of type '{spec['type']}'")
    return merged


def stack_config(
    config: Mapping[str, Any] | None,
    project: str,
    stack: str = "dev",
    stack_file: Path = SAMPLE_STACK_FILE,
    project_file: Path = PROJECT_FILE,
) -> dict[str, str]:
    """The config the program sees under `pulumi preview`: the stack file's, `config` on top, Pulumi.yaml applied.

    `config` is what `pulumi config set KEY VALUE` would add: a key without a colon takes the project's namespace
    ("When a key name is used without a colon, Pulumi uses the current project name from Pulumi.yaml as the
    namespace", https://www.pulumi.com/docs/iac/concepts/config/). Keys come back namespaced; StackConfigError for what
    the CLI refuses.
    """
    values = stack_file_config(stack_file)
    for key, value in (config or {}).items():
        values[parse_key(key if ":" in key else f"{project}:{key}")] = _config_string(value)
    return apply_project_config(values, project, stack, project_file)


def _config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
