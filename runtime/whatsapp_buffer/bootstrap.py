"""The composition roots: each function's use case wired to its adapters from the environment the Pulumi program
sets — once per warm container, or as a test or the sandbox installs it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from whatsapp_buffer import clock
from whatsapp_buffer.adapters.bursts_queue import BurstsQueue
from whatsapp_buffer.adapters.connect_chat import ChatContacts, ChatParticipant
from whatsapp_buffer.adapters.end_user_messaging import Template, WhatsApp
from whatsapp_buffer.adapters.media_bucket import MediaStore
from whatsapp_buffer.adapters.outreach_records import OutreachRecords
from whatsapp_buffer.adapters.raw_table import RawStore
from whatsapp_buffer.adapters.sessions_table import SessionStore
from whatsapp_buffer.adapters.transcribe import Transcriber
from whatsapp_buffer.adapters.transcript_debts import TranscriptDebts
from whatsapp_buffer.aggregator.flush import FLUSH_CONCURRENCY, Aggregator
from whatsapp_buffer.aggregator.sweep import Sweeper
from whatsapp_buffer.function_settings import (
    AggregatorSettings,
    InboundSettings,
    IngestSettings,
    OutboundSettings,
    OutreachSettings,
    SweeperSettings,
)
from whatsapp_buffer.inbound import render
from whatsapp_buffer.inbound.burst_transcripts import Transcripts, job_prefix
from whatsapp_buffer.inbound.customer_media import CustomerMedia
from whatsapp_buffer.inbound.late_transcripts import LateTranscripts
from whatsapp_buffer.inbound.outreach_reply import OutreachReplies
from whatsapp_buffer.inbound.prepare import Preparation
from whatsapp_buffer.inbound.send_burst import BurstSender, Inbound
from whatsapp_buffer.ingest.accept import Ingest
from whatsapp_buffer.model import Burst, Conversation
from whatsapp_buffer.outbound.send_reply import Outbound, ReplySender
from whatsapp_buffer.outbound.streaming import StreamingEvent
from whatsapp_buffer.outreach.send_template import Outreach

IDEMPOTENCY_SECONDS = 24 * 3600
"""How long a delivered burst id / relayed streaming message id is remembered (SQS and SNS redeliver within it)."""

R = TypeVar("R")


class Installed(Generic[R]):
    """A function's use case: installed by a test or the sandbox, otherwise built from the environment on the first
    invocation and kept for the warm container's life."""

    def __init__(self, build: Callable[[], R]) -> None:
        self._build = build
        self.current: R | None = None

    def install(self, runtime: R) -> R:
        self.current = runtime
        return runtime

    def reset(self) -> None:
        self.current = None

    def get(self) -> R:
        return self.current or self.install(self._build())


def ingest(settings: IngestSettings | None = None, store: RawStore | None = None) -> Ingest:
    settings = settings or IngestSettings.from_env()
    return Ingest(store=store or RawStore(settings.raw_table_name), settings=settings)


def aggregator(
    settings: AggregatorSettings | None = None, store: RawStore | None = None, queue: BurstsQueue | None = None
) -> Aggregator:
    settings = settings or AggregatorSettings.from_env()
    return Aggregator(
        store=store or RawStore(settings.raw_table_name, max_connections=FLUSH_CONCURRENCY),
        queue=queue or BurstsQueue(settings.bursts_queue_url, max_connections=FLUSH_CONCURRENCY),
        policy=settings.policy,
    )


def sweeper(settings: SweeperSettings | None = None, store: RawStore | None = None) -> Sweeper:
    settings = settings or SweeperSettings.from_env()
    return Sweeper(store=store or RawStore(settings.raw_table_name), max_wait_seconds=settings.max_wait_seconds)


def outreach(settings: OutreachSettings | None = None, whatsapp: WhatsApp | None = None) -> Outreach:
    settings = settings or OutreachSettings.from_env()
    return Outreach(
        whatsapp=whatsapp or WhatsApp(settings.meta_api_version),
        records=OutreachRecords(settings.sessions_table_name),
        phone_number_ids=settings.whatsapp_phone_number_ids,
    )


def _idempotency(key: str) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath=key, raise_on_no_idempotency_key=True, expires_after_seconds=IDEMPOTENCY_SECONDS
    )


def inbound(
    delivery: BurstSender,
    persistence: BasePersistenceLayer,
    preparation: Preparation | None = None,
    late_transcripts: LateTranscripts | None = None,
) -> Inbound:
    config = _idempotency("burst_id")

    @idempotent_function(data_keyword_argument="burst", persistence_store=persistence, config=config)
    def deliver_once(*, burst: Burst) -> dict[str, Any]:
        return delivery.deliver(burst)

    return Inbound(
        sender=delivery,
        deliver_once=deliver_once,
        idempotency=config,
        preparation=preparation,
        late_transcripts=late_transcripts,
    )


def inbound_from_env() -> Inbound:
    settings = InboundSettings.from_env()
    media = MediaStore(settings.media_bucket_name)
    transcripts = Transcripts(
        transcriber=Transcriber(settings.media_bucket_name) if settings.transcribe_languages else None,
        media=media,
        languages=settings.transcribe_languages,
        wait_seconds=settings.transcript_wait_seconds,
    )
    whatsapp = WhatsApp(settings.meta_api_version)
    sessions = SessionStore(settings.sessions_table_name)
    participant = ChatParticipant()
    preparation = late = None
    if transcripts.enabled:
        preparation = Preparation(
            media=CustomerMedia(whatsapp=whatsapp, media=media, participant=None), transcripts=transcripts
        )
        late = LateTranscripts(
            debts=TranscriptDebts(settings.sessions_table_name),
            sessions=sessions,
            participant=participant,
            transcripts=transcripts,
            job_prefix=job_prefix(settings.media_bucket_name),
            whatsapp=whatsapp,
            echo_transcripts=settings.echo_transcripts,
        )
    delivery = BurstSender(
        settings=settings,
        sessions=sessions,
        contacts=ChatContacts(
            instance_id=settings.connect_instance_id,
            contact_flow_id=settings.contact_flow_id,
            chat_duration_minutes=settings.chat_duration_minutes,
            streaming_topic_arn=settings.out_topic_arn,
        ),
        participant=participant,
        whatsapp=whatsapp,
        media=media,
        transcripts=transcripts,
        late_transcripts=late,
        outreach=OutreachReplies(OutreachRecords(settings.sessions_table_name)),
    )
    return inbound(delivery, DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name), preparation, late)


def outbound(relay: ReplySender, persistence: BasePersistenceLayer) -> Outbound:
    config = _idempotency("message_id")

    @idempotent_function(data_keyword_argument="event", persistence_store=persistence, config=config)
    def relay_once(*, event: StreamingEvent) -> str:
        return relay.relay(event)

    # Its own copy of the store: Powertools configures a store with the function it guards at each call, so one store
    # shared by a guarded function and one it calls would record the outer result under the inner function's key.
    @idempotent_function(data_keyword_argument="part", persistence_store=copy.copy(persistence), config=config)
    def send_part_once(*, part: dict[str, str]) -> str:
        return relay.send_part(part=part)

    relay.send_part_once = send_part_once

    return Outbound(sender=relay, relay_once=relay_once, idempotency=config)


def remember_said(store: RawStore, retention_hours: float) -> Callable[[str, str, str, str], None]:
    """The relay's hook: a short clip of what the bridge sent (and its kind), kept in the raw table as long as raw
    messages."""

    def remember(conversation: str, message_id: str, text: str, kind: str = "text") -> None:
        store.remember_said(
            Conversation.from_key(conversation), message_id, render.quote(text), clock.now(), retention_hours, kind
        )

    return remember


def outbound_from_env() -> Outbound:
    settings = OutboundSettings.from_env()
    relay = ReplySender(
        sessions=SessionStore(settings.sessions_table_name),
        participant=ChatParticipant(),
        whatsapp=WhatsApp(settings.meta_api_version),
        media=MediaStore(settings.media_bucket_name),
        remember_said=remember_said(RawStore(settings.raw_table_name), settings.retention_hours),
        template=Template(settings.reengagement_template, settings.reengagement_template_language)
        if settings.reengagement_template
        else None,
        presence=settings.agent_presence,
    )
    return outbound(relay, DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name))
