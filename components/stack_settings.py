"""StackSettings: one stack's settings, typed and validated, one field per declared key (`bufferSeconds` is
`buffer_seconds`).

The class's fields and `as_args` are generated from runtime/whatsapp_buffer/settings.py by `python -m
components.config_docs --write`: edit the declaration, not them (the rest of this file is written by hand). A plain
class, so the type checker knows every field: types and fixed defaults only; the rules stay in the declaration, applied
by `components.stack_config.parse_settings`.
"""

from dataclasses import dataclass

from components.whatsapp_buffer_args import WhatsAppBufferArgs


@dataclass(frozen=True)
class StackSettings:
    """Every tunable of one stack, typed and validated. Components receive this; they never read pulumi.Config."""

    connect_instance_id: str
    contact_flow_id: str
    contact_flows: tuple[tuple[str, str], ...] = ()
    buffer_seconds: int = 11
    end_of_turn: str = "cues"
    max_wait_seconds: int = 60
    max_messages: int = 50
    window_seconds: int = 1
    chat_duration_minutes: int = 60
    ignore_reactions: bool = True
    ignore_stickers: bool = True
    retention_hours: int = 24
    log_retention_days: int = 14
    mark_as_read: bool = False
    meta_api_version: str = "v20.0"
    transcribe_languages: tuple[str, ...] = ()
    echo_transcripts: bool = False
    transcript_wait_seconds: int = 10
    whatsapp_phone_number_ids: tuple[str, ...] = ()
    reengagement_template: str | None = None
    reengagement_template_language: str = "en_US"
    agent_presence: bool = True
    lambda_memory_mb: int = 256
    log_level: str = "INFO"
    alarm_email: str | None = None
    alarm_topic_arn: str | None = None

    def as_args(self) -> WhatsAppBufferArgs:
        """These settings as a WhatsAppBuffer's inputs, the same types (`settings_from_args` takes them back)."""
        args = WhatsAppBufferArgs(
            connect_instance_id=self.connect_instance_id,
            contact_flow_id=self.contact_flow_id,
            contact_flows=dict(self.contact_flows),
            buffer_seconds=self.buffer_seconds,
            end_of_turn=self.end_of_turn,
            max_wait_seconds=self.max_wait_seconds,
            max_messages=self.max_messages,
            window_seconds=self.window_seconds,
            chat_duration_minutes=self.chat_duration_minutes,
            ignore_reactions=self.ignore_reactions,
            ignore_stickers=self.ignore_stickers,
            retention_hours=self.retention_hours,
            log_retention_days=self.log_retention_days,
            mark_as_read=self.mark_as_read,
            meta_api_version=self.meta_api_version,
            transcribe_languages=list(self.transcribe_languages),
            echo_transcripts=self.echo_transcripts,
            transcript_wait_seconds=self.transcript_wait_seconds,
            whatsapp_phone_number_ids=list(self.whatsapp_phone_number_ids),
            reengagement_template_language=self.reengagement_template_language,
            agent_presence=self.agent_presence,
            lambda_memory_mb=self.lambda_memory_mb,
            log_level=self.log_level,
        )
        if self.reengagement_template is not None:
            args["reengagement_template"] = self.reengagement_template
        if self.alarm_email is not None:
            args["alarm_email"] = self.alarm_email
        if self.alarm_topic_arn is not None:
            args["alarm_topic_arn"] = self.alarm_topic_arn
        return args
