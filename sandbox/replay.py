"""`python -m sandbox replay TRACE.jsonl`: the whole pipeline, locally, in virtual time.

Starts a moto server and the fake Connect / Participant / End User Messaging service on 127.0.0.1, wires the
handlers from the Pulumi program's resource graph, delivers the trace's events at their virtual times, and turns
what reached Connect and WhatsApp into the transcript (the replay contract: docs/sandbox.md#the-replay-contract).

This module is the driving loop (`Replay`) and the `replay` command: its arguments (`add_arguments`) and what it
writes (`run`) are at the end. What a run produced is read by sandbox.report (the transcript, the summary line) and
shown by sandbox.timeline (`--text`); the faults a run injects are planned and armed by sandbox.faults.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import faults, outreach, report, service_conditions, trace
from sandbox.delivery.functions import PLACEHOLDER_CREDENTIAL
from sandbox.faults import FaultPlan
from sandbox.pipeline import Pipeline, VirtualClock, local_client
from sandbox.program import deployed_graph
from sandbox.wiring import Wiring, from_graph
from whatsapp_buffer.environment import InboundSettings

START_EPOCH = 1_767_225_600.0
"""Virtual time of a trace's `at` = 0 (2026-01-01T00:00:00Z; a multiple of every tumbling window length)."""
ACCOUNT_ID = "123456789012"
DRAIN_SECONDS = 3_600.0
"""How long after the trace's last event the replay keeps delivering (retries, windows, queues) at most."""


@dataclass
class Services:
    """The loopback stand-ins: moto for what it serves, the fake for Connect, Participant and End User Messaging."""

    moto: Any
    moto_url: str
    fake: Any
    fake_url: str

    def stop(self) -> None:
        self.fake.stop()
        self.moto.stop()


def start_services(
    clock: Callable[[], float],
    publish: Callable[[str, str, dict[str, str]], None],
    region: str,
    instance_ids: list[str] | None = None,
    on_status: Callable[[str, dict[str, Any]], None] | None = None,
    contact_flow_ids: list[str] | None = None,
) -> Services:
    from sandbox.fakes import FakeServices
    from sandbox.moto_server import LoopbackMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = LoopbackMotoServer()
    moto_url = moto.start()
    s3 = local_client("s3", moto_url, region)
    # End User Messaging writes inbound media to a pre-signed S3 URL; here S3 is the moto server on loopback.
    fake = FakeServices(
        clock=clock,
        s3_client=s3,
        publish=publish,
        instance_ids=instance_ids,
        contact_flow_ids=contact_flow_ids,
        s3_endpoints=[moto_url],
        on_status=on_status,
    )
    fake_url = fake.start()
    return Services(moto, moto_url, fake, fake_url)


@dataclass
class Replay:
    """One replay: its wiring, services and pipeline; `run()` returns the transcript."""

    events: list[trace.TraceEvent]
    overrides: Mapping[str, str] = field(default_factory=dict)
    wiring: Wiring | None = None
    faults: FaultPlan = field(default_factory=FaultPlan)
    session_token: str = PLACEHOLDER_CREDENTIAL
    """The functions' AWS_SESSION_TOKEN; a long one (as regional STS issues) makes pre-signed URLs longer."""
    on_ready: Callable[[Replay], None] | None = None
    on_drained: Callable[[Replay], None] | None = None
    """Called once the drain is over, before the services stop (the dashboard's last queue depths)."""
    clock: VirtualClock = field(default_factory=lambda: VirtualClock(START_EPOCH))
    pipeline: Pipeline | None = None
    services: Services | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    wall_seconds: float = 0.0
    _last_id: dict[str, str] = field(default_factory=dict)
    _spoken: dict[str, str] = field(default_factory=dict)
    """media id -> the words of a voice/audio trace line (`transcript`), what the Transcribe stand-in returns."""
    _sent_at: dict[str, float] = field(default_factory=dict)
    outreach: list[dict[str, Any]] = field(default_factory=list)
    """What each `outreach` line's flow got back (the transcript's `outreach[]`)."""

    def __post_init__(self) -> None:
        if self.wiring is None:
            graph = deployed_graph(self.overrides)
            region = str(graph.stack_outputs["inTopicArn"]).split(":")[3]
            self.wiring = from_graph(graph, region=region, account_id=ACCOUNT_ID)

    # ------------------------------------------------------------------ running
    def run(self) -> dict[str, Any]:
        """Replay the whole trace and return the transcript."""
        started = time.perf_counter()
        self.start()
        try:
            ids = trace.assign_message_ids(self.events)
            for event in self.events:
                self.schedule(event, ids.get(event.line))
            last = max(e.at for e in self.events)
            assert self.pipeline is not None  # start() built it
            self.pipeline.run(until=START_EPOCH + last + DRAIN_SECONDS)
            if self.on_drained:
                self.on_drained(self)
            self.wall_seconds = time.perf_counter() - started
            return self.transcript()
        finally:
            self.stop()

    def start(self) -> None:
        """Start the loopback services and the function workers, and create the stack's resources in moto."""
        assert self.wiring is not None
        inbound = InboundSettings.from_env(self.wiring.functions["inbound"].env)
        self.services = start_services(
            self.clock,
            self._publish_from_connect,
            self.wiring.account.region,
            [inbound.connect_instance_id],
            on_status=self._status_from_whatsapp,
            # The sandbox's Connect instance has the stack's default flow and each number's (contactFlows).
            contact_flow_ids=list(dict.fromkeys([inbound.contact_flow_id, *inbound.contact_flows.values()])),
        )
        self.pipeline = Pipeline(
            self.wiring,
            moto_url=self.services.moto_url,
            fake_url=self.services.fake_url,
            clock=self.clock,
            on_settle=self.services.fake.tick,  # chats whose duration ran out end, as in Connect
            faults=self.faults,
            session_token=self.session_token,
        )
        self.services.fake.transcribe.transcript_for = self._words_in
        self.pipeline.events.attach(self.services.fake.transcribe)  # job state changes -> the program's rules
        faults.inject_into_fake(self.faults, self.services.fake)
        for meta_id in {trace.DEFAULT_PHONE_NUMBER_ID, *(e.phone_number_id for e in self.events)}:
            # Every sandbox number belongs to the one sandbox WABA, whose templates `template` lines declare.
            self.services.fake.social.templates.link_number(
                trace.eum_phone_number_id(meta_id), meta_id, trace.waba_id()
            )
        self.pipeline.provision()
        self.pipeline.start_functions()
        if self.on_ready:
            self.on_ready(self)

    def stop(self) -> None:
        if self.pipeline:
            self.pipeline.stop()
        if self.services:
            self.services.stop()

    def _words_in(self, bucket: str, key: str) -> str:
        """The trace's `transcript` of the recording stored at `key` (`…/<index>-<media id>.wav` at flush,
        `prepared/<media id>.wav` early); a recording without one holds no words."""
        name = key.rsplit("/", 1)[-1].removesuffix(".wav")
        media_id = name if key.startswith("prepared/") else name.partition("-")[2]
        return self._spoken.get(media_id, "")

    def _publish_from_connect(self, topic_arn: str, message: str, attributes: dict[str, str]) -> None:
        if self.pipeline is not None:
            self.pipeline.publish_from_service(topic_arn, message, attributes)

    def _status_from_whatsapp(self, origination: str, status: dict[str, Any]) -> None:
        """A status End User Messaging reports for a message the bridge sent (the fake's asynchronous 131047 failure)
        goes to the in-topic like messages (Meta's `statuses[]` beside `metadata` in the webhook entry)."""
        if self.pipeline is None or self.wiring is None:
            return
        meta = next(
            (
                e.phone_number_id
                for e in self.events
                if origination.endswith(trace.eum_phone_number_id(e.phone_number_id))
            ),
            None,
        )
        if meta is None:
            return
        region = self.wiring.account.region
        message = trace.status_message(status, meta, region=region, account_id=ACCOUNT_ID, now=self.clock())
        self.pipeline.publish_from_service(self.in_topic_arn, message, {})

    @property
    def in_topic_arn(self) -> str:
        assert self.wiring is not None
        return str(self.wiring.stack_outputs["inTopicArn"])

    def schedule(self, event: trace.TraceEvent, message_id: str | None = None) -> None:
        """Deliver one trace event at its virtual time (`message_id` for whatsapp events)."""
        assert self.pipeline is not None and self.wiring is not None and self.services is not None
        at = START_EPOCH + event.at
        if event.type == "whatsapp":
            message_id = message_id or f"wamid.SBX{event.line:08d}"
            # A repeated id is a redelivery of the same message: WhatsApp resends it with its original timestamp.
            first_sent_at = self._sent_at.setdefault(message_id, float(event.data.get("sent_at", event.at)))
            event = trace.TraceEvent(event.line, event.at, event.type, {**event.data, "sent_at": first_sent_at})
            agent_said = self._agent_texts().get(str(event.data.get("reply_to") or ""))
            if agent_said is not None:
                # A reply to an agent line: its WhatsApp id is the one End User Messaging gave the relayed message.
                self.pipeline.schedule(
                    at, "whatsapp", functools.partial(self._replies_to_agent, event, message_id, agent_said)
                )
                return
            message, media = trace.eum_message(
                event,
                message_id,
                start_epoch=START_EPOCH,
                region=self.wiring.account.region,
                account_id=ACCOUNT_ID,
                previous_id=self._last_id.get(event.customer),
            )
            self._last_id[event.customer] = message_id
            if media is not None:
                self.services.fake.register_media(media.media_id, media.data, media.mime_type)
                if event.data.get("transcript"):
                    self._spoken[media.media_id] = str(event.data["transcript"])
            number = trace.eum_phone_number_id(event.phone_number_id)
            self.pipeline.schedule(
                at, "whatsapp", functools.partial(self._customer_writes, message, number, event.customer)
            )
        elif event.type == "raw":
            self.pipeline.schedule(
                at, "raw", functools.partial(self.pipeline.publish, self.in_topic_arn, event.data["message"])
            )
        elif event.type == "agent":
            self.pipeline.schedule(at, "agent", functools.partial(self._agent, event))
        elif event.type == "end_chat":
            self.pipeline.schedule(at, "end_chat", functools.partial(self._end_chat, event))
        elif event.type == "bot":
            self.pipeline.schedule(at, "bot", functools.partial(self._bot, event))
        elif event.type == "template":
            self.pipeline.schedule(at, "template", functools.partial(self._declare_template, event))
        elif event.type == "outreach":
            self.pipeline.schedule(at, "outreach", functools.partial(self._outreach, event))
        elif event.type == "service":
            self.pipeline.schedule(at, "service", functools.partial(service_conditions.apply, event.data, self))

    def _declare_template(self, event: trace.TraceEvent) -> None:
        assert self.services is not None
        self.services.fake.social.templates.add(trace.waba_id(), outreach.template_of(event))

    def _agent_texts(self) -> dict[str, str]:
        """`id` of each agent line that has one -> its text (what a customer's `reply_to` may name)."""
        return {str(e.data["id"]): str(e.data["text"]) for e in self.events if e.type == "agent" and e.data.get("id")}

    def _replies_to_agent(self, event: trace.TraceEvent, message_id: str, agent_text: str) -> None:
        assert self.wiring is not None and self.services is not None
        sent = [
            s.message_id for s in self.services.fake.whatsapp_sent if s.text == agent_text and s.to == event.customer
        ]
        data = {**event.data, "reply_to": sent[-1] if sent else "wamid.NOT-RELAYED"}
        replying = trace.TraceEvent(event.line, event.at, event.type, data)
        message, _ = trace.eum_message(
            replying, message_id, start_epoch=START_EPOCH, region=self.wiring.account.region, account_id=ACCOUNT_ID
        )
        self._last_id[event.customer] = message_id
        self._customer_writes(message, trace.eum_phone_number_id(event.phone_number_id), event.customer)

    def _customer_writes(self, message: str, number: str, customer: str) -> None:
        """The customer's message reaches WhatsApp (opening the 24-hour service window) and the in-topic."""
        assert self.pipeline is not None and self.services is not None
        self.services.fake.customer_wrote(number, customer)
        self.pipeline.publish(self.in_topic_arn, message)

    def _contact_for(self, event: trace.TraceEvent) -> str | None:
        assert self.wiring is not None and self.services is not None
        table = self.wiring.stack_outputs["sessionsTableName"]
        ddb = local_client("dynamodb", self.services.moto_url, self.wiring.account.region)
        item = ddb.get_item(
            TableName=table,
            Key={"conversation": {"S": f"{event.phone_number_id}#{event.customer}"}},
            ConsistentRead=True,
        ).get("Item")
        if item and "alias_of" in item:
            # One customer known by two keys (BSUID and number, or an old and a new number) shares one chat.
            item = ddb.get_item(TableName=table, Key={"conversation": item["alias_of"]}, ConsistentRead=True).get(
                "Item"
            )
        return item["contact_id"]["S"] if item and "contact_id" in item else None

    def _open_chat(self, event: trace.TraceEvent, what: str) -> str | None:
        """The contact of the customer's open chat; without one the line is skipped (`what` says what it was)."""
        contact = self._contact_for(event)
        if contact is None:
            self.skipped.append(
                {"at": event.at, "line": event.line, "reason": f"{what} for a customer with no open chat"}
            )
        return contact

    def _agent(self, event: trace.TraceEvent) -> None:
        assert self.services is not None
        if (contact := self._open_chat(event, "agent message")) is None:
            return
        if event.data.get("kind", "text") != "text":
            self.services.fake.agent_attachment(contact, *trace.agent_file(event))
            return
        content_type = str(event.data.get("content_type") or "text/plain")
        self.services.fake.agent_message(contact, str(event.data["text"]), content_type=content_type)

    def _bot(self, event: trace.TraceEvent) -> None:
        assert self.services is not None
        if (contact := self._open_chat(event, "bot answer")) is None:
            return
        self.services.fake.bot_answer(contact, [str(chunk) for chunk in event.data["chunks"]])

    def _end_chat(self, event: trace.TraceEvent) -> None:
        assert self.services is not None
        if (contact := self._open_chat(event, "end_chat")) is None:
            return
        self.services.fake.end_chat(contact)

    def _outreach(self, event: trace.TraceEvent) -> None:
        """A contact flow's *Invoke AWS Lambda function* block calls the outreach function, if Connect may."""
        assert self.pipeline is not None and self.wiring is not None
        instance = self.wiring.connect_invocable.get(outreach.FUNCTION)
        if instance is None:
            result, reason = "refused", "Amazon Connect may not invoke the outreach function (association, permission)"
        else:
            started = self.clock()
            instance_arn = self.wiring.account.arn("connect", f"instance/{instance}")
            invocation = self.pipeline.invoke(outreach.FUNCTION, outreach.connect_event(event, instance_arn))
            result, reason = outreach.flow_answer(invocation, self.clock() - started)
        entry = {"at": event.at, "to": event.data.get("to"), "template": event.data.get("template")}
        self.outreach.append({**entry, "result": result, "reason": reason})

    # ------------------------------------------------------------------ transcript
    def transcript(self) -> dict[str, Any]:
        """What the run produced so far (sandbox.report)."""
        assert self.pipeline is not None and self.services is not None and self.wiring is not None
        ddb = local_client("dynamodb", self.services.moto_url, self.wiring.account.region)
        stored_at = report.stored_at(ddb, self.wiring.stack_outputs["rawTableName"], self.clock.start)
        document = report.build(
            self.events,
            self.pipeline,
            self.services.fake,
            self.clock,
            skipped=self.skipped,
            stored_at=stored_at,
            wall_seconds=self.wall_seconds,
        )
        document["outreach"] = list(self.outreach)
        return document


# ---------------------------------------------------------------------- command line
def add_arguments(parser: Any) -> None:
    parser.add_argument("trace", help="TRACE.jsonl: one event per line (docs/sandbox.md#tracejsonl)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a stack config key, e.g. bufferSeconds=5",
    )
    parser.add_argument("--out", metavar="FILE", help="write the transcript JSON here instead of stdout")
    add_dashboard_argument(parser)
    parser.add_argument("--text", action="store_true", help="print the readable timeline instead of JSON")
    parser.add_argument(
        "--faults",
        metavar="MIX[,MIX]",
        help="inject faults: "
        + ", ".join([*faults.MIXES, *faults.MISCONFIGURATIONS])
        + " or all (see sandbox/faults.py)",
    )
    parser.add_argument("--fault-rate", type=float, default=0.05, help="rate of each injected fault (default 0.05)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault injection")


def add_dashboard_argument(parser: Any) -> None:
    parser.add_argument(
        "--dashboard",
        metavar="PNG",
        help="also draw the stack's CloudWatch dashboard from the metrics the functions emitted in this replay",
    )


def replay_file(
    path: str,
    overrides: Mapping[str, str],
    plan: FaultPlan | None = None,
    on_ready: Callable[[Replay], None] | None = None,
) -> tuple[list[trace.TraceEvent], dict[str, Any]]:
    """Read a trace and replay it; raises TraceError, ConfigError or IamDenied with a one-line message."""
    events = trace.read_trace(path)
    return events, Replay(events, overrides, faults=plan or FaultPlan(), on_ready=on_ready).run()


def draw_dashboard(recorder: Any, overrides: Mapping[str, str], out: str) -> list[str]:
    """The dashboard the program declares for these overrides, drawn from the replay's metrics (sandbox.dashboard)."""
    from sandbox.dashboard import draw

    graph = deployed_graph(overrides)
    (dashboard,) = graph.by_type("aws:cloudwatch/dashboard:Dashboard")
    return draw(dashboard.inputs["dashboardBody"], recorder, out)


def run(args: Any) -> int:
    import sys

    from components.stack_config import ConfigError
    from sandbox.dashboard import Recorder
    from sandbox.iam_check import IamDenied
    from sandbox.plan import parse_overrides
    from sandbox.timeline import render

    try:
        plan = faults.parse(
            getattr(args, "faults", None), rate=getattr(args, "fault_rate", 0.05), seed=getattr(args, "seed", 0)
        )
        recorder = Recorder() if getattr(args, "dashboard", None) else None
        overrides = parse_overrides(args.set)
        events, transcript = replay_file(args.trace, overrides, plan, recorder.attach if recorder else None)
    except (trace.TraceError, ConfigError, IamDenied, ValueError) as error:
        print(f"replay failed: {error}", file=sys.stderr)
        return 2
    if recorder:
        panels = draw_dashboard(recorder, overrides, args.dashboard)
        print(f"dashboard: {len(panels)} panels drawn to {args.dashboard}", file=sys.stderr)
    document = json.dumps(transcript, indent=2, ensure_ascii=False)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(document + "\n")
    if args.text:
        print(render(events, transcript))
    elif not args.out:
        print(document)
    print(report.summary(transcript), file=sys.stderr)
    return 0
