"""StackSettings: one stack's settings, typed and validated, one field per declared key (`bufferSeconds` is
`buffer_seconds`).

Generated from runtime/whatsapp_buffer/settings.py by `python -m components.config_docs --write`: do not edit. A
plain class, so the type checker knows every field: types and fixed defaults only; the rules stay in the declaration,
applied by `components.settings.parse_settings`.
"""

from dataclasses import dataclass


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
