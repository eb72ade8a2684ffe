"""WhatsAppBufferArgs: the WhatsAppBuffer component's inputs, one per stack setting (`bufferSeconds` is
`buffer_seconds`).

The class's fields are generated from runtime/whatsapp_buffer/settings.py by `python -m components.config_docs --write`:
edit the declaration, not them (the rest of this file is written by hand). Only types and descriptions live here;
defaults and rules (ranges, patterns, one key bounded by another) are the declaration's, applied by
`components.stack_config.settings_from_args` when a WhatsAppBuffer is built. No `from __future__ import annotations`:
Pulumi's schema analyzer needs the annotations as types.
"""

from typing import NotRequired, TypedDict


class WhatsAppBufferArgs(TypedDict):
    """The settings of one WhatsApp <-> Amazon Connect bridge; every key but the Connect ids is optional."""

    connect_instance_id: str
    """Amazon Connect instance id (the UUID, not the ARN). Allowed: UUID. Required."""
    contact_flow_id: str
    """Id of the inbound chat flow new WhatsApp chats start in. Allowed: UUID. Required."""
    contact_flows: NotRequired[dict[str, str]]
    """Contact flow per business number: a JSON object whose keys are End User Messaging ids (phone-number-id-...) or Meta's phone number ids and whose values are flow ids; chats of a number not in it start in contact_flow_id. Allowed: JSON object. Default: empty."""
    buffer_seconds: NotRequired[int]
    """Quiet period: a conversation's pending messages are sent once the customer has sent nothing for this long (with end_of_turn cues, this long after a message that neither looks finished nor unfinished). Allowed: 1–300. Default: 11."""
    end_of_turn: NotRequired[str]
    """How long the quiet period is after each message: fixed waits buffer_seconds after every message; cues waits 0.3x after one that looks finished (thanks, a question, a long text, a voice note, a location), 1.25x after one that does not (a trailing comma or conjunction, a greeting, a photo without words), and at least the customer's own last pause in the burst (up to 1.5x). Allowed: fixed, cues. Default: cues."""
    max_wait_seconds: NotRequired[int]
    """Longest a message waits, even if the customer keeps typing. Allowed: buffer_seconds–900, or 0 for the default. Default: 60, at least buffer_seconds."""
    max_messages: NotRequired[int]
    """Send as soon as this many messages are pending. Allowed: 1–100. Default: 50."""
    window_seconds: NotRequired[int]
    """How often pending conversations are looked at (the stream's tumbling window): smaller reacts sooner and costs more invokes. Allowed: 1–buffer_seconds. Default: 1."""
    chat_duration_minutes: NotRequired[int]
    """Maximum duration of a Connect chat, in minutes. Allowed: 60–10080. Default: 60."""
    ignore_reactions: NotRequired[bool]
    """Drop WhatsApp reactions instead of forwarding them to the agent. Default: true."""
    ignore_stickers: NotRequired[bool]
    """Drop WhatsApp stickers instead of forwarding them to the agent. Default: true."""
    retention_hours: NotRequired[int]
    """Hours raw messages stay in the raw table before TTL removes them. A redelivery is recognised for 14 days and 6 hours whatever this is (ingest keeps each message id, without its content, as long as a failed event can come back from Lambda's retries or the ingest dead-letter queue; Meta retries for 7 days). Allowed: 1–168. Default: 24."""
    log_retention_days: NotRequired[int]
    """CloudWatch Logs retention of every function, in days. Allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653. Default: 14."""
    mark_as_read: NotRequired[bool]
    """Mark the customer's WhatsApp messages as read when their burst reaches Connect. Default: false."""
    meta_api_version: NotRequired[str]
    """Meta Graph API version End User Messaging uses for outgoing WhatsApp messages. Allowed: vNN.N. Default: v20.0."""
    transcribe_languages: NotRequired[list[str]]
    """Amazon Transcribe language codes of the customers' voice notes and audio: one code transcribes in that language, several let Transcribe identify which of them is spoken, empty transcribes nothing (the default: the bridge cannot guess your customers' language, and each recording costs Transcribe's 15-second minimum). Allowed: comma-separated list. Default: empty."""
    echo_transcripts: NotRequired[bool]
    """Also send each voice note's transcript back to the customer on WhatsApp, as a reply to the recording (as the AWS sample does), so they can see what the agent reads. Default: false."""
    transcript_wait_seconds: NotRequired[int]
    """How long a burst waits, at most, for the transcript of a recording in it before it is delivered with a line saying the transcript follows; the transcript is then posted into the chat as soon as Transcribe finishes. Allowed: 0–60. Default: 10."""
    whatsapp_phone_number_ids: NotRequired[list[str]]
    """End User Messaging ids (phone-number-id-...) the functions may use; empty allows every number of the account. Allowed: comma-separated list. Default: empty."""
    reengagement_template: NotRequired[str]
    """Approved WhatsApp template sent when an agent replies more than 24 hours after the customer's last message (free-form messages are refused then); the agent is told it went. Empty sends none (the agent is told the reply did not go). Allowed: name. Default: empty."""
    reengagement_template_language: NotRequired[str]
    """Language (and locale) of the approved reengagement_template. Allowed: code. Default: en_US."""
    agent_presence: NotRequired[bool]
    """Show the customer WhatsApp's typing indicator while the agent types, and mark their messages read when the agent reads them in Connect (rate-limited). Default: true."""
    lambda_memory_mb: NotRequired[int]
    """Memory of every function, in MB. Allowed: 128–10240. Default: 256."""
    log_level: NotRequired[str]
    """Log level of every function. Allowed: DEBUG, INFO, WARNING, ERROR. Default: INFO."""
    alarm_email: NotRequired[str]
    """Email address for operational alarms: creates an encrypted alarm topic and subscribes it (confirm the email). Empty creates no topic. Allowed: email. Default: empty."""
    alarm_topic_arn: NotRequired[str]
    """Existing SNS topic the alarms notify (with alarm_email, both are notified). Empty with no alarm_email leaves alarms without actions. Allowed: SNS topic ARN. Default: empty."""
