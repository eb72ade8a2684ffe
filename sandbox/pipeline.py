"""The whole pipeline on loopback, in virtual time, delivering events the way AWS does.

`Pipeline` puts the delivery paths of `sandbox.delivery` (function workers, SNS, the DynamoDB stream, SQS FIFO,
Connect streaming, EventBridge Scheduler and rules, dead letters) together over one virtual clock and one scheduler.
Every function call is checked against its role (sandbox.iam_check), and so are the calls Lambda itself makes with the
function's role (reading the stream, polling the queue, writing a dead letter). The map of the paths:
docs/sandbox.md#inside-the-sandbox-delivery-paths-workers-moto.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import botocore.config

from sandbox import iam_check
from sandbox.delivery.connect_streaming import ConnectStreaming
from sandbox.delivery.dead_letters import DeadLetter, DeadLetters
from sandbox.delivery.eventbridge import EventBridgeToLambda
from sandbox.delivery.functions import PLACEHOLDER_CREDENTIAL, Functions, InvocationRecord
from sandbox.delivery.queues import Queues
from sandbox.delivery.scheduler import Scheduler, VirtualClock
from sandbox.delivery.schedules import ScheduleToLambda
from sandbox.delivery.sns import SnsToLambda
from sandbox.delivery.sqs import QueueToLambda
from sandbox.delivery.stream import StreamToLambda
from sandbox.faults import FaultPlan
from sandbox.lambdas import FunctionProcess, Invocation
from sandbox.provision import provision
from sandbox.wiring import FunctionSpec, QueueSpec, Wiring

__all__ = ["DeadLetter", "InvocationRecord", "Pipeline", "VirtualClock", "local_client"]


def local_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for a loopback stand-in: explicit endpoint and throwaway credentials, never real AWS."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",  # noqa: S106 - moto accepts anything
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


class Pipeline:
    """Owns the workers, the scheduler and every delivery path between them."""

    def __init__(
        self,
        wiring: Wiring,
        *,
        moto_url: str,
        fake_url: str,
        clock: VirtualClock,
        on_invocation: Callable[[str, Invocation], None] | None = None,
        on_settle: Callable[[], None] | None = None,
        faults: FaultPlan | None = None,
        session_token: str = PLACEHOLDER_CREDENTIAL,
    ) -> None:
        self.wiring = wiring
        self.clock = clock
        self.moto_url = moto_url
        self.fake_url = fake_url
        self.on_settle = on_settle
        self.faults = faults or FaultPlan()
        region = wiring.account.region
        self._clients = {name: local_client(name, moto_url, region) for name in ("dynamodb", "sqs", "s3")}
        self.roles = iam_check.RoleCheck(
            wiring.functions, wiring.account, {t.name: t.hash_key for t in wiring.tables.values()}
        )
        self.scheduler = Scheduler(clock, settle=self._settle)
        self.queues = Queues(self._clients["sqs"], moto_url, wiring.account.account_id, region)
        self.failures = DeadLetters(wiring, clock, self.queues, self.roles)
        endpoints = {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ENDPOINT_URL_CONNECT": fake_url,
            "AWS_ENDPOINT_URL_CONNECTPARTICIPANT": fake_url,
            "AWS_ENDPOINT_URL_SOCIALMESSAGING": fake_url,
            "AWS_ENDPOINT_URL_TRANSCRIBE": fake_url,
        }
        self.functions = Functions(
            wiring,
            clock,
            self.roles,
            self.faults,
            endpoints=endpoints,
            on_invocation=on_invocation,
            session_token=session_token,
        )
        self.sns = SnsToLambda(wiring, self.scheduler, self.functions, self.failures, self.faults)
        self.stream = StreamToLambda(wiring, self.scheduler, self.functions, self.failures, self.faults)
        self.sqs = QueueToLambda(wiring, self.scheduler, self.functions, self.queues, self.failures)
        self.connect = ConnectStreaming(self.sns.publish)
        self.schedules = ScheduleToLambda(wiring, self.scheduler, self.functions)
        self.events = EventBridgeToLambda(wiring, self.scheduler, self.functions, self.failures)
        self.functions.call_listeners += [self.stream.notice_calls, self.sqs.notice_calls]

    # ---------------------------------------------------------------- set-up
    def provision(self) -> None:
        """Create in moto what the program declares, then check the calls Lambda will make with each role."""
        clients = self._clients
        provision(self.wiring, dynamodb=clients["dynamodb"], sqs=clients["sqs"], s3=clients["s3"])
        self.stream.check_role(self.roles)
        self.sqs.check_role(self.roles)

    def environment(self, spec: FunctionSpec) -> dict[str, str]:
        return self.functions.environment(spec)

    def start_functions(self) -> None:
        self.functions.start()
        self.stream.start()
        self.schedules.start()

    def stop(self) -> None:
        self.functions.stop()

    # ---------------------------------------------------------------- running
    def schedule(self, at: float, label: str, run: Callable[[], None]) -> None:
        self.scheduler.at(at, label, run)

    def run(self, *, until: float) -> None:
        """Run jobs in time order until none are left (or virtual time passes `until`)."""
        self.scheduler.run(until=until)

    def _settle(self) -> None:
        """After each job: let services see the time move, then hand new stream records and Connect's publishes on."""
        if self.on_settle:
            self.on_settle()
        self.stream.settle()
        self.connect.settle()
        self.events.settle()

    def invoke(self, key: str, event: dict[str, Any]) -> Invocation:
        return self.functions.invoke(key, event)

    def publish(self, topic_arn: str, message: str, attributes: dict[str, str] | None = None) -> None:
        """An SNS publish to `topic_arn`: deliver to every Lambda subscription whose filter policy matches."""
        self.sns.publish(topic_arn, message, attributes)

    def publish_from_service(self, topic_arn: str, message: str, attributes: dict[str, str]) -> None:
        """Thread-safe entry for the fake Connect (it publishes from its HTTP thread, mid-invoke)."""
        self.connect.publish_from_service(topic_arn, message, attributes)

    def dead_letter_depth(self, queue: QueueSpec) -> int:
        return self.queues.depth(queue)

    # ---------------------------------------------------------------- what happened
    @property
    def on_invocation(self) -> Callable[[str, Invocation], None] | None:
        return self.functions.on_invocation

    @on_invocation.setter
    def on_invocation(self, callback: Callable[[str, Invocation], None] | None) -> None:
        self.functions.on_invocation = callback

    @property
    def workers(self) -> dict[str, FunctionProcess]:
        return self.functions.workers

    @property
    def invocations(self) -> list[InvocationRecord]:
        return self.functions.invocations

    @property
    def logs(self) -> dict[str, list[str]]:
        return self.functions.logs

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        return self.functions.metrics

    @property
    def api_calls(self) -> Counter[tuple[str, str, str]]:
        """(function, service, operation) -> how many calls the handlers made."""
        return self.functions.api_calls

    @property
    def injected_errors(self) -> int:
        """AWS answers replaced by injected errors inside the functions (see sandbox.faults)."""
        return self.functions.injected_errors

    @property
    def whatsapp_sends_in_doubt(self) -> int:
        """WhatsApp sends an injected fault killed before anything recorded them (`Invocation.whatsapp_send_in_doubt`)."""
        return self.functions.whatsapp_sends_in_doubt

    @property
    def sns_duplicates(self) -> int:
        return self.sns.duplicates

    @property
    def dead_letters(self) -> list[DeadLetter]:
        return self.failures.letters

    @property
    def bursts_seen(self) -> dict[str, str]:
        """burst id -> the queue body that carried it (for the transcript)."""
        return self.sqs.bursts_seen
