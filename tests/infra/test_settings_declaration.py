"""The one declaration of every setting (runtime/whatsapp_buffer/settings.py) is what Pulumi.yaml, the README, the
resource graph and each function's typed settings (environment.py) say."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import subprocess
import sys
from typing import get_type_hints

import pytest
import yaml
from infra_helpers import env, function

from components.config_docs import PROJECT_FILE, README, README_SECTION, pulumi_schema, readme_row
from components.stack_config import CONFIG_KEYS, SETTINGS, ConfigError, function_environment, parse_settings
from sandbox.program import deployed_graph
from sandbox.stack_files import PROJECT_DIR, stack_config
from whatsapp_buffer import environment
from whatsapp_buffer import settings as declared
from whatsapp_buffer.errors import ConfigurationError

WRITE = "python -m components.config_docs --write"


def test_pulumi_yaml_config_block_says_what_the_declaration_says():
    documented = yaml.safe_load(PROJECT_FILE.read_text())["config"]

    assert list(documented) == list(CONFIG_KEYS), WRITE
    for setting in SETTINGS:
        assert documented[setting.key] == pulumi_schema(setting), f"{setting.key}: run {WRITE}"


def test_readme_configuration_table_says_what_the_declaration_says():
    text = README.read_text()
    section = text[text.index(f"\n{README_SECTION}\n") :]
    table = re.search(r"^\|.*\|\n(?:\|.*\|\n)*", section, flags=re.MULTILINE).group(0).splitlines()
    rows = [tuple(cell.strip() for cell in line.strip("|").split(" | ")) for line in table[2:]]

    assert rows == [readme_row(setting) for setting in SETTINGS], WRITE


@pytest.mark.parametrize("short_name", declared.FUNCTIONS)
def test_each_function_is_given_exactly_the_variables_the_declaration_says_it_reads(graph, short_name):
    assert sorted(env(function(graph, short_name))) == sorted(declared.ENVIRONMENT[short_name])


FLOW_ID, SALES_FLOW_ID = "bbbbbbbb-cccc-dddd-eeee-ffffffffffff", "cccccccc-dddd-eeee-ffff-000000000000"
REPRESENTATIVE_STACK = {
    "contactFlows": json.dumps(
        {"phone-number-id-0123456789abcdef0123456789abcdef": FLOW_ID, "106540352242922": SALES_FLOW_ID}
    ),
    "transcribeLanguages": "en-US,es-US",
    "bufferSeconds": "+45",
    "markAsRead": "true",
}
"""The sample stack with a map, a list, a boolean and an integer as `pulumi config set` takes them (`+45` is an integer
to the CLI)."""
TRAVELS_AS = {
    # a map: a JSON object, keys sorted, no spaces
    "contactFlows": (
        f'{{"106540352242922":"{SALES_FLOW_ID}","phone-number-id-0123456789abcdef0123456789abcdef":"{FLOW_ID}"}}'
    ),
    "transcribeLanguages": "en-US,es-US",  # a list: comma-separated
    "whatsappPhoneNumberIds": "none",  # an empty list (unset): NO_VALUES
    "markAsRead": "true",  # a boolean
    "bufferSeconds": "45",  # an integer: the number, not the text
    "maxWaitSeconds": "60",  # unset (0 in the stack): the derived default
}
"""What the functions read for REPRESENTATIVE_STACK's settings of each kind (an unset list and a derived default
too); every other setting's variable holds the stack's text as it is."""


def test_each_setting_reaches_every_function_that_reads_it_as_the_stack_sets_it():
    graph = deployed_graph(REPRESENTATIVE_STACK, stack="dev")
    texts = {
        key.split(":", 1)[1]: value for key, value in stack_config(REPRESENTATIVE_STACK, "whatsapp-buffer").items()
    }
    settings = [s for s in SETTINGS if s.env]

    assert set(TRAVELS_AS) <= {s.key for s in settings}
    for setting in settings:
        expected = TRAVELS_AS.get(setting.key, texts[setting.key])
        for short_name in setting.readers:
            assert env(function(graph, short_name))[setting.env] == expected, (setting.key, short_name)


def _fields(cls: type) -> set[str]:
    hints = get_type_hints(cls)
    found: set[str] = set()
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        found |= _fields(kind) if dataclasses.is_dataclass(kind) else {field.name}
    return found


@pytest.mark.parametrize("short_name", declared.FUNCTIONS)
def test_each_functions_settings_have_a_field_for_exactly_what_it_reads(short_name):
    reads = {v.field for v in declared.environment_of(short_name) if not v.powertools}

    assert _fields(environment.SETTINGS_CLASSES[short_name]) == reads


@pytest.mark.parametrize("short_name", declared.FUNCTIONS)
def test_each_functions_settings_read_the_environment_the_program_gives_it(graph, short_name):
    settings = environment.SETTINGS_CLASSES[short_name].from_env(env(function(graph, short_name)))

    assert isinstance(settings, environment.SETTINGS_CLASSES[short_name])


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("bufferSeconds", "301"),
        ("maxWaitSeconds", "901"),
        ("windowSeconds", "21"),
        ("endOfTurn", "sometimes"),
        ("metaApiVersion", "20.0"),
        ("transcribeLanguages", "en-US,english"),
        ("contactFlows", '{"sales": "11111111-2222-3333-4444-555555555555"}'),
        ("contactFlows", '{"phone-number-id-a1": "flow-1"}'),
        # `$` also matches before a final newline: a key that can never equal a number id must not pass for one
        ("contactFlows", '{"phone-number-id-a1\\n": "11111111-2222-3333-4444-555555555555"}'),
    ],
)
def test_a_value_the_program_refuses_every_function_that_reads_it_refuses_too(graph, key, text):
    # GIVEN a value the graph's stack (bufferSeconds 20) may not set
    setting = declared.SETTINGS_BY_KEY[key]
    values = {name.split(":", 1)[1]: value for name, value in stack_config({}, "whatsapp-buffer").items()}
    with pytest.raises(ConfigError):
        parse_settings({**{k: values.get(k) for k in CONFIG_KEYS}, key: text})
    # WHEN it reaches a function's environment anyway THEN the function refuses it, naming the variable
    for short_name in setting.readers:
        given = {**env(function(graph, short_name)), setting.env: text}
        with pytest.raises(ConfigurationError, match=f"^environment variable {setting.env}="):
            environment.SETTINGS_CLASSES[short_name].from_env(given)


def test_every_variable_name_and_field_is_declared_once():
    variables = [*SETTINGS, *declared.WIRING]
    names = [v.env for v in variables if v.env]
    fields = [v.field for v in variables]

    assert len(names) == len(set(names))
    assert len(fields) == len(set(fields))
    assert all(set(v.readers) <= set(declared.FUNCTIONS) for v in variables)
    assert all(bool(v.env) == bool(v.readers) for v in SETTINGS)


def test_a_range_refers_only_to_a_key_declared_without_one():
    """Keys a range refers to are validated first, so they must not themselves depend on another key."""
    refs = [
        (s.key, bound.key)
        for s in SETTINGS
        if isinstance(s.rule, declared.Integer)
        for bound in (s.rule.low, s.rule.high)
        if isinstance(bound, declared.Ref)
    ]

    assert refs
    for _, key in refs:
        (target,) = [s for s in SETTINGS if s.key == key]
        assert isinstance(target.rule, declared.Integer)
        assert not any(isinstance(b, declared.Ref) for b in (target.rule.low, target.rule.high))


def test_a_component_must_hand_in_exactly_the_resources_the_declaration_wires():
    uuid = "11111111-2222-3333-4444-555555555555"
    settings = parse_settings({"connectInstanceId": uuid, "contactFlowId": uuid})
    wired = {"raw_table_name": "raw", "service_name": "s", "metrics_namespace": "m"}

    assert function_environment("ingest", settings, wired)["RAW_TABLE_NAME"] == "raw"
    with pytest.raises(ValueError, match="ingest: the declaration wires"):
        function_environment("ingest", settings, {**wired, "bursts_queue_url": "q"})
    with pytest.raises(ValueError, match="ingest: the declaration wires"):
        function_environment("ingest", settings, {"raw_table_name": "raw"})


@pytest.mark.parametrize(
    ("module", "from_the_package"),
    [
        ("settings.py", set()),
        ("environment.py", {"whatsapp_buffer.buffer_policy", "whatsapp_buffer.errors", "whatsapp_buffer.settings"}),
        ("buffer_policy.py", {"whatsapp_buffer.errors", "whatsapp_buffer.settings"}),
        ("storage_keys.py", {"whatsapp_buffer.errors", "whatsapp_buffer.model"}),
        ("model.py", {"whatsapp_buffer.errors", "whatsapp_buffer.queue_text"}),
        ("queue_text.py", set()),
        ("errors.py", set()),
    ],
)
def test_the_declaration_its_reading_and_the_storage_names_import_only_the_standard_library_and_the_modules_named(
    module, from_the_package
):
    tree = ast.parse((PROJECT_DIR / "runtime" / "whatsapp_buffer" / module).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    from_package = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module.startswith("whatsapp")
    }

    assert imported - {"whatsapp_buffer"} <= set(sys.stdlib_module_names) | {"__future__"}
    assert from_package == from_the_package


def test_the_program_loads_the_declaration_and_the_storage_names_without_the_rest_of_the_runtime_or_the_sdk():
    """A fresh interpreter without runtime/ on its path, as `pulumi up` starts the program: of the runtime, only the
    settings declaration and the storage names (with the errors, model and queue text they build on)."""
    probe = (
        "import json, sys; import components.stack_config; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('whatsapp_buffer', 'boto3', 'botocore', 'aws_lambda_powertools'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, env={}, check=True
    )

    assert json.loads(result.stdout) == [
        "whatsapp_buffer",
        "whatsapp_buffer.errors",
        "whatsapp_buffer.model",
        "whatsapp_buffer.queue_text",
        "whatsapp_buffer.settings",
        "whatsapp_buffer.storage_keys",
    ]


@pytest.mark.parametrize("languages", [(), ("en-US",), ("en-US", "es-US")])
def test_transcribe_languages_read_back_in_the_inbound_function_as_the_stack_set_them(languages):
    values = {key.split(":", 1)[1]: value for key, value in stack_config({}, "whatsapp-buffer").items()}
    if languages:
        values["transcribeLanguages"] = ",".join(languages)
    stack = parse_settings({key: values.get(key) for key in CONFIG_KEYS})
    value = function_environment(
        declared.INBOUND, stack, {v.field: "x" for v in declared.WIRING if declared.INBOUND in v.readers}
    )
    assert environment.InboundSettings.from_env(value).transcribe_languages == languages
