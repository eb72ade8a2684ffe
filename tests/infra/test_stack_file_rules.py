"""The mock runner refuses the stack config `pulumi preview` refuses, with the CLI's message.

Sources (pulumi/pulumi, the Go CLI that reads stack files before any program runs):
* sdk/go/common/resource/config/key.go, `ParseKey`: a stack-file key is `<namespace>:<name>`; otherwise "could not
  parse %s as a configuration key (configuration keys should be of the form `<namespace>:<name>`)".
* sdk/go/common/workspace/project.go, `ValidateConfigValue`: `integer` -> "Allow strings here if they parse as
  integers": `strconv.Atoi(valueAsText)`; `boolean` -> "check to see if the value is a literal string "true" |
  "false"".
* sdk/go/common/workspace/config.go, `mergeConfig`: an unset key takes Pulumi.yaml's `default`; an unset project key
  without one is "Stack '%v' is missing configuration value %v"; a value of the wrong type is "Stack '%v' with
  configuration key '%v' must be of type '%v'".
The Python SDK is laxer on its own (pulumi/config.py: `_get_bool` takes "true"/"True"/"false"/"False", `_get_int` is
Python's `int()`, which takes " 20", "2_0" and "٢٠"), and components/stack_config.py reads strings with `int()` and
`.lower()`: without these rules the mocks accepted values the CLI stops at.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from infra_helpers import env, function

from components.stack_config import CONFIG_KEYS, SETTINGS, ConfigError, Integer, Ref, parse_settings
from sandbox.program import run_program
from sandbox.stack_files import SAMPLE_STACK_FILE, StackConfigError, parse_key, stack_config, stack_file_config

PROJECT = "whatsapp-buffer"
README = Path(__file__).resolve().parents[2] / "README.md"
DOC_PAGES = [README, *sorted((README.parent / "docs").glob("*.md"))]
UUID = "12345678-1234-1234-1234-123456789abc"
NAMESPACED_KEYS = {f"{PROJECT}:{key}" for key in CONFIG_KEYS}


def stack_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(body)
    return path


@pytest.mark.parametrize("key", ["bufferSeconds", "a:b:c", ":bufferSeconds", "whatsapp-buffer:"])
def test_a_stack_file_key_without_its_namespace_stops_the_program(tmp_path, key):
    path = stack_file(tmp_path, f"config:\n  {key}: 20\n")

    with pytest.raises(StackConfigError) as raised:
        stack_file_config(path)

    assert str(raised.value) == (
        f"could not parse {key} as a configuration key (configuration keys should be of the form `<namespace>:<name>`)"
    )


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("whatsapp-buffer:bufferSeconds", "whatsapp-buffer:bufferSeconds"),
        ("aws:region", "aws:region"),
        ("aws:config:region", "aws:region"),
    ],
)
def test_namespaced_and_provider_keys_parse_as_the_cli_parses_them(key, parsed):
    assert parse_key(key) == parsed


def test_the_sample_stack_file_obeys_the_rules():
    values = stack_file_config(SAMPLE_STACK_FILE)

    assert values["aws:region"] == "us-east-1"
    assert all(key.startswith((f"{PROJECT}:", "aws:")) for key in values)


def doc_stack_file_examples() -> list[str]:
    """Every ```yaml block of the README and of the pages under docs/ with a `config:` map, dedented (a block in a
    numbered list is indented with it)."""
    blocks = [
        textwrap.dedent(block)
        for page in DOC_PAGES
        for block in re.findall(r"```ya?ml\n(.*?)```", page.read_text(), flags=re.DOTALL)
    ]
    return [block for block in blocks if re.search(r"^config:", block, flags=re.MULTILINE)]


def test_the_docs_stack_file_examples_are_stack_files_the_program_accepts(tmp_path):
    """Each example's keys parse and are declared settings (or `aws:`), and its values, on top of the sample stack
    file (an example shows a few keys, not the required Connect ids), pass the CLI's type rules and the program's."""
    examples = doc_stack_file_examples()

    assert examples, "no ```yaml block with a `config:` map in README.md or docs/: this test would check nothing"
    for example in examples:
        values = stack_file_config(stack_file(tmp_path, example))
        undeclared = [key for key in values if key.split(":", 1)[0] != "aws" and key not in NAMESPACED_KEYS]
        assert undeclared == [], f"not a setting of Pulumi.yaml: {undeclared} in\n{example}"
        merged = stack_config(values, PROJECT)
        parse_settings({key: merged.get(f"{PROJECT}:{key}") for key in CONFIG_KEYS})


def test_config_set_style_overrides_take_the_project_namespace():
    """`pulumi config set bufferSeconds 45` writes `whatsapp-buffer:bufferSeconds` (docs: "When a key name is used
    without a colon, Pulumi uses the current project name from Pulumi.yaml as the namespace")."""
    values = stack_config({"bufferSeconds": "45", "aws:region": "eu-west-1"}, PROJECT)

    assert values[f"{PROJECT}:bufferSeconds"] == "45"
    assert values["aws:region"] == "eu-west-1"
    assert "bufferSeconds" not in values


@pytest.mark.parametrize("value", ["20", "+20", "020"])
def test_integers_go_parses_are_accepted(value):
    assert env(function(run_program({"bufferSeconds": value}), "aggregator"))["BUFFER_SECONDS"] == "20"


@pytest.mark.parametrize("value", [" 20", "20 ", "2_0", "20.0", "0x14", "1e1", "٢٠", "twenty", ""])
def test_integers_go_does_not_parse_stop_the_program(value):
    with pytest.raises(StackConfigError) as raised:
        run_program({"bufferSeconds": value})

    assert str(raised.value) == "Stack 'dev' with configuration key 'bufferSeconds' must be of type 'integer'"


@pytest.mark.parametrize("value", ["True", "TRUE", "False", "yes", "1", " true"])
def test_booleans_other_than_true_and_false_stop_the_program(value):
    with pytest.raises(StackConfigError) as raised:
        run_program({"markAsRead": value})

    assert str(raised.value) == "Stack 'dev' with configuration key 'markAsRead' must be of type 'boolean'"


@pytest.mark.parametrize(("value", "expected"), [("true", "true"), ("false", "false"), (True, "true")])
def test_true_and_false_are_the_booleans(value, expected):
    assert stack_config({"markAsRead": value}, PROJECT)[f"{PROJECT}:markAsRead"] == expected


def test_a_stack_file_literal_is_read_as_written(tmp_path):
    """`True` in YAML is not the literal "true" the boolean rule asks for: write true/false."""
    path = stack_file(
        tmp_path,
        f"config:\n  {PROJECT}:connectInstanceId: {UUID}\n  {PROJECT}:contactFlowId: {UUID}\n  {PROJECT}:ignoreStickers: True\n",
    )

    with pytest.raises(StackConfigError, match="key 'ignoreStickers' must be of type 'boolean'"):
        stack_config({}, PROJECT, stack_file=path)


def test_required_keys_missing_from_the_stack_stop_the_program(tmp_path):
    path = stack_file(tmp_path, "config:\n  aws:region: us-east-1\n")

    with pytest.raises(StackConfigError) as raised:
        stack_config({}, PROJECT, stack="prod", stack_file=path)

    assert str(raised.value) == "Stack 'prod' is missing configuration values 'connectInstanceId' and 'contactFlowId'"


def test_pulumi_yaml_defaults_reach_the_program_as_the_cli_passes_them():
    """The CLI hands the program Pulumi.yaml's `default` for every unset key (`mergeConfig`): maxWaitSeconds arrives as
    its declared 0, which stands for "derive it from bufferSeconds", not as a fixed 60."""
    values = stack_config({}, PROJECT)

    assert values[f"{PROJECT}:maxWaitSeconds"] == "0"
    assert values[f"{PROJECT}:windowSeconds"] == "1"


@pytest.mark.parametrize(("buffer_seconds", "max_wait"), [("20", "60"), ("60", "60"), ("90", "90"), ("300", "300")])
def test_setting_only_buffer_seconds_previews_with_a_max_wait_derived_from_it(buffer_seconds, max_wait):
    """`pulumi config set bufferSeconds 90` alone: before the derived default, the CLI passed maxWaitSeconds 60 and
    preview stopped at "maxWaitSeconds=60 is invalid: expected an integer from 90 (bufferSeconds)"."""
    aggregator = env(function(run_program({"bufferSeconds": buffer_seconds}), "aggregator"))

    assert (aggregator["BUFFER_SECONDS"], aggregator["MAX_WAIT_SECONDS"]) == (buffer_seconds, max_wait)


def test_a_max_wait_set_below_buffer_seconds_still_stops_preview():
    with pytest.raises(
        ConfigError, match=r"^maxWaitSeconds=60 is invalid: expected an integer from 90 \(bufferSeconds\)"
    ):
        run_program({"bufferSeconds": "90", "maxWaitSeconds": "60"})


def test_every_declared_default_is_valid_whatever_the_key_its_range_refers_to():
    """Each Pulumi.yaml default passes the range check at both ends of the range of the key it depends on: a stack
    that sets only that key never meets a default it did not choose."""
    relative = [
        s
        for s in SETTINGS
        if isinstance(s.rule, Integer) and any(isinstance(b, Ref) for b in (s.rule.low, s.rule.high))
    ]
    assert {s.key for s in relative} == {"maxWaitSeconds", "windowSeconds"}
    for setting in relative:
        referred = next(b.key for b in (setting.rule.low, setting.rule.high) if isinstance(b, Ref))
        rule = next(s.rule for s in SETTINGS if s.key == referred)
        for value in (rule.low, rule.high):
            parse_settings(
                {
                    k.split(":", 1)[1]: v
                    for k, v in stack_config({referred: str(value)}, PROJECT).items()
                    if k.startswith(f"{PROJECT}:")
                }
            )


@pytest.mark.parametrize(
    "written",
    [
        # pulumi config set --path 'contactFlows["phone-number-id-a1"]' <flow>: a map in the stack file
        f'  {PROJECT}:contactFlows:\n    phone-number-id-a1: "{UUID}"\n',
        # pulumi config set contactFlows '{"phone-number-id-a1": "<flow>"}': JSON text
        f'  {PROJECT}:contactFlows: \'{{"phone-number-id-a1": "{UUID}"}}\'\n',
    ],
    ids=["yaml-map", "json-text"],
)
def test_contact_flows_written_as_a_map_or_as_json_text_reach_the_program_alike(tmp_path, written):
    """pulumi/pulumi workspace/config.go validates only explicitly typed keys (`IsExplicitlyTyped`) and hands a
    structured value to the program as JSON (`NewObjectValue`); Pulumi.yaml leaves contactFlows untyped, so both
    forms pass the CLI and `pulumi.Config.get` returns JSON text for both."""
    path = stack_file(
        tmp_path, f"config:\n  {PROJECT}:connectInstanceId: {UUID}\n  {PROJECT}:contactFlowId: {UUID}\n{written}"
    )
    values = stack_config({}, PROJECT, stack="test", stack_file=path)

    settings = parse_settings({key.split(":", 1)[1]: value for key, value in values.items() if key.startswith(PROJECT)})

    assert settings.contact_flows == (("phone-number-id-a1", UUID),)
