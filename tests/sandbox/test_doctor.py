"""`make doctor` against a sandbox stack: the program's outputs and config, moto for SQS/SNS, the fake for Connect and
End User Messaging Social (in-process), as `sandbox.doctor` sets them up. All ✓ as set up; each misconfiguration shows
its ✗ and its fix."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from components import doctor
from sandbox import doctor as doctor_sandbox
from sandbox.doctor import FLOW, SALES_FLOW, SALES_NUMBER, WABA, SandboxStack


@pytest.fixture(scope="module")
def program() -> tuple[dict[str, Any], dict[str, str], Any]:
    return doctor_sandbox.program()


@pytest.fixture
def sandbox(program) -> Iterator[SandboxStack]:
    with doctor_sandbox.sandbox_stack(program) as stack:
        yield stack


def run(sandbox: SandboxStack) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = doctor.diagnose(sandbox.stack, sandbox.clients, lines.append)
    return code, lines


def ticks(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(("✓", "✗"))]


def failure(lines: list[str], words: str) -> str:
    """The ✗ line holding `words` and its fix line."""
    for index, line in enumerate(lines):
        if line.startswith("✗") and words in line:
            assert lines[index + 1].startswith("    fix: ")
            return f"{line}\n{lines[index + 1]}"
    raise AssertionError(f"no ✗ mentions {words!r}:\n" + "\n".join(lines))


def test_a_sandbox_stack_as_deployed_is_all_ticks(sandbox):
    code, lines = run(sandbox)

    assert code == 0, "\n".join(lines)
    assert all(line.startswith("✓") for line in lines)
    # two numbers, one WABA, instance, two flows, two storages, streaming, outreach, four queues, alarm
    assert len(ticks(lines)) == 15
    assert any("MESSAGE_STREAMING is off" in line for line in lines)


def test_a_waba_sending_its_events_elsewhere_is_a_cross_with_the_topic_to_set(sandbox):
    sandbox.fake.social.templates.event_destinations[WABA.removeprefix("waba-")] = "arn:aws:sns:us-east-1:1:other"

    code, lines = run(sandbox)

    assert code == 1
    text = failure(lines, "sends its events to arn:aws:sns:us-east-1:1:other")
    assert sandbox.outputs["inTopicArn"] in text and "Event destination" in text


def test_a_waba_without_event_destination_sends_nowhere(sandbox):
    del sandbox.fake.social.templates.event_destinations[WABA.removeprefix("waba-")]

    _, lines = run(sandbox)

    assert "no message arrives" in failure(lines, "sends its events to nowhere")


def test_a_number_the_account_does_not_have_is_a_cross(sandbox):
    del sandbox.fake.social.templates.numbers[SALES_NUMBER.removeprefix("phone-number-id-")]

    _, lines = run(sandbox)

    assert "Phone numbers" in failure(lines, "is not in this account")
    assert any(line.startswith("✓ WhatsApp Business Account") for line in lines)


def test_an_unknown_instance_is_a_cross_and_its_dependent_checks_are_skipped(sandbox):
    sandbox.stack = doctor.stack_from(
        sandbox.outputs, {**sandbox.config, "whatsapp-buffer:connectInstanceId": "99999999-0000-0000-0000-000000000000"}
    )

    _, lines = run(sandbox)

    assert "connectInstanceId" in failure(lines, "does not exist")
    assert not any("flow" in line for line in ticks(lines))


@pytest.mark.parametrize(
    ("status", "words"),
    [("SAVED", "is SAVED"), ("NOT_PUBLISHED", "has not been published"), ("ARCHIVED", "is archived")],
)
def test_a_flow_that_is_not_published_is_a_cross_with_where_to_publish(sandbox, status, words):
    sandbox.fake.connect.setup.flows[SALES_FLOW] = status

    code, lines = run(sandbox)

    assert code == 1
    assert SALES_FLOW in failure(lines, words)
    assert f"✓ flow {FLOW} is PUBLISHED" in lines


def test_a_flow_the_instance_does_not_have_is_a_cross(sandbox):
    sandbox.fake.connect.contact_flow_ids = frozenset({FLOW})

    _, lines = run(sandbox)

    assert "contactFlowId" in failure(lines, f"flow {SALES_FLOW} does not exist")


@pytest.mark.parametrize(
    ("kind", "words"), [("ATTACHMENTS", "every file is refused"), ("CHAT_TRANSCRIPTS", "persistent chat")]
)
def test_missing_chat_storage_is_a_cross_with_the_console_path(sandbox, kind, words):
    if kind == "ATTACHMENTS":
        sandbox.fake.connect.setup.attachments_bucket = None
    else:
        sandbox.fake.connect.chat_transcripts = False

    _, lines = run(sandbox)

    assert "Data storage" in failure(lines, words)


def test_message_streaming_on_is_reported_with_what_it_means_for_the_bridge(sandbox):
    sandbox.fake.connect.setup.attributes["MESSAGE_STREAMING"] = "true"

    code, lines = run(sandbox)

    assert code == 0
    assert any("MESSAGE_STREAMING is on" in line and "whole" in line for line in lines)


def test_an_outreach_function_not_associated_is_a_cross_with_the_command(sandbox):
    sandbox.fake.connect.setup.lambda_functions.clear()

    _, lines = run(sandbox)

    assert "aws connect associate-lambda-function" in failure(lines, "not associated")


def test_a_message_on_a_dead_letter_queue_is_a_cross(sandbox):
    url = sandbox.outputs["burstsDeadLetterQueueUrl"]
    sandbox.clients.sqs.send_message(
        QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId="d"
    ) if url.endswith(".fifo") else sandbox.clients.sqs.send_message(QueueUrl=url, MessageBody="{}")

    _, lines = run(sandbox)

    assert "redrive" in failure(lines, "1 message(s) waiting")


def test_an_unconfirmed_alarm_email_is_a_cross(sandbox):
    """botocore SNS Subscribe.SubscriptionArn: "The ARN of the subscription if it is confirmed, or the string "pending
    confirmation" if the subscription requires confirmation"; the CLI and console show "PendingConfirmation". moto
    confirms e-mail subscriptions at once, so the answer is stubbed (validated against the model)."""
    sns = boto3.client("sns", region_name="us-east-1", aws_access_key_id="stub", aws_secret_access_key="stub")
    topic = sandbox.stack.alarm_topic_arn
    for arn in ("PendingConfirmation", "pending confirmation"):
        with Stubber(sns) as stub:
            stub.add_response(
                "list_subscriptions_by_topic",
                {"Subscriptions": [{"SubscriptionArn": arn, "Protocol": "email", "TopicArn": topic}]},
                {"TopicArn": topic},
            )
            sandbox.clients.sns = sns
            _, lines = run(sandbox)
        assert "confirm" in failure(lines, "never confirmed")


def test_no_alarm_topic_says_there_is_none(sandbox):
    outputs = {k: v for k, v in sandbox.outputs.items() if k != "alarmTopicArn"}
    config = {k: v for k, v in sandbox.config.items() if not k.endswith(":alarmEmail")}
    sandbox.stack = doctor.stack_from(outputs, config)

    _, lines = run(sandbox)

    assert "alarmEmail" in failure(lines, "there is no alarm topic")


def test_a_throttled_call_ends_with_one_line(sandbox):
    sandbox.fake.inject("DescribeContactFlow", "ThrottlingException")

    code, lines = run(sandbox)

    assert code == 2
    assert lines[-1].startswith("doctor: AWS throttled DescribeContactFlow (ThrottlingException)")
    assert all(line.startswith(("✓", "✗", "    fix:", "doctor:")) for line in lines)


def test_a_refused_call_names_the_policy(sandbox):
    sandbox.fake.inject("GetLinkedWhatsAppBusinessAccountPhoneNumber", "AccessDeniedException")

    code, lines = run(sandbox)

    assert (code, len(lines)) == (2, 1)
    assert lines[0].startswith("doctor: not allowed to call GetLinkedWhatsAppBusinessAccountPhoneNumber (AccessDenied")
    assert "docs/deploy.md" in lines[0]


def test_no_credentials_ends_with_one_line(sandbox):
    def refuse(**_: Any) -> Any:
        raise NoCredentialsError()

    sandbox.clients.social.get_linked_whatsapp_business_account_phone_number = refuse

    code, lines = run(sandbox)

    assert (code, lines) == (2, ["doctor: no AWS credentials: set AWS_PROFILE (or run `aws sso login`) and try again"])


def test_the_command_reads_the_json_files_of_the_pulumi_cli(sandbox, tmp_path: Path, capsys):
    (tmp_path / "outputs.json").write_text(json.dumps(sandbox.outputs))
    config = {key: {"value": value, "secret": False} for key, value in sandbox.config.items()}
    (tmp_path / "config.json").write_text(json.dumps(config))

    code = doctor.main(
        ["--outputs", str(tmp_path / "outputs.json"), "--config", str(tmp_path / "config.json")],
        clients=lambda region: sandbox.clients,
    )

    assert code == 0, capsys.readouterr().out
    assert capsys.readouterr().out.count("✓") == 15


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--outputs", "missing.json", "--config", "missing.json"], "cannot read missing.json"),
        (["--outputs", "only.json"], "pass both --outputs and --config"),
    ],
)
def test_bad_files_end_with_one_line(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert doctor.main(argv, clients=lambda region: pytest.fail("no clients for bad input")) == 2
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and words in out


def test_a_missing_output_ends_with_one_line(sandbox):
    outputs = {k: v for k, v in sandbox.outputs.items() if k != "outboundDeadLetterQueueUrl"}
    sandbox.stack = doctor.stack_from(outputs, sandbox.config)

    code, lines = run(sandbox)

    assert code == 2
    assert (
        lines[-1]
        == "doctor: the stack has no output `outboundDeadLetterQueueUrl`: run `pulumi up` with this version of the program"
    )


def test_an_unknown_stack_or_a_missing_cli_ends_with_one_line(monkeypatch, capsys):
    def pulumi(args, **_: Any):
        if args[0] != "pulumi":
            raise AssertionError(args)
        raise FileNotFoundError

    monkeypatch.setattr(doctor.subprocess, "run", pulumi)
    assert doctor.main(["--stack", "nope"], clients=lambda region: pytest.fail("no clients")) == 2
    assert capsys.readouterr().out == (
        "doctor: the pulumi CLI is not installed: pass --outputs FILE --config FILE instead\n"
    )

    class Done:
        returncode, stdout = 255, ""
        stderr = "error: no stack named 'nope' found\n"

    monkeypatch.setattr(doctor.subprocess, "run", lambda args, **_: Done())
    assert doctor.main(["--stack", "nope"], clients=lambda region: pytest.fail("no clients")) == 2
    assert (
        capsys.readouterr().out
        == "doctor: pulumi stack output --show-secrets --stack nope: error: no stack named 'nope' found\n"
    )


def _resource(service: str, operation: str, params: dict[str, Any], stack: doctor.Stack) -> str:
    """The ARN IAM authorises this call against (Service Authorization Reference's resource type of the action)."""
    partition, _, region, account = stack.output("inTopicArn").split(":")[1:5]
    base = f"arn:{partition}:{service}:{region}:{account}"
    if service == "connect":
        flow = f"/contact-flow/{params['ContactFlowId']}" if "ContactFlowId" in params else ""
        return f"{base}:instance/{params['InstanceId']}{flow}"
    if operation == "ListLinkedWhatsAppBusinessAccounts":
        return "*"
    if service == "social-messaging":
        kind = "phone-number-id" if operation.endswith("PhoneNumber") else "waba"
        return f"{base}:{kind}/{params['id'].rsplit('/', 1)[-1].removeprefix(kind + '-')}"
    if service == "sqs":
        return f"{base}:{params['QueueUrl'].rsplit('/', 1)[-1]}"
    return str(params["TopicArn"])


@pytest.mark.parametrize("numbers", ["named", "not named"])
def test_the_doctors_policy_allows_exactly_the_calls_it_makes_on_their_resources(sandbox, numbers):
    from components.doctor_policy import doctor_policy
    from sandbox.iam_reference import _service

    if numbers == "not named":
        sandbox.stack = doctor.stack_from(sandbox.outputs, _without_numbers(sandbox.config))
    called: list[tuple[str, str]] = []
    for client in vars(sandbox.clients).values():
        prefix = client.meta.service_model.signing_name  # IAM's service prefix (social-messaging)

        def record(params: dict[str, Any], model: Any, prefix: str = prefix, **_: Any) -> None:
            called.append((f"{prefix}:{model.name}", _resource(prefix, model.name, params, sandbox.stack)))

        client.meta.events.register("provide-client-params", record)
    assert run(sandbox)[0] == 0
    policy = doctor_policy(sandbox.stack)
    allowed = {(a, r) for s in policy["Statement"] for a in s["Action"] for r in s["Resource"]}

    assert {action for action, _ in called} == {action for action, _ in allowed}
    for action, arn in called:
        assert any(a == action and fnmatch(arn, r) for a, r in allowed), (action, arn)
    for action, resource in allowed:
        prefix, name = action.split(":")
        actions, templates = _service(prefix)
        if not actions[name]:  # no resource type: IAM names the action only with "*"
            assert resource == "*", action
            continue
        [(kind, required)] = actions[name]
        pattern = re.sub(r"\\\$\\\{\w+\\\}", r"[^:/]+", re.escape(templates[kind]))
        assert required and re.fullmatch(pattern, resource.replace("*", "x")), (action, resource, templates[kind])


def test_make_doctor_sandbox_prints_every_check_ticked(capsys):
    from sandbox.__main__ import main

    assert main(["doctor"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 15 and all(line.startswith("✓") for line in out)


def _without_numbers(config: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in config.items() if not k.endswith((":whatsappPhoneNumberIds", ":contactFlows"))}


def test_with_no_number_named_one_linked_account_sending_here_is_enough(sandbox):
    sandbox.stack = doctor.stack_from(sandbox.outputs, _without_numbers(sandbox.config))
    sandbox.fake.social.templates.event_destinations["0000ffff"] = "arn:aws:sns:us-east-1:1:another-stack"

    code, lines = run(sandbox)

    assert code == 0
    assert f"✓ WhatsApp Business Account {WABA} sends its events to this stack's inTopicArn" in lines
    assert not any("WhatsApp number" in line for line in lines)


def test_with_no_number_named_and_no_account_sending_here_is_a_cross(sandbox):
    sandbox.stack = doctor.stack_from(sandbox.outputs, _without_numbers(sandbox.config))
    sandbox.fake.social.templates.event_destinations[WABA.removeprefix("waba-")] = "arn:aws:sns:us-east-1:1:other"

    code, lines = run(sandbox)

    assert code == 1
    assert "Event destination" in failure(lines, "none of the 1 linked WhatsApp Business Account(s)")
