"""`make doctor`: read-only checks of a deployed stack, one line each, ✓ or ✗ with the fix of each ✗.

Reads the stack's outputs and config (`pulumi stack output --json`, `pulumi config --json`, or the same JSON from
files), then asks Connect, End User Messaging Social, SQS and SNS whether the bridge can work: the instance and its
flows, chat storage, message streaming, the WABAs' event destination, the numbers, the outreach function's
association, dead letters and the alarm subscription. The IAM policy it needs is in docs/deploy.md.
Usage: python -m components.doctor [--stack NAME | --outputs FILE --config FILE] [--phone-number-id ID ...] [--policy]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.stack_config import CONFIG_KEYS, ConfigError, parse_settings

PROJECT = "whatsapp-buffer"
DEAD_LETTER_OUTPUTS = (
    "ingestDeadLetterQueueUrl",
    "burstsDeadLetterQueueUrl",
    "outboundDeadLetterQueueUrl",
    "aggregatorFailuresQueueUrl",
)
THROTTLED = {"ThrottlingException", "ThrottledRequestException", "Throttling", "TooManyRequestsException"}
DENIED = {"AccessDeniedException", "AccessDenied", "AuthorizationError", "UnauthorizedOperation"}
PUBLISH_FIX = "Connect console → Routing → Flows → open the flow → Publish"


class DoctorStopped(Exception):
    """The doctor cannot go on (bad input, no credentials, a refused or throttled call): one line says why."""


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    fix: str = ""

    @classmethod
    def passed(cls, what: str) -> Check:
        return cls(True, what)

    @classmethod
    def failed(cls, what: str, fix: str) -> Check:
        return cls(False, what, fix)

    def lines(self) -> list[str]:
        head = f"{'✓' if self.ok else '✗'} {self.what}"
        return [head] if self.ok else [head, f"    fix: {self.fix}"]


@dataclass(frozen=True)
class Stack:
    """What the doctor needs to know of one deployed stack."""

    outputs: Mapping[str, Any]
    instance_id: str
    flow_ids: tuple[str, ...]
    phone_number_ids: tuple[str, ...]
    alarm_topic_arn: str | None

    def output(self, key: str) -> str:
        value = self.outputs.get(key)
        if not value:
            raise DoctorStopped(f"the stack has no output `{key}`: run `pulumi up` with this version of the program")
        return str(value)

    @property
    def region(self) -> str:
        return self.output("inTopicArn").split(":")[3]


@dataclass
class Clients:
    connect: Any
    social: Any
    sqs: Any
    sns: Any


def stack_from(outputs: Mapping[str, Any], config: Mapping[str, Any], numbers: Sequence[str] = ()) -> Stack:
    """The Stack of `pulumi stack output --json` and `pulumi config --json` (keys with or without the project)."""
    values: dict[str, str | None] = {}
    for key, raw in config.items():
        value = raw.get("value") if isinstance(raw, Mapping) else raw
        values[key.removeprefix(f"{PROJECT}:")] = None if value is None else str(value)
    try:
        settings = parse_settings({key: values.get(key) for key in CONFIG_KEYS})
    except ConfigError as error:
        raise DoctorStopped(f"the stack's config: {error}") from None
    flows = (settings.contact_flow_id, *(flow for _, flow in settings.contact_flows))
    named = (*settings.whatsapp_phone_number_ids, *(number for number, _ in settings.contact_flows), *numbers)
    # contactFlows may name Meta's numeric ids; only End User Messaging's ids can be looked up.
    eum = tuple(n for n in dict.fromkeys(named) if n.startswith(("phone-number-id-", "arn:")))
    alarm = outputs.get("alarmTopicArn") or settings.alarm_topic_arn
    return Stack(dict(outputs), settings.connect_instance_id, tuple(dict.fromkeys(flows)), eum, alarm or None)


def run_checks(stack: Stack, clients: Clients) -> Iterator[Check]:
    """Every check, in the order a customer's message meets what it checks."""
    yield from _whatsapp(stack, clients.social)
    yield from _connect(stack, clients.connect)
    yield from _dead_letters(stack, clients.sqs)
    yield _alarm_subscription(stack, clients.sns)


def _whatsapp(stack: Stack, social: Any) -> Iterator[Check]:
    in_topic = stack.output("inTopicArn")
    if not stack.phone_number_ids:
        yield _any_account_sends_here(in_topic, social)
        return
    wabas: dict[str, list[str]] = {}
    for number in stack.phone_number_ids:
        found = _call(social.get_linked_whatsapp_business_account_phone_number, id=number, missing=True)
        if found is None:
            yield Check.failed(
                f"WhatsApp number {_short(number)} is not in this account and region ({stack.region})",
                "End User Messaging Social console → WhatsApp → Phone numbers: use an id listed there",
            )
            continue
        yield Check.passed(f"WhatsApp number {_short(number)} exists")
        wabas.setdefault(found["linkedWhatsAppBusinessAccountId"], []).append(number)
    for waba in wabas:
        destinations = _destinations(_call(social.get_linked_whatsapp_business_account, id=waba)["account"])
        if in_topic in destinations:
            yield Check.passed(f"WhatsApp Business Account {waba} sends its events to this stack's inTopicArn")
        else:
            now = ", ".join(destinations) or "nowhere"
            yield Check.failed(
                f"WhatsApp Business Account {waba} sends its events to {now}, not to this stack: no message arrives",
                f"End User Messaging Social console → WhatsApp → Business accounts → {waba} → Event destination: "
                f"{in_topic}",
            )


def _any_account_sends_here(in_topic: str, social: Any) -> Check:
    """With no number named the stack takes every number of the account: one linked WABA must send events here."""
    accounts = _paged(social.list_linked_whatsapp_business_accounts, "linkedAccounts", page_key="nextToken")
    here = [a["id"] for a in accounts if in_topic in _destinations(a)]
    if here:
        return Check.passed(f"WhatsApp Business Account {', '.join(here)} sends its events to this stack's inTopicArn")
    return Check.failed(
        f"none of the {len(accounts)} linked WhatsApp Business Account(s) sends its events here: no message arrives",
        f"End User Messaging Social console → WhatsApp → Business accounts → yours → Event destination: {in_topic}",
    )


def _destinations(account: dict[str, Any]) -> list[str]:
    """Where a linked WhatsApp Business Account sends its events (its event destinations' ARNs)."""
    return [d["eventDestinationArn"] for d in account.get("eventDestinations") or []]


def _connect(stack: Stack, connect: Any) -> Iterator[Check]:
    instance = stack.instance_id
    found = _call(connect.describe_instance, InstanceId=instance, missing=True)
    if found is None:
        yield Check.failed(
            f"Connect instance {instance} does not exist in {stack.region}",
            "pulumi config set connectInstanceId <the id at the end of the instance ARN in the Connect console>",
        )
        return
    status = found["Instance"].get("InstanceStatus")
    yield Check(status == "ACTIVE", f"Connect instance {instance} is {status}", "Connect console: see its status")
    for flow in stack.flow_ids:
        yield _flow(connect, instance, flow)
    for kind, why in (("ATTACHMENTS", "every file is refused"), ("CHAT_TRANSCRIPTS", "persistent chat cannot")):
        has = bool(
            _paged(connect.list_instance_storage_configs, "StorageConfigs", InstanceId=instance, ResourceType=kind)
        )
        yield Check(
            has,
            f"{kind} storage is {'configured' if has else 'not configured: ' + why}",
            "Connect console → your instance → Data storage → "
            + ("Attachments: enable attachments" if kind == "ATTACHMENTS" else "Chat transcripts: set an S3 bucket"),
        )
    attribute = _call(connect.describe_instance_attribute, InstanceId=instance, AttributeType="MESSAGE_STREAMING")
    streaming = str(attribute["Attribute"].get("Value", "")).lower() == "true"
    yield Check.passed(
        "MESSAGE_STREAMING is on: AI agents' answers stream; the bridge sends each answer to WhatsApp whole, once done"
        if streaming
        else "MESSAGE_STREAMING is off: each answer reaches WhatsApp as the agent or AI sends it",
    )
    outreach = stack.outputs.get("outreachFunctionName")
    if outreach:
        arns = _paged(connect.list_lambda_functions, "LambdaFunctions", InstanceId=instance)
        linked = any(arn.split(":")[6] == outreach for arn in arns if arn.count(":") >= 6)
        yield Check(
            linked,
            f"the outreach function {outreach} is {'associated with' if linked else 'not associated with'} "
            "the instance",
            f"aws connect associate-lambda-function --instance-id {instance} --function-arn <arn of {outreach}>",
        )


def _flow(connect: Any, instance: str, flow: str) -> Check:
    try:
        found = _call(connect.describe_contact_flow, InstanceId=instance, ContactFlowId=flow, missing=True)
    except _NotPublished:
        return Check.failed(f"flow {flow} has not been published", PUBLISH_FIX)
    if found is None:
        return Check.failed(
            f"flow {flow} does not exist on the instance", "pulumi config set contactFlowId <a flow id>"
        )
    state, status = found["ContactFlow"].get("State"), found["ContactFlow"].get("Status")
    if state == "ARCHIVED":
        return Check.failed(f"flow {flow} is archived", "Connect console → Routing → Flows → Archived: restore it")
    return Check(status == "PUBLISHED", f"flow {flow} is {status}", PUBLISH_FIX)


def _dead_letters(stack: Stack, sqs: Any) -> Iterator[Check]:
    for key in DEAD_LETTER_OUTPUTS:
        url = stack.output(key)
        attributes = _call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        waiting = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
        name = url.rsplit("/", 1)[-1]
        yield Check(
            waiting == 0,
            f"{name}: {waiting} message(s) waiting",
            "docs/operations.md → Dead letters: read them, fix the cause, then redrive",
        )


def _alarm_subscription(stack: Stack, sns: Any) -> Check:
    topic = stack.alarm_topic_arn
    if topic is None:
        return Check.failed("there is no alarm topic: nobody hears of a failure", "pulumi config set alarmEmail …")
    subscriptions = _paged(sns.list_subscriptions_by_topic, "Subscriptions", TopicArn=topic)
    # A pending one's SubscriptionArn is "PendingConfirmation" (CLI) or "pending confirmation" (Subscribe's doc).
    confirmed = [s for s in subscriptions if str(s.get("SubscriptionArn", "")).startswith("arn:")]
    pending = len(subscriptions) - len(confirmed)
    if confirmed:
        return Check.passed(f"the alarm topic has {len(confirmed)} confirmed subscription(s)")
    if pending:
        return Check.failed("the alarm e-mail was never confirmed", "open the AWS Notification e-mail and confirm")
    return Check.failed("the alarm topic has no subscription", f"aws sns subscribe --topic-arn {topic} …")


class _NotPublished(Exception):
    pass


def _call(operation: Callable[..., Any], *, missing: bool = False, **params: Any) -> Any:
    """The answer; None for ResourceNotFoundException when `missing`; DoctorStopped on anything no check can read."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    name = getattr(operation, "__name__", "the call")
    client = getattr(operation, "__self__", None)
    if client is not None and hasattr(client, "meta"):
        name = client.meta.method_to_api_mapping.get(name, name)  # describe_instance -> DescribeInstance
    try:
        return operation(**params)
    except NoCredentialsError:
        raise DoctorStopped("no AWS credentials: set AWS_PROFILE (or run `aws sso login`) and try again") from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if missing and code in ("ResourceNotFoundException", "NotFoundException"):
            return None
        if code == "ContactFlowNotPublishedException":
            raise _NotPublished from None
        if code in THROTTLED:
            raise DoctorStopped(f"AWS throttled {name} ({code}): run make doctor again in a minute") from None
        if code in DENIED or "Denied" in code:
            raise DoctorStopped(f"not allowed to call {name} ({code}): use the policy in docs/deploy.md") from None
        raise DoctorStopped(f"{name} failed: {code}: {error.response.get('Error', {}).get('Message', '')}") from None
    except BotoCoreError as error:
        raise DoctorStopped(f"{name} failed: {error}") from None


def _paged(operation: Callable[..., Any], key: str, page_key: str = "NextToken", **params: Any) -> list[Any]:
    items: list[Any] = []
    while True:
        page = _call(operation, **params)
        items.extend(page.get(key) or [])
        if not page.get(page_key):
            return items
        params[page_key] = page[page_key]


def _short(number: str) -> str:
    """A number's id shortened for the screen (ids, not phone numbers, but still not printed whole)."""
    tail = number.rsplit("/", 1)[-1]
    return tail if len(tail) <= 24 else f"{tail[:20]}…{tail[-4:]}"


# ---------------------------------------------------------------- the command


@dataclass
class Options:
    stack: str | None = None
    outputs: str | None = None
    config: str | None = None
    phone_number_ids: list[str] = field(default_factory=list)
    policy: bool = False


def _pulumi_json(*args: str) -> Any:
    try:
        done = subprocess.run(["pulumi", *args, "--json"], capture_output=True, text=True, check=False, timeout=120)
    except FileNotFoundError:
        raise DoctorStopped("the pulumi CLI is not installed: pass --outputs FILE --config FILE instead") from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise DoctorStopped(f"pulumi {' '.join(args)}: {first}")
    return json.loads(done.stdout or "{}")


def _json_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError) as error:
        raise DoctorStopped(f"cannot read {path}: {error}") from None


def load_stack(options: Options) -> Stack:
    if options.outputs or options.config:
        if not (options.outputs and options.config):
            raise DoctorStopped("pass both --outputs and --config (the JSON of pulumi stack output / pulumi config)")
        outputs, config = _json_file(options.outputs), _json_file(options.config)
    else:
        at = ["--stack", options.stack] if options.stack else []
        outputs = _pulumi_json("stack", "output", "--show-secrets", *at)
        config = _pulumi_json("config", "--show-secrets", *at)
    if not isinstance(outputs, dict) or not isinstance(config, dict):
        raise DoctorStopped("the stack's outputs and config must be JSON objects")
    return stack_from(outputs, config, options.phone_number_ids)


def aws_clients(region: str) -> Clients:
    import boto3

    return Clients(*(boto3.client(s, region_name=region) for s in ("connect", "socialmessaging", "sqs", "sns")))


def diagnose(stack: Stack, clients: Clients, out: Callable[[str], None]) -> int:
    """Print each check as it runs; 0 when all are ✓, 1 when one is ✗, 2 when the doctor had to stop."""
    failed = False
    try:
        for check in run_checks(stack, clients):
            failed = failed or not check.ok
            for line in check.lines():
                out(line)
    except DoctorStopped as stop:
        out(f"doctor: {stop}")
        return 2
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None, clients: Callable[[str], Clients] = aws_clients) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.doctor", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="the Pulumi stack (default: the selected one)")
    parser.add_argument("--outputs", help="a file of `pulumi stack output --json` (with --config)")
    parser.add_argument("--config", help="a file of `pulumi config --json` (with --outputs)")
    parser.add_argument("--phone-number-id", dest="phone_number_ids", action="append", default=[])
    parser.add_argument("--policy", action="store_true", help="print the IAM policy the checks need, then stop")
    options = parser.parse_args(argv, namespace=Options())
    try:
        stack = load_stack(options)
        if options.policy:
            from components.doctor_policy import doctor_policy

            print(json.dumps(doctor_policy(stack), indent=2))
            return 0
        made = clients(stack.region)
    except DoctorStopped as stop:
        print(f"doctor: {stop}")
        return 2
    return diagnose(stack, made, print)


if __name__ == "__main__":
    sys.exit(main())
