"""`python -m sandbox replay TRACE.jsonl`: the whole pipeline, locally, in virtual time (DESIGN §5 replay contract).

Starts a moto server and the fake Connect / Participant / End User Messaging service on 127.0.0.1, wires the
handlers from the Pulumi program's resource graph, delivers the trace's events at their virtual times, and turns
what reached Connect and WhatsApp into the transcript.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox import faults, trace
from sandbox.faults import FaultPlan
from sandbox.pipeline import Pipeline, VirtualClock, local_client
from sandbox.program import run_program
from sandbox.wiring import Wiring, from_graph

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
) -> Services:
    from sandbox.fakes import FakeAws
    from sandbox.moto_server import LoopbackMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = LoopbackMotoServer()
    moto_url = moto.start()
    s3 = local_client("s3", moto_url, region)
    # End User Messaging writes inbound media to a pre-signed S3 URL; here S3 is the moto server on loopback.
    fake = FakeAws(
        clock=clock,
        s3_client=s3,
        publish=publish,
        instance_ids=instance_ids,
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
    on_ready: Callable[[Replay], None] | None = None
    clock: VirtualClock = field(default_factory=lambda: VirtualClock(START_EPOCH))
    pipeline: Pipeline | None = None
    services: Services | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    wall_seconds: float = 0.0
    _last_id: dict[str, str] = field(default_factory=dict)
    _spoken: dict[str, str] = field(default_factory=dict)
    """media id -> the words of a voice/audio trace line (`transcript`), what the Transcribe stand-in returns."""
    _sent_at: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.wiring is None:
            graph = run_program(dict(self.overrides), stack="sandbox")
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
            self.pipeline.run(until=START_EPOCH + last + DRAIN_SECONDS)
            self.wall_seconds = time.perf_counter() - started
            return self.transcript()
        finally:
            self.stop()

    def start(self) -> None:
        """Start the loopback services and the function workers, and create the stack's resources in moto."""
        assert self.wiring is not None
        instance = self.wiring.functions["inbound"].env.get("CONNECT_INSTANCE_ID")
        self.services = start_services(
            self.clock,
            self._publish_from_connect,
            self.wiring.account.region,
            [instance] if instance else None,
            on_status=self._status_from_whatsapp,
        )
        self.pipeline = Pipeline(
            self.wiring,
            moto_url=self.services.moto_url,
            fake_url=self.services.fake_url,
            clock=self.clock,
            on_settle=self.services.fake.tick,  # chats whose duration ran out end, as in Connect
            faults=self.faults,
        )
        self.services.fake.transcribe.transcript_for = self._words_in
        self.pipeline.events.attach(self.services.fake.transcribe)  # job state changes -> the program's rules
        for index, fault in enumerate(self.faults.fake):
            self.services.fake.inject(
                fault.operation, fault.code, status=fault.status, rate=fault.rate, seed=hash((self.faults.seed, index))
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
        message = status_message(status, meta, self.wiring.account.region, self.clock())
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
                    at, "whatsapp", lambda e=event, m=message_id, t=agent_said: self._replies_to_agent(e, m, t)
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
                at, "whatsapp", lambda m=message, n=number, c=event.customer: self._customer_writes(m, n, c)
            )
        elif event.type == "raw":
            self.pipeline.schedule(
                at, "raw", lambda m=event.data["message"]: self.pipeline.publish(self.in_topic_arn, m)
            )
        elif event.type == "agent":
            self.pipeline.schedule(at, "agent", lambda e=event: self._agent(e))
        elif event.type == "end_chat":
            self.pipeline.schedule(at, "end_chat", lambda e=event: self._end_chat(e))

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

    def _agent(self, event: trace.TraceEvent) -> None:
        contact = self._contact_for(event)
        if contact is None:
            self.skipped.append(
                {"at": event.at, "line": event.line, "reason": "agent message for a customer with no open chat"}
            )
            return
        if event.data.get("kind", "text") != "text":
            self.services.fake.agent_attachment(contact, *trace.agent_file(event))
            return
        content_type = str(event.data.get("content_type") or "text/plain")
        self.services.fake.agent_message(contact, str(event.data["text"]), content_type=content_type)

    def _end_chat(self, event: trace.TraceEvent) -> None:
        contact = self._contact_for(event)
        if contact is None:
            self.skipped.append(
                {"at": event.at, "line": event.line, "reason": "end_chat for a customer with no open chat"}
            )
            return
        self.services.fake.end_chat(contact)

    # ------------------------------------------------------------------ transcript
    def transcript(self) -> dict[str, Any]:
        assert self.pipeline is not None and self.services is not None
        start = self.clock.start
        bursts = {bid: json.loads(body) for bid, body in self.pipeline.bursts_seen.items()}

        def item_for(token: str | None) -> tuple[dict[str, Any] | None, list[str]]:
            if not token:
                return None, []
            burst_id, _, rest = token.partition(":")
            burst = bursts.get(burst_id)
            if burst is None:
                return None, []
            index_text, _, _suffix = rest.partition(":")
            try:
                item = burst["items"][int(index_text)]
            except (ValueError, IndexError):
                return burst, []
            return burst, list(item["message_ids"])

        calls = [c for c in self.services.fake.calls if c.error is None and not c.replayed]
        participant_contact: dict[str, str] = {}
        connection_contact: dict[str, str] = {}
        contacts, connect, whatsapp_sent, whatsapp_refused, connect_events = [], [], [], [], []
        refused = {s.message_id: s.refused for s in self.services.fake.whatsapp_sent if s.refused}
        attachment_names: dict[str, tuple[str, str | None, str | None]] = {}
        contact_customer: dict[str, str] = {}
        for call in calls:
            if call.operation == "StartChatContact":
                contact_id = call.response["ContactId"]
                participant_contact[call.response["ParticipantToken"]] = contact_id
                contacts.append({"contact_id": contact_id, "customer": None, "started_at": round(call.at - start, 3)})
            elif call.operation == "CreateParticipantConnection":
                contact_id = participant_contact.get(call.params.get("ParticipantToken", ""))
                connection = (call.response.get("ConnectionCredentials") or {}).get("ConnectionToken")
                if contact_id and connection:
                    connection_contact[connection] = contact_id
            elif call.operation == "SendMessage":
                contact_id = connection_contact.get(call.params.get("ConnectionToken", ""))
                notice = bridge_notice(call.params.get("ClientToken"))
                if notice is not None:
                    # The bridge's own line to the agent (relay_reply): no customer message behind it.
                    at = round(call.at - start, 3)
                    customer = contact_customer.get(contact_id or "")
                    connect.append(
                        {
                            "at": at,
                            "contact_id": contact_id,
                            "customer": customer,
                            "kind": "text",
                            "content": call.params.get("Content"),
                            "content_type": call.params.get("ContentType"),
                            "message_ids": [],
                            "sender": "bridge",
                        }
                    )
                    if notice["outcome"] != "failed":
                        # A failed status's notice: the refused send is already listed (SendWhatsAppMessage below).
                        whatsapp_refused.append(
                            {"at": at, "to": customer, "kind": notice["kind"], "reason": notice["reason"]}
                        )
                    continue
                burst, ids = item_for(call.params.get("ClientToken"))
                customer = burst["conversation"].split("#", 1)[1] if burst else None
                if contact_id and customer:
                    contact_customer.setdefault(contact_id, customer)
                connect.append(
                    {
                        "at": round(call.at - start, 3),
                        "contact_id": contact_id,
                        "customer": customer,
                        "kind": "text",
                        "content": call.params.get("Content"),
                        "content_type": call.params.get("ContentType"),
                        "message_ids": ids,
                        "sender": "customer",
                    }
                )
            elif call.operation == "SendEvent" and call.params.get("ContentType", "").endswith(".event.typing"):
                connect_events.append(
                    {
                        "at": round(call.at - start, 3),
                        "contact_id": connection_contact.get(call.params.get("ConnectionToken", "")),
                        "customer": None,
                        "type": "typing",
                    }
                )
            elif call.operation == "StartAttachmentUpload":
                attachment_names[call.response["AttachmentId"]] = (
                    call.params.get("AttachmentName", ""),
                    call.params.get("ClientToken"),
                    call.params.get("ContentType"),
                )
            elif call.operation == "CompleteAttachmentUpload":
                for attachment_id in call.params.get("AttachmentIds", []):
                    name, token, content_type = attachment_names.get(attachment_id, ("", None, None))
                    burst, ids = item_for(token)
                    contact_id = connection_contact.get(call.params.get("ConnectionToken", ""))
                    customer = burst["conversation"].split("#", 1)[1] if burst else None
                    connect.append(
                        {
                            "at": round(call.at - start, 3),
                            "contact_id": contact_id,
                            "customer": customer,
                            "kind": "attachment",
                            "content": name,
                            "name": name,
                            "content_type": content_type,
                            "message_ids": ids,
                            "sender": "customer",
                        }
                    )
            elif call.operation == "SendWhatsAppMessage":
                for entry in whatsapp_out(call, start):
                    error = refused.get((call.response or {}).get("messageId"))
                    if error is None:
                        whatsapp_sent.append(entry)
                    else:
                        reason = f"{error['code']} {error['title']}: {error['error_data']['details']}"
                        whatsapp_refused.append(
                            {"at": entry["at"], "to": entry["to"], "kind": entry["kind"], "reason": reason}
                        )
        for contact in contacts:
            contact["customer"] = contact_customer.get(contact["contact_id"])
        for event in connect_events:
            event["customer"] = contact_customer.get(event["contact_id"])
        rejected = [
            {
                "at": round(d.at, 3),
                "reason": d.reason,
                "function": d.function,
                "source": d.source,
                "dead_lettered_at": round(d.dead_lettered_at, 3),
            }
            for d in self.pipeline.dead_letters
        ]
        metrics = self.pipeline.metrics
        stats = {
            "whatsapp_in": sum(1 for e in self.events if e.type == "whatsapp"),
            "connect_messages": len(connect),
            "duplicates_dropped": int(_metric(metrics, "ingest", "DuplicatesDropped", "duplicates_dropped")),
            "bursts": len(bursts),
            "contacts": len(contacts),
            "whatsapp_out": len(whatsapp_sent),
            "rejected": len(rejected),
            "ignored": int(_metric(metrics, "ingest", "MessagesIgnored", "ignored")),
            "invocations": _count_by_function(self.pipeline),
            "whatsapp_sends_in_doubt": self.pipeline.whatsapp_sends_in_doubt,
            "virtual_seconds": round(self.clock.elapsed, 3),
            "wall_seconds": round(self.wall_seconds, 3),
        }
        return {
            "connect": connect,
            "whatsapp_out": whatsapp_sent,
            "whatsapp_refused": whatsapp_refused,
            "connect_events": connect_events,
            "contacts": contacts,
            "rejected": rejected,
            "skipped": self.skipped,
            "stored_at": self._stored_at(),
            "queued_at": _queued_at(bursts.values(), start),
            "stats": stats,
            "metrics": {k: dict(sorted(v.items())) for k, v in metrics.items()},
        }

    def _stored_at(self) -> dict[str, float]:
        """Message id -> when ingest stored it (trace seconds): tells a late arrival (a retried ingest) from a reorder."""
        assert self.wiring is not None and self.services is not None
        ddb = local_client("dynamodb", self.services.moto_url, self.wiring.account.region)
        table = self.wiring.stack_outputs["rawTableName"]
        stored: dict[str, float] = {}
        for page in ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="message_id, received_at"):
            for item in page["Items"]:
                if "message_id" in item and "received_at" in item:
                    stored[item["message_id"]["S"]] = round(float(item["received_at"]["N"]) - self.clock.start, 3)
        return stored


def _queued_at(bursts: Iterable[dict[str, Any]], start: float) -> dict[str, float]:
    """Message id -> when the aggregator flushed the first burst that carried it (trace seconds, the burst's own
    `flushed_at`): from then on its place before later messages of the conversation is fixed by the FIFO queue, so a
    message stored after it can only follow it."""
    queued: dict[str, float] = {}
    for burst in bursts:
        flushed_at = burst.get("flushed_at")
        if not isinstance(flushed_at, int | float):
            continue
        at = round(float(flushed_at) - start, 3)
        for item in burst.get("items", []):
            for message_id in item.get("message_ids", []):
                queued[message_id] = min(at, queued.get(message_id, at))
    return queued


def _metric(metrics: dict[str, dict[str, float]], function: str, *names: str) -> float:
    values = metrics.get(function, {})
    return sum(values.get(name, 0.0) for name in names)


def _count_by_function(pipeline: Pipeline) -> dict[str, int]:
    return dict(Counter(record.function for record in pipeline.invocations))


NOTICE_REASONS = {
    "window_closed": "131047 Re-engagement message",
    "file_refused": "WhatsApp does not accept the file as it is (type or size)",
    "whatsapp_refused": "End User Messaging refused the message",
    "unsupported": "WhatsApp has no counterpart for this interactive message",
    "undeliverable": "131026 Message Undeliverable",
    "media_error": "131053 Media upload error",
    "unsupported_type": "131051 Unsupported message type",
    "experiment": "130472 User's number is part of an experiment",
    "whatsapp_failed": "WhatsApp reported the message failed",
}
"""The relay's notice reasons (`whatsapp_buffer.relay.notices`) as the transcript states them."""


def status_message(status: dict[str, Any], meta_phone_number_id: str, region: str, now: float) -> str:
    """The SNS `Message` End User Messaging publishes for one WhatsApp status (the envelope of `trace.eum_message`)."""
    entry = {
        "id": trace.WABA_ID,
        "changes": [
            {
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": trace.DISPLAY_NUMBER, "phone_number_id": meta_phone_number_id},
                    "statuses": [status],
                },
                "field": "messages",
            }
        ],
    }
    eum_id = trace.eum_phone_number_id(meta_phone_number_id)
    arn = f"arn:aws:social-messaging:{region}:{ACCOUNT_ID}:phone-number-id/{eum_id}"
    envelope = {
        "context": {
            "MetaWabaIds": [{"wabaId": trace.WABA_ID, "arn": f"arn:aws:social-messaging:{region}:{ACCOUNT_ID}:waba/x"}],
            "MetaPhoneNumberIds": [{"metaPhoneNumberId": meta_phone_number_id, "arn": arn}],
        },
        "whatsAppWebhookEntry": json.dumps(entry, ensure_ascii=False),
        "aws_account_id": ACCOUNT_ID,
        "message_timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "messageId": hashlib.sha1(f"{status.get('id')}:{status.get('status')}".encode()).hexdigest(),  # noqa: S324
    }
    return json.dumps(envelope, ensure_ascii=False)


def bridge_notice(client_token: str | None) -> dict[str, str] | None:
    """A notice's ClientToken (`bridge-notice|<withheld or refused>|<kind>|<reason>|<event>#<n>`, see
    `whatsapp_buffer.relay.relay_reply.notice_token`) -> what did not reach the customer; None for other tokens."""
    parts = (client_token or "").split("|", 4)
    if len(parts) != 5 or parts[0] != "bridge-notice":
        return None
    outcome, kind, reason = parts[1], parts[2], parts[3]
    stated = NOTICE_REASONS.get(reason, reason)
    by = {"withheld": "withheld by the bridge", "failed": "reported failed after sending"}.get(
        outcome, "refused at once"
    )
    return {"kind": kind, "reason": f"{stated} ({by})", "outcome": outcome}


def whatsapp_out(call: Any, start: float) -> list[dict[str, Any]]:
    """The transcript entry of one SendWhatsAppMessage call (none for a read receipt or an unreadable message)."""
    raw = call.params.get("message")
    try:
        message = json.loads(raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw)
    except (ValueError, AttributeError):
        return []
    if message.get("status") == "read":
        return []
    kind = message.get("type", "text")
    entry = {"at": round(call.at - start, 3), "to": message.get("to") or message.get("recipient"), "kind": kind}
    if kind == "text":
        entry["text"] = (message.get("text") or {}).get("body")
    elif kind == "template":
        template = message.get("template") or {}
        entry["template"] = template.get("name")
        entry["language"] = (template.get("language") or {}).get("code")
    else:
        media = message.get(kind) or {}
        entry["media_id"] = media.get("id")
        if media.get("caption"):
            entry["text"] = media["caption"]
        if media.get("filename"):
            entry["filename"] = media["filename"]
    return [entry]


# ---------------------------------------------------------------------- command line
def add_arguments(parser: Any) -> None:
    parser.add_argument("trace", help="TRACE.jsonl: one event per line (DESIGN §5)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a stack config key, e.g. bufferSeconds=5",
    )
    parser.add_argument("--out", metavar="FILE", help="write the transcript JSON here instead of stdout")
    parser.add_argument("--text", action="store_true", help="print the readable timeline instead of JSON")
    parser.add_argument(
        "--faults",
        metavar="MIX[,MIX]",
        help="inject faults: " + ", ".join(faults.MIXES) + " or all (see sandbox/faults.py)",
    )
    parser.add_argument("--fault-rate", type=float, default=0.05, help="rate of each injected fault (default 0.05)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault injection")


def replay_file(
    path: str, overrides: Mapping[str, str], plan: FaultPlan | None = None
) -> tuple[list[trace.TraceEvent], dict[str, Any]]:
    """Read a trace and replay it; raises TraceError, ConfigError or IamDenied with a one-line message."""
    events = trace.read_trace(path)
    return events, Replay(events, overrides, faults=plan or FaultPlan()).run()


def summary(transcript: dict[str, Any]) -> str:
    stats = transcript["stats"]
    return (
        f"replayed {stats['whatsapp_in']} WhatsApp messages in {stats['virtual_seconds']:.0f} s of virtual time "
        f"({stats['wall_seconds']:.1f} s wall): {stats['bursts']} bursts -> {stats['connect_messages']} Connect messages "
        f"in {stats['contacts']} chats, {stats['whatsapp_out']} replies out, {stats['duplicates_dropped']} duplicates "
        f"dropped, {stats['rejected']} rejected"
    )


def run(args: Any) -> int:
    import sys

    from components.settings import ConfigError
    from sandbox.iam import IamDenied
    from sandbox.plan import parse_overrides
    from sandbox.timeline import render

    try:
        plan = faults.parse(
            getattr(args, "faults", None), rate=getattr(args, "fault_rate", 0.05), seed=getattr(args, "seed", 0)
        )
        events, transcript = replay_file(args.trace, parse_overrides(args.set), plan)
    except (trace.TraceError, ConfigError, IamDenied, ValueError) as error:
        print(f"replay failed: {error}", file=sys.stderr)
        return 2
    document = json.dumps(transcript, indent=2, ensure_ascii=False)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(document + "\n")
    if args.text:
        print(render(events, transcript))
    elif not args.out:
        print(document)
    print(summary(transcript), file=sys.stderr)
    return 0
