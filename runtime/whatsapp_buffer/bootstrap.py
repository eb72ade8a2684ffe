"""The composition roots: `<function>(settings=None, *, <parts>)` wires a function's use case from its settings (read
from the environment when not handed in) and builds each part a test or the sandbox does not hand in."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar, cast

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from whatsapp_buffer import clock, render
from whatsapp_buffer.adapters.bursts_queue import BurstsFifoQueue
from whatsapp_buffer.adapters.connect_chat import ConnectContacts, ConnectParticipant
from whatsapp_buffer.adapters.end_user_messaging import EndUserMessaging
from whatsapp_buffer.adapters.media_bucket import MediaBucket
from whatsapp_buffer.adapters.outreach_records import OutreachRecordItems
from whatsapp_buffer.adapters.raw_table import RawTable
from whatsapp_buffer.adapters.sessions_table import SessionsTable
from whatsapp_buffer.adapters.transcribe import TranscribeJobs
from whatsapp_buffer.adapters.transcript_debts import TranscriptDebtItems
from whatsapp_buffer.aggregator.flush import FLUSH_CONCURRENCY, Aggregator
from whatsapp_buffer.aggregator.sweep import Sweeper
from whatsapp_buffer.environment import (
    AggregatorSettings,
    InboundSettings,
    IngestSettings,
    OutboundSettings,
    OutreachSettings,
    SweeperSettings,
)
from whatsapp_buffer.inbound.burst_transcripts import Transcripts
from whatsapp_buffer.inbound.customer_media import CustomerMedia
from whatsapp_buffer.inbound.late_transcripts import LateTranscripts
from whatsapp_buffer.inbound.outreach_reply import OutreachReplies
from whatsapp_buffer.inbound.prepare import Preparation
from whatsapp_buffer.inbound.send_burst import BurstSender, Inbound
from whatsapp_buffer.ingest.accept import Ingest
from whatsapp_buffer.model import Burst, Conversation, Template
from whatsapp_buffer.outbound.send_reply import Outbound, ReplySender
from whatsapp_buffer.outbound.streaming import StreamingEvent
from whatsapp_buffer.outreach.send_template import Outreach
from whatsapp_buffer.storage_keys import job_prefix

IDEMPOTENCY_SECONDS = 24 * 3600
"""How long a delivered burst id / relayed streaming message id is remembered (SQS and SNS redeliver within it)."""

P = ParamSpec("P")
R = TypeVar("R")


class Installed(Generic[P, R]):
    """The use case a function's handler calls: composed by `build` from what a test or the sandbox hands in, or
    from the environment alone on the first invocation, and kept for the warm container's life."""

    def __init__(self, compose: Callable[P, R]) -> None:
        self._compose = compose
        self.current: R | None = None

    def build(self, *args: P.args, **kwargs: P.kwargs) -> R:
        self.current = self._compose(*args, **kwargs)
        return self.current

    def reset(self) -> None:
        self.current = None

    def get(self) -> R:
        if self.current is None:
            # Every composition root below takes only optional arguments: called with none, it reads the environment.
            self.current = cast(Callable[[], R], self._compose)()
        return self.current


def ingest(settings: IngestSettings | None = None, *, store: RawTable | None = None) -> Ingest:
    settings = settings or IngestSettings.from_env()
    return Ingest(store=store or RawTable(settings.raw_table_name), settings=settings)


def aggregator(
    settings: AggregatorSettings | None = None, *, store: RawTable | None = None, queue: BurstsFifoQueue | None = None
) -> Aggregator:
    settings = settings or AggregatorSettings.from_env()
    return Aggregator(
        store=store or RawTable(settings.raw_table_name, max_connections=FLUSH_CONCURRENCY),
        queue=queue or BurstsFifoQueue(settings.bursts_queue_url, max_connections=FLUSH_CONCURRENCY),
        policy=settings.policy,
    )


def sweeper(settings: SweeperSettings | None = None, *, store: RawTable | None = None) -> Sweeper:
    settings = settings or SweeperSettings.from_env()
    return Sweeper(store=store or RawTable(settings.raw_table_name), max_wait_seconds=settings.max_wait_seconds)


def outreach(
    settings: OutreachSettings | None = None,
    *,
    whatsapp: EndUserMessaging | None = None,
    records: OutreachRecordItems | None = None,
) -> Outreach:
    settings = settings or OutreachSettings.from_env()
    return Outreach(
        whatsapp=whatsapp or EndUserMessaging(settings.meta_api_version),
        records=records or OutreachRecordItems(settings.sessions_table_name),
        phone_number_ids=settings.whatsapp_phone_number_ids,
    )


def _idempotency(key: str) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath=key, raise_on_no_idempotency_key=True, expires_after_seconds=IDEMPOTENCY_SECONDS
    )


def inbound(
    settings: InboundSettings | None = None,
    *,
    sender: BurstSender | None = None,
    persistence: BasePersistenceLayer | None = None,
    preparation: Preparation | None = None,
    late_transcripts: LateTranscripts | None = None,
) -> Inbound:
    """A `sender` handed in comes with the preparation and late transcripts handed in beside it (none if none);
    otherwise all three are built from the settings."""
    if sender is None or persistence is None:
        settings = settings or InboundSettings.from_env()
        if sender is None:
            sender, preparation, late_transcripts = _inbound_parts(settings)
        persistence = persistence or DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)
    config = _idempotency("burst_id")

    @idempotent_function(data_keyword_argument="burst", persistence_store=persistence, config=config)
    def deliver_once(*, burst: Burst) -> dict[str, Any]:
        return sender.deliver(burst)

    return Inbound(
        sender=sender,
        deliver_once=deliver_once,
        idempotency=config,
        preparation=preparation,
        late_transcripts=late_transcripts,
    )


def _inbound_parts(settings: InboundSettings) -> tuple[BurstSender, Preparation | None, LateTranscripts | None]:
    media = MediaBucket(settings.media_bucket_name)
    transcripts = Transcripts(
        transcriber=TranscribeJobs(settings.media_bucket_name) if settings.transcribe_languages else None,
        media=media,
        languages=settings.transcribe_languages,
        wait_seconds=settings.transcript_wait_seconds,
    )
    whatsapp = EndUserMessaging(settings.meta_api_version)
    sessions = SessionsTable(settings.sessions_table_name)
    participant = ConnectParticipant()
    preparation = late = None
    if transcripts.enabled:
        preparation = Preparation(
            media=CustomerMedia(whatsapp=whatsapp, media=media, participant=None), transcripts=transcripts
        )
        late = LateTranscripts(
            debts=TranscriptDebtItems(settings.sessions_table_name),
            sessions=sessions,
            participant=participant,
            transcripts=transcripts,
            job_prefix=job_prefix(settings.media_bucket_name),
            whatsapp=whatsapp,
            echo_transcripts=settings.echo_transcripts,
        )
    sender = BurstSender(
        settings=settings,
        sessions=sessions,
        contacts=ConnectContacts(
            instance_id=settings.connect_instance_id,
            chat_duration_minutes=settings.chat_duration_minutes,
            streaming_topic_arn=settings.out_topic_arn,
        ),
        participant=participant,
        whatsapp=whatsapp,
        media=media,
        transcripts=transcripts,
        late_transcripts=late,
        outreach=OutreachReplies(OutreachRecordItems(settings.sessions_table_name)),
    )
    return sender, preparation, late


def outbound(
    settings: OutboundSettings | None = None,
    *,
    sender: ReplySender | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> Outbound:
    if sender is None or persistence is None:
        settings = settings or OutboundSettings.from_env()
        sender = sender or _reply_sender(settings)
        persistence = persistence or DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)
    config = _idempotency("message_id")

    @idempotent_function(data_keyword_argument="event", persistence_store=persistence, config=config)
    def relay_once(*, event: StreamingEvent) -> str:
        return sender.relay(event)

    # Its own copy of the store: Powertools configures a store with the function it guards at each call, so one store
    # shared by a guarded function and one it calls would record the outer result under the inner function's key.
    @idempotent_function(data_keyword_argument="part", persistence_store=copy.copy(persistence), config=config)
    def send_part_once(*, part: dict[str, str]) -> str:
        return sender.send_part(part=part)

    sender.send_part_once = send_part_once

    return Outbound(sender=sender, relay_once=relay_once, idempotency=config)


def remember_said(store: RawTable, retention_hours: float) -> Callable[[str, str, str, str], None]:
    """The outbound function's hook: a short clip of what it sent (and its kind), kept in the raw table as long as raw
    messages."""

    def remember(conversation: str, message_id: str, text: str, kind: str = "text") -> None:
        store.remember_said(
            Conversation.from_key(conversation), message_id, render.quote(text), clock.now(), retention_hours, kind
        )

    return remember


def _reply_sender(settings: OutboundSettings) -> ReplySender:
    return ReplySender(
        sessions=SessionsTable(settings.sessions_table_name),
        participant=ConnectParticipant(),
        whatsapp=EndUserMessaging(settings.meta_api_version),
        media=MediaBucket(settings.media_bucket_name),
        remember_said=remember_said(RawTable(settings.raw_table_name), settings.retention_hours),
        template=Template(settings.reengagement_template, settings.reengagement_template_language)
        if settings.reengagement_template
        else None,
        presence=settings.agent_presence,
    )
