"""WhatsAppBuffer: the whole bridge as one component. Its inputs are the settings declaration's, and a stack deployed
with the three components at the stack's root updates in place."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pytest
from infra_helpers import env, function

from components import whatsapp_buffer
from components.aliases import FORMER_TYPES
from components.config_docs import ARGS_MODULE, render_args_module
from components.outbound import TYPE as OUTBOUND
from components.stack_config import SETTINGS, ConfigError, parse_settings, settings_from_args
from components.whatsapp_buffer import CHILDREN, TYPE
from sandbox.program import ResourceGraph, run_program

LEGACY_PROGRAM = Path(__file__).with_name("legacy_program.py")
"""`__main__.py` as it was before WhatsAppBuffer: the components at the stack's root (test_previous_layout.py checks
that the URNs such a stack holds are claimed)."""
IDS = {
    "connect_instance_id": "11111111-2222-3333-4444-555555555555",
    "contact_flow_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
}


def test_the_inputs_module_is_written_from_the_declaration():
    assert ARGS_MODULE.read_text() == render_args_module(), "run python -m components.config_docs --write"


def test_inputs_take_the_declared_defaults_and_rules():
    keyed = {"connectInstanceId": IDS["connect_instance_id"], "contactFlowId": IDS["contact_flow_id"]}

    assert settings_from_args(IDS) == parse_settings(keyed)
    assert settings_from_args({**IDS, "buffer_seconds": 90}) == parse_settings({**keyed, "bufferSeconds": "90"})
    assert settings_from_args({**IDS, "whatsapp_phone_number_ids": ["phone-number-id-ab", "phone-number-id-ab"]}) == (
        parse_settings({**keyed, "whatsappPhoneNumberIds": "phone-number-id-ab"})
    )
    # Other languages send numbers as floats.
    assert settings_from_args({**IDS, "max_messages": 7.0}).max_messages == 7


@pytest.mark.parametrize(
    "config",
    [
        {},
        {
            "bufferSeconds": "20",
            "maxWaitSeconds": "0",
            "contactFlows": '{"phone-number-id-ab": "11111111-2222-3333-4444-555555555555"}',
            "transcribeLanguages": "en-US, es-US",
            "markAsRead": "true",
            "logLevel": "debug",
            "alarmEmail": "ops@example.com",
        },
    ],
    ids=["defaults", "set"],
)
def test_validated_settings_handed_on_as_inputs_keep_their_types_and_read_back_the_same(config):
    # GIVEN the stack's config validated once into typed settings, as __main__.py does
    settings = parse_settings(
        {"connectInstanceId": IDS["connect_instance_id"], "contactFlowId": IDS["contact_flow_id"], **config}
    )
    # WHEN they are handed on as the component's typed inputs (StackSettings.as_args)
    args = settings.as_args()
    # THEN each input has its setting's type (no text to parse again) and the component reads the same settings
    assert isinstance(args["buffer_seconds"], int) and isinstance(args["transcribe_languages"], list)
    assert settings_from_args(args) == settings


def test_the_program_builds_the_component_from_its_validated_settings_without_checking_them_again(monkeypatch):
    # GIVEN a component whose check of typed inputs fails the run if it is called
    def checked_again(args):
        raise AssertionError(f"the settings were checked again as inputs: {args}")

    monkeypatch.setattr(whatsapp_buffer, "settings_from_args", checked_again)
    # WHEN the program validates the stack's config and builds the bridge
    graph = run_program({"bufferSeconds": "45", "transcribeLanguages": "en-US, es-US"})
    # THEN the functions get the settings it validated
    assert env(function(graph, "aggregator"))["BUFFER_SECONDS"] == "45"
    assert env(function(graph, "inbound"))["TRANSCRIBE_LANGUAGES"] == "en-US,es-US"


def test_a_subclass_built_from_validated_settings_runs_its_own_init_with_them_as_inputs():
    # GIVEN a program whose WhatsAppBuffer subclass exports, in its own __init__, the input it was given
    # WHEN it builds the subclass from the stack's config validated into settings
    graph = run_program({"bufferSeconds": "45"}, program=Path(__file__).parent / "programs" / "extended_bridge.py")
    # THEN that __init__ ran, with the validated settings as typed inputs
    assert graph.stack_outputs["extendedBufferSeconds"] == 45


def test_validated_settings_that_are_not_the_inputs_given_with_them_are_refused():
    settings = parse_settings(
        {"connectInstanceId": IDS["connect_instance_id"], "contactFlowId": IDS["contact_flow_id"]}
    )
    with pytest.raises(ValueError, match="settings must be args validated"):
        whatsapp_buffer.WhatsAppBuffer("bridge", {**IDS, "buffer_seconds": 45}, settings=settings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "connect_instance_id=<unset> is invalid: expected a UUID"),
        ({**IDS, "buffer_seconds": 0}, "buffer_seconds=0 is invalid: expected an integer from 1 to 300"),
        (
            {**IDS, "buffer_seconds": 30, "max_wait_seconds": 10},
            "max_wait_seconds=10 is invalid: expected an integer from 30 (buffer_seconds) to 900",
        ),
        ({**IDS, "buffer_seconds": "20"}, "buffer_seconds='20' is invalid: expected an integer"),
        ({**IDS, "mark_as_read": "yes"}, "mark_as_read='yes' is invalid: expected true or false"),
        ({**IDS, "bufferSeconds": 20}, "bufferSeconds is not a WhatsAppBuffer input"),
    ],
)
def test_a_bad_input_is_refused_in_one_line_naming_it(args, message):
    with pytest.raises(ConfigError) as raised:
        settings_from_args(args)
    assert str(raised.value).startswith(message)


def test_every_input_is_a_declared_setting():
    import typing

    from components.whatsapp_buffer_args import WhatsAppBufferArgs

    hints = typing.get_type_hints(WhatsAppBufferArgs)
    assert list(hints) == [s.field for s in SETTINGS]
    assert WhatsAppBufferArgs.__required_keys__ == {"connect_instance_id", "contact_flow_id"}


# --- Moving the components under WhatsAppBuffer -------------------------------------------------------------------

PREFIX = "whatsapp-buffer-"
CONFIGS = [{}, {"alarmEmail": "ops@example.com"}]


@pytest.fixture(scope="module", params=CONFIGS, ids=["sample-stack", "alarm-email"])
def before_and_after(request) -> tuple[ResourceGraph, ResourceGraph]:
    return run_program(request.param, program=LEGACY_PROGRAM), run_program(request.param)


def test_the_components_alias_their_old_place_at_the_stack_root_and_the_sdk_computes_the_same_urn():
    graph = run_program(alias_specs=False)
    # The sample stack has no alarm notifications (no alarmEmail); the dashboard never stood at the stack's root.
    for suffix in (child for child in CHILDREN if child not in ("alarm-notifications", "dashboard")):
        # Outbound, split from the ConnectBridge, takes none of its aliases (components.aliases.adopted_from).
        (component,) = [r for r in graph.resources if r.name == PREFIX + suffix and r.type != OUTBOUND]
        former_type = FORMER_TYPES.get(suffix, component.type)
        at_root = f"urn:pulumi:dev::whatsapp-buffer::{former_type}::{suffix}"
        under_the_component = f"{component.parent.rpartition('::')[0]}${former_type}::{component.name}"
        assert set(component.aliases) == {at_root} | ({under_the_component} if suffix in FORMER_TYPES else set())


_GENERATED = re.compile(r"-[0-9a-f]{7}\b|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NEW_NAMES = re.compile(PREFIX + "(?=" + "|".join(CHILDREN) + ")")


def _names_aside(value):
    """The mocks' generated names and ids (a digest of the URN) and the new logical-name prefix taken out."""
    if isinstance(value, dict):
        return {key: _names_aside(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_names_aside(item) for item in value]
    if isinstance(value, str):
        return _GENERATED.sub("-*", _NEW_NAMES.sub("", value))
    if isinstance(value, pulumi.FileArchive):
        return {"file_archive": value.path}
    return value


def test_the_program_declares_the_same_resources_as_before_names_aside(before_and_after):
    before, after = before_and_after

    def shape(graph: ResourceGraph) -> dict:
        names = {r.urn: r.name.removeprefix(PREFIX) for r in graph.resources}
        return {
            (r.type, r.name.removeprefix(PREFIX)): (names.get(r.parent), _names_aside(r.inputs))
            for r in graph.resources
            if r.type != TYPE
        }

    old, new = shape(before), shape(after)
    # Added since: the media layer, which the inbound and outbound functions list, the inbound function's reader of
    # the raw table's stream (refusal items) with the statements its role needs for it, its on-failure queue and that
    # queue's alarm, the dashboard, and the outreach function contact flows invoke (Outreach).
    added = {
        key
        for key in new
        if key[1].startswith(("media-layer", "dashboard", "contact-flow-outreach"))
        or key[1]
        in (
            "connect-bridge-raw-stream-mapping",
            "connect-bridge-raw-stream-failures",
            "connect-bridge-raw-stream-failures-depth-alarm",
        )
    }
    assert sorted(old) == sorted(set(new) - added)
    added_alarms = {
        _names_aside(r.outputs["arn"])
        for r in after.resources
        if (r.type, r.name.removeprefix(PREFIX)) in added and r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
    }
    for key in old:
        old_parent, old_inputs = old[key]
        new_parent, new_inputs = new[key]
        if key in {
            ("aws:lambda/function:Function", "connect-bridge-inbound-function"),
            ("aws:lambda/function:Function", "connect-bridge-outbound-function"),
        }:
            new_inputs = {**new_inputs, "layers": new_inputs["layers"][:-1]}
        if isinstance(new_inputs.get("policy"), str) and "ReadTheRawTableStream" in new_inputs["policy"]:
            policy = json.loads(new_inputs["policy"])
            policy["Statement"] = [
                st
                for st in policy["Statement"]
                if st.get("Sid") not in ("ReadTheRawTableStream", "ListStreams", "HandOverFailedStreamBatches")
            ]
            new_inputs = {**new_inputs, "policy": policy}
            old_inputs = {**old_inputs, "policy": json.loads(old_inputs["policy"])}
        if key == ("aws:sns/topicPolicy:TopicPolicy", "alarm-notifications-topic-policy"):
            # The alarm topic admits each alarm by its ARN: the alarms added since as well.
            policy = json.loads(new_inputs["policy"])
            (statement,) = policy["Statement"]
            admitted = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
            assert len(added_alarms) == 3 and added_alarms <= set(admitted)
            statement["Condition"]["ArnEquals"]["aws:SourceArn"] = [a for a in admitted if a not in added_alarms]
            new_inputs = {**new_inputs, "policy": policy}
            old_inputs = {**old_inputs, "policy": json.loads(old_inputs["policy"])}
        # Children of the stack then, children of the WhatsAppBuffer now; the rest keep their component.
        assert new_parent == (old_parent if old_parent is not None else "whatsapp-buffer"), key
        assert new_inputs == old_inputs, key
    outputs = {k: v for k, v in after.stack_outputs.items() if k != "outreachFunctionName"}  # added with it
    assert _names_aside(outputs) == _names_aside(before.stack_outputs)
