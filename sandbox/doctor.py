"""`python -m sandbox doctor` (`make doctor SANDBOX=1`): `make doctor` against a sandbox stack set up as a first
deploy should leave it, so every check is ✓. moto (on loopback) holds the queues and the alarm topic (its e-mail subscription
confirmed), the fake the Connect instance, its flows and storage, the WABA with its event destination and numbers.
`sandbox_stack()` gives the tests the same stack to misconfigure.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

INSTANCE = "11111111-2222-3333-4444-555555555555"
FLOW = "aaaaaaaa-0000-0000-0000-000000000001"
SALES_FLOW = "aaaaaaaa-0000-0000-0000-000000000002"
NUMBER = "phone-number-id-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SALES_NUMBER = "phone-number-id-99999999999999999999999999999999"
WABA = "waba-5f6e7d8c9b0a1f2e3d4c5b6a79880011"
CONFIG = {
    "connectInstanceId": INSTANCE,
    "contactFlowId": FLOW,
    "contactFlows": json.dumps({SALES_NUMBER: SALES_FLOW}),
    "whatsappPhoneNumberIds": NUMBER,
    "alarmEmail": "ops@example.com",
}


@dataclass
class SandboxStack:
    stack: Any
    """components.doctor.Stack"""
    clients: Any
    """components.doctor.Clients: the fake in-process for Connect and End User Messaging, moto for SQS and SNS."""
    fake: Any
    outputs: dict[str, Any]
    config: dict[str, str]


def program() -> tuple[dict[str, Any], dict[str, str], Any]:
    """The sandbox stack's outputs, its namespaced config and its resource graph."""
    from sandbox.program import run_program
    from sandbox.stack_files import stack_config

    graph = run_program(dict(CONFIG), stack="sandbox")
    return dict(graph.stack_outputs), stack_config(CONFIG, "whatsapp-buffer", stack="sandbox"), graph


@contextmanager
def sandbox_stack(built: tuple[dict[str, Any], dict[str, str], Any] | None = None) -> Iterator[SandboxStack]:
    from components import doctor
    from sandbox.fakes.services import FakeServices
    from sandbox.moto_server import LoopbackMotoServer
    from sandbox.pipeline import local_client
    from sandbox.program import ACCOUNT_ID
    from sandbox.provision import provision
    from sandbox.wiring import from_graph

    outputs, config, graph = built or program()
    stack = doctor.stack_from(outputs, config)
    region = stack.region
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log, as in a replay
    moto = LoopbackMotoServer()
    url = moto.start()
    try:
        sqs, sns = local_client("sqs", url, region), local_client("sns", url, region)
        wiring = from_graph(graph, region=region, account_id=ACCOUNT_ID)
        provision(wiring, dynamodb=local_client("dynamodb", url, region), sqs=sqs, s3=local_client("s3", url, region))
        topic = sns.create_topic(Name=str(stack.alarm_topic_arn).rsplit(":", 1)[-1])["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
        fake = FakeServices(lambda: 1_750_000_000.0, instance_ids=[INSTANCE], contact_flow_ids=[FLOW, SALES_FLOW])
        templates = fake.social.templates
        templates.link_number(NUMBER, "106540352242922", WABA)
        templates.link_number(SALES_NUMBER, "106540352242923", WABA)
        templates.event_destinations[WABA.removeprefix("waba-")] = outputs["inTopicArn"]
        function = outputs["outreachFunctionName"]
        fake.connect.setup.lambda_functions.append(f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function}")
        keys = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}  # never real AWS: in-process
        connect = fake.client("connect", region_name=region, **keys)
        clients = doctor.Clients(connect, fake.client("socialmessaging", region_name=region, **keys), sqs, sns)
        yield SandboxStack(stack, clients, fake, outputs, config)
    finally:
        moto.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", action="store_true", help="print the doctor's IAM policy for this stack")


def run(args: argparse.Namespace) -> int:
    from components import doctor

    with sandbox_stack() as sandbox:
        if args.policy:
            from components.doctor_policy import doctor_policy

            print(json.dumps(doctor_policy(sandbox.stack), indent=2))
            return 0
        return doctor.diagnose(sandbox.stack, sandbox.clients, print)
