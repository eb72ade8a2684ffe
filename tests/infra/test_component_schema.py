"""The package schema other languages' SDKs are generated from, inferred offline by Pulumi's own analyzer and schema
generator (pulumi.provider.experimental, what `component_provider_host` serves to `pulumi package add`)."""

from __future__ import annotations

import json
import runpy

import pytest
import yaml

from components import WhatsAppBuffer
from components.config_docs import arg_description, pulumi_type
from components.stack_config import REQUIRED, SETTINGS
from sandbox.program import PROJECT_DIR
from whatsapp_buffer.settings import IdMap, TextList

PROVIDER = PROJECT_DIR / "provider"
TOKEN = "whatsapp-buffer:index:WhatsAppBuffer"
SCHEMA_TYPES = {"integer": "integer", "boolean": "boolean", "string": "string"}


@pytest.fixture(scope="module")
def schema() -> dict:
    from pulumi.provider.experimental.component import ComponentProvider

    host = runpy.run_path(str(PROVIDER / "__main__.py"), run_name="not_main")
    provider = ComponentProvider([WhatsAppBuffer], host["PACKAGE"], version=host["VERSION"])
    return json.loads(provider.schema)


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def test_the_plugin_is_a_python_component_provider_hosting_whatsapp_buffer():
    assert yaml.safe_load((PROVIDER / "PulumiPlugin.yaml").read_text()) == {"runtime": "python"}
    assert "component_provider_host(components=[WhatsAppBuffer]" in (PROVIDER / "__main__.py").read_text()


def test_the_schema_lists_every_input_with_its_type_description_and_whether_it_is_required(schema):
    resource = schema["resources"][TOKEN]
    inputs = resource["inputProperties"]

    assert resource["isComponent"] is True
    assert list(inputs) == [_camel(s.field) for s in SETTINGS]
    for setting in SETTINGS:
        prop = inputs[_camel(setting.field)]
        assert prop["description"] == arg_description(setting), setting.key
        if isinstance(setting.rule, TextList):  # whatsappPhoneNumberIds, transcribeLanguages
            assert prop["type"] == "array" and prop["items"]["type"] == "string"
        elif isinstance(setting.rule, IdMap):  # contactFlows
            assert prop["type"] == "object" and prop["additionalProperties"]["type"] == "string"
        else:
            assert prop["type"] == SCHEMA_TYPES[pulumi_type(setting)], setting.key
        # Plain: the settings shape resources (windows, IAM, timeouts), so they must be known when it is built.
        assert prop.get("plain") is True, setting.key
    assert sorted(resource["requiredInputs"]) == sorted(_camel(s.field) for s in SETTINGS if s.default is REQUIRED)


def test_the_schema_lists_every_output_with_its_description(schema):
    resource = schema["resources"][TOKEN]
    outputs = resource["properties"]

    assert list(outputs) == list(WhatsAppBuffer.OUTPUTS)
    assert {
        "inTopicArn",
        "outTopicArn",
        "rawTableName",
        "sessionsTableName",
        "burstsQueueUrl",
        "ingestFunctionName",
    } <= set(outputs)
    assert all(prop["type"] == "string" and prop["description"] for prop in outputs.values())
    assert "event destination" in outputs["inTopicArn"]["description"]
    assert set(resource["required"]) == set(outputs) - {"alarmTopicArn"}
    assert schema["name"] == "whatsapp-buffer" and schema["version"] == "0.1.0"
