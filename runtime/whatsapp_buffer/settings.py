"""The one declaration of every setting and environment variable of the stack, and which functions read each.

`SETTINGS`: each stack config key with its rule (type and range), default, description, environment variable and
readers; `WIRING`: the variables whose values are resources' outputs (table names, queue URLs, topic ARNs), with the
fixed values the program hands the functions (the metrics namespace, the transcripts sweep's event). The
program validates the stack's config against it and gives each function exactly its variables
(`components/stack_config.py`); each function reads them back into its typed settings (`environment`); Pulumi.yaml's
config block and the README's table are generated from it. A rule checks a value itself (`holds`) for both sides,
each wording its own errors. Packaged into the Lambdas and loaded by the program, so it imports nothing but the
standard library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

INGEST, AGGREGATOR, INBOUND, OUTBOUND, SWEEPER, OUTREACH = FUNCTIONS = (
    "ingest",
    "aggregator",
    "inbound",
    "outbound",
    "sweeper",
    "outreach",
)
"""Each function's short name: its entry module `whatsapp_buffer.entrypoints.<name>` and the end of its name."""
OUTREACH_TIMEOUT_SECONDS = 8
"""The outreach function's timeout. Amazon Connect admin guide, "Invoke AWS Lambda function" block: a synchronous
invocation waits at most 8 seconds. A request claimed longer ago than this was claimed by an invocation Lambda ended."""


@dataclass(frozen=True)
class Ref:
    """A bound that is another key's value, e.g. maxWaitSeconds from bufferSeconds (that key is validated first)."""

    key: str


@dataclass(frozen=True)
class Integer:
    low: int | Ref
    high: int | Ref
    derived: int | None = None
    """A value outside the range that stands for "unset, derive the default from the other key". Pulumi.yaml declares
    it as the default of a key whose range depends on another: the Pulumi CLI hands the program Pulumi.yaml's default
    for every unset key, so a fixed default (maxWaitSeconds 60) would reach the program as if the stack had set it and
    stop preview once the other key moves (`pulumi config set bufferSeconds 90`)."""

    @property
    def label(self) -> str:
        span = "–".join(bound.key if isinstance(bound, Ref) else str(bound) for bound in (self.low, self.high))
        return span if self.derived is None else f"{span}, or {self.derived} for the default"

    def bounds(self, known: Mapping[str, float]) -> tuple[float, float]:
        """The range, a `Ref` read from `known` (values by key) or, when that key is not known, its own bound on the
        same side (ingest reads maxWaitSeconds, not bufferSeconds: its floor is then bufferSeconds' own, 1)."""
        return _bound(self.low, "low", known), _bound(self.high, "high", known)

    def holds(self, value: float, known: Mapping[str, float]) -> bool:
        """`value` is a whole number within `bounds(known)`."""
        low, high = self.bounds(known)
        return math.isfinite(value) and value == int(value) and low <= value <= high


@dataclass(frozen=True)
class Boolean:
    label: ClassVar[str] = "boolean"


@dataclass(frozen=True)
class Text:
    pattern: str
    """A regular expression the whole value must match."""
    expected: str
    """What the error message says is expected."""
    label: str

    def holds(self, value: str) -> bool:
        """`value` is text matching `pattern` (a `BufferPolicy` built in code may be handed anything)."""
        return isinstance(value, str) and re.fullmatch(self.pattern, value) is not None


@dataclass(frozen=True)
class OneOf:
    """One of a fixed list; text is compared upper-cased (`debug` is DEBUG)."""

    allowed: tuple[int, ...] | tuple[str, ...]

    @property
    def label(self) -> str:
        return ", ".join(map(str, self.allowed))


@dataclass(frozen=True)
class TextList:
    """Comma-separated values, each matching `pattern`; duplicates dropped, order kept."""

    pattern: str
    expected: str
    label: ClassVar[str] = "comma-separated list"

    def holds(self, values: Iterable[str]) -> bool:
        return all(re.fullmatch(self.pattern, item) for item in values)

    @staticmethod
    def items(text: str) -> tuple[str, ...]:
        """The values of a comma-separated text, each stripped, empty ones dropped."""
        return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class IdMap:
    """A JSON object whose keys match one of `key_patterns` and whose values match `value_pattern` (Pulumi config
    hands a structured value to the program as JSON text); held as sorted (key, value) pairs, empty by default."""

    key_patterns: tuple[str, ...]
    value_pattern: str
    expected: str
    label: ClassVar[str] = "JSON object"

    def misfit(self, value: Mapping[Any, Any]) -> tuple[Literal["key", "value"], Any, Any] | None:
        """The first entry that breaks the rule and which half of it does ("key" or "value"), with the entry's key and
        value; None when every entry fits."""
        for key, item in value.items():
            if not any(re.fullmatch(pattern, str(key)) for pattern in self.key_patterns):
                return "key", key, item
            if not isinstance(item, str) or not re.fullmatch(self.value_pattern, item):
                return "value", key, item
        return None

    def holds(self, value: Mapping[Any, Any]) -> bool:
        return self.misfit(value) is None


Rule = Integer | Boolean | Text | OneOf | TextList | IdMap


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a key the stack must set (Pulumi.yaml declares it without a default)."""


@dataclass(frozen=True)
class Setting:
    """One stack config key and, when a function reads it, the environment variable that carries it."""

    key: str
    rule: Rule
    description: str
    default: Any = REQUIRED
    """Used when the key is unset (or set to its rule's `derived` value); None is "empty". A default outside a range
    relative to another key is clamped into it (maxWaitSeconds 60 with bufferSeconds 90 is 90)."""
    env: str | None = None
    readers: tuple[str, ...] = ()
    powertools: bool = False
    """Read by Powertools itself, not by the settings below."""

    @property
    def field(self) -> str:
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in self.key)


@dataclass(frozen=True)
class Wiring:
    """An environment variable whose value is a resource's output, handed in by the component that owns it."""

    field: str
    env: str
    readers: tuple[str, ...]
    description: str
    powertools: bool = False


LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""The values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy)."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
END_OF_TURN_POLICIES = ("fixed", "cues")
"""What `endOfTurn` may be (`end_of_turn`)."""
END_OF_TURN_RULE = Text(
    f"^({'|'.join(END_OF_TURN_POLICIES)})$", " or ".join(END_OF_TURN_POLICIES), ", ".join(END_OF_TURN_POLICIES)
)
"""endOfTurn's rule, which a `BufferPolicy` built in code is held to as well."""
_UUID = Text(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "a UUID like 00000000-0000-0000-0000-000000000000",
    "UUID",
)
EUM_NUMBER_ID = r"phone-number-id-[0-9a-zA-Z]+"
"""End User Messaging's id of a business number (the outreach's `phoneNumberId` may also be its ARN)."""
TEMPLATE_NAME = r"[a-z0-9_]{1,512}"
"""A WhatsApp template name: lowercase letters, digits and underscores (End User Messaging: 1-512 characters)."""
TEMPLATE_LANGUAGE = r"[a-z]{2,3}(_[A-Z]{2,4})?"
"""A WhatsApp template's language (and locale) code like en_US or pt_BR."""

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "connectInstanceId", _UUID, "Amazon Connect instance id (the UUID, not the ARN).",
        env="CONNECT_INSTANCE_ID", readers=(INBOUND,),
    ),
    Setting(
        "contactFlowId", _UUID, "Id of the inbound chat flow new WhatsApp chats start in.",
        env="CONTACT_FLOW_ID", readers=(INBOUND,),
    ),
    Setting(
        "contactFlows",
        IdMap(
            (f"^{EUM_NUMBER_ID}$", r"^[0-9]{1,32}$"),
            _UUID.pattern,
            'a JSON object of business number -> flow id like {"phone-number-id-0123abcd": '
            '"00000000-0000-0000-0000-000000000000"}; a number is its End User Messaging id or Meta\'s phone number id',
        ),
        "Contact flow per business number: a JSON object whose keys are End User Messaging ids (phone-number-id-...) "
        "or Meta's phone number ids and whose values are flow ids; chats of a number not in it start in "
        "contactFlowId.",
        default=(), env="CONTACT_FLOWS", readers=(INBOUND,),
    ),
    Setting(
        "bufferSeconds", Integer(1, 300),
        "Quiet period: a conversation's pending messages are sent once the customer has sent nothing for this long "
        "(with endOfTurn cues, this long after a message that neither looks finished nor unfinished).",
        default=11, env="BUFFER_SECONDS", readers=(AGGREGATOR,),
    ),
    Setting(
        "endOfTurn", END_OF_TURN_RULE,
        "How long the quiet period is after each message: fixed waits bufferSeconds after every message; cues waits "
        "0.3x after one that looks finished (thanks, a question, a long text, a voice note, a location), 1.25x after "
        "one that does not (a trailing comma or conjunction, a greeting, a photo without words), and at least the "
        "customer's own last pause in the burst (up to 1.5x).",
        default="cues", env="END_OF_TURN", readers=(AGGREGATOR,),
    ),
    Setting(
        "maxWaitSeconds", Integer(Ref("bufferSeconds"), 900, derived=0),
        "Longest a message waits, even if the customer keeps typing.",
        default=60, env="MAX_WAIT_SECONDS", readers=(INGEST, AGGREGATOR, SWEEPER),
    ),
    Setting(
        "maxMessages", Integer(1, 100), "Send as soon as this many messages are pending.",
        default=50, env="MAX_MESSAGES", readers=(AGGREGATOR,),
    ),
    Setting(
        "windowSeconds", Integer(1, Ref("bufferSeconds")),
        "How often pending conversations are looked at (the stream's tumbling window): smaller reacts sooner and costs"
        " more invokes.",
        default=1, env="WINDOW_SECONDS", readers=(AGGREGATOR,),
    ),
    Setting(
        "chatDurationMinutes", Integer(60, 10080), "Maximum duration of a Connect chat, in minutes.",
        default=60, env="CHAT_DURATION_MINUTES", readers=(INBOUND,),
    ),
    Setting(
        "ignoreReactions", Boolean(), "Drop WhatsApp reactions instead of forwarding them to the agent.",
        default=True, env="IGNORE_REACTIONS", readers=(INGEST,),
    ),
    Setting(
        "ignoreStickers", Boolean(), "Drop WhatsApp stickers instead of forwarding them to the agent.",
        default=True, env="IGNORE_STICKERS", readers=(INGEST,),
    ),
    Setting(
        "retentionHours", Integer(1, 168),
        "Hours raw messages stay in the raw table before TTL removes them. A redelivery is recognised for 14 days and "
        "6 hours whatever this is (ingest keeps each message id, without its content, as long as a failed event can "
        "come back from Lambda's retries or the ingest dead-letter queue; Meta retries for 7 days).",
        default=24, env="RETENTION_HOURS", readers=(INGEST, OUTBOUND),
    ),
    Setting(
        "logRetentionDays", OneOf(LOG_RETENTION_DAYS), "CloudWatch Logs retention of every function, in days.",
        default=14,
    ),
    Setting(
        "markAsRead", Boolean(), "Mark the customer's WhatsApp messages as read when their burst reaches Connect.",
        default=False, env="MARK_AS_READ", readers=(INBOUND,),
    ),
    Setting(
        "metaApiVersion", Text(r"^v\d+\.\d+$", "a Meta Graph API version like v20.0", "vNN.N"),
        "Meta Graph API version End User Messaging uses for outgoing WhatsApp messages.",
        default="v20.0", env="META_API_VERSION", readers=(INBOUND, OUTBOUND, OUTREACH),
    ),
    Setting(
        "transcribeLanguages",
        TextList(r"^[a-z]{2,3}-[A-Z]{2}$", "a comma-separated list of Amazon Transcribe language codes like en-US"),
        "Amazon Transcribe language codes of the customers' voice notes and audio: one code transcribes in that "
        "language, several let Transcribe identify which of them is spoken, empty transcribes nothing (the default: "
        "the bridge cannot guess your customers' language, and each recording costs Transcribe's 15-second minimum).",
        default=(), env="TRANSCRIBE_LANGUAGES", readers=(INBOUND,),
    ),
    Setting(
        "echoTranscripts", Boolean(),
        "Also send each voice note's transcript back to the customer on WhatsApp, as a reply to the recording (as the "
        "AWS sample does), so they can see what the agent reads.",
        default=False, env="ECHO_TRANSCRIPTS", readers=(INBOUND,),
    ),
    Setting(
        "transcriptWaitSeconds", Integer(0, 60),
        "How long a burst waits, at most, for the transcript of a recording in it before it is delivered with a line "
        "saying the transcript follows; the transcript is then posted into the chat as soon as Transcribe finishes.",
        default=10, env="TRANSCRIPT_WAIT_SECONDS", readers=(INBOUND,),
    ),
    Setting(
        "whatsappPhoneNumberIds",
        TextList(
            f"^{EUM_NUMBER_ID}$",
            "a comma-separated list of End User Messaging ids like phone-number-id-0123abcd",
        ),
        "End User Messaging ids (phone-number-id-...) the functions may use; empty allows every number of the account.",
        default=(), env="WHATSAPP_PHONE_NUMBER_IDS", readers=(OUTREACH,),
    ),
    Setting(
        "reengagementTemplate",
        Text(f"^{TEMPLATE_NAME}$", "a WhatsApp template name (lowercase letters, digits, underscores)", "name"),
        "Approved WhatsApp template sent when an agent replies more than 24 hours after the customer's last message "
        "(free-form messages are refused then); the agent is told it went. Empty sends none (the agent is told the "
        "reply did not go).",
        default=None, env="REENGAGEMENT_TEMPLATE", readers=(OUTBOUND,),
    ),
    Setting(
        "reengagementTemplateLanguage",
        Text(f"^{TEMPLATE_LANGUAGE}$", "a WhatsApp template language code like en_US or pt_BR", "code"),
        "Language (and locale) of the approved reengagementTemplate.",
        default="en_US", env="REENGAGEMENT_TEMPLATE_LANGUAGE", readers=(OUTBOUND,),
    ),
    Setting(
        "agentPresence", Boolean(),
        "Show the customer WhatsApp's typing indicator while the agent types, and mark their messages read when the "
        "agent reads them in Connect (rate-limited).",
        default=True, env="AGENT_PRESENCE", readers=(OUTBOUND,),
    ),
    Setting("lambdaMemoryMb", Integer(128, 10240), "Memory of every function, in MB.", default=256),
    Setting(
        "logLevel", OneOf(LOG_LEVELS), "Log level of every function.",
        default="INFO", env="POWERTOOLS_LOG_LEVEL", readers=FUNCTIONS, powertools=True,
    ),
    Setting(
        "alarmEmail", Text(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "an email address", "email"),
        "Email address for operational alarms: creates an encrypted alarm topic and subscribes it (confirm the "
        "email). Empty creates no topic.",
        default=None,
    ),
    Setting(
        "alarmTopicArn",
        Text(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$", "an SNS topic ARN", "SNS topic ARN"),
        "Existing SNS topic the alarms notify (with alarmEmail, both are notified). Empty with no alarmEmail leaves "
        "alarms without actions.",
        default=None,
    ),
)  # fmt: skip
"""Every stack config key, in the order Pulumi.yaml and the README document them."""

WIRING: tuple[Wiring, ...] = (
    Wiring(
        "raw_table_name",
        "RAW_TABLE_NAME",
        (INGEST, AGGREGATOR, OUTBOUND, SWEEPER),
        "the raw table (messages, control items, what the agent said)",
    ),
    Wiring("bursts_queue_url", "BURSTS_QUEUE_URL", (AGGREGATOR,), "the bursts FIFO queue"),
    Wiring("sessions_table_name", "SESSIONS_TABLE_NAME", (INBOUND, OUTBOUND, OUTREACH), "the sessions table"),
    Wiring(
        "idempotency_table_name", "IDEMPOTENCY_TABLE_NAME", (INBOUND, OUTBOUND), "the idempotency table (Powertools)"
    ),
    Wiring("media_bucket_name", "MEDIA_BUCKET_NAME", (INBOUND, OUTBOUND), "the media bucket"),
    Wiring("out_topic_arn", "OUT_TOPIC_ARN", (INBOUND,), "the topic Connect streams chat events to"),
    Wiring("service_name", "POWERTOOLS_SERVICE_NAME", FUNCTIONS, "Logger/Metrics service", powertools=True),
    Wiring("metrics_namespace", "POWERTOOLS_METRICS_NAMESPACE", FUNCTIONS, "Metrics namespace", powertools=True),
)
"""Environment whose values are resources' outputs (or the stack's name), by the field the component hands in."""
METRICS_NAMESPACE = "WhatsAppBuffer"
"""The functions' CloudWatch metrics namespace (`metrics_namespace`'s value), where the dashboard and alarms look."""
TRANSCRIPTS_SWEEP_EVENT = {"source": "whatsapp-buffer", "detail-type": "Transcripts Owed Sweep"}
"""What the transcripts sweep's schedule hands the inbound function every minute (EventBridge Scheduler passes its
`Target.Input` as it is), and how the function tells that invoke from its other triggers."""

Variable = Setting | Wiring
SETTINGS_BY_KEY = {setting.key: setting for setting in SETTINGS}


def _bound(bound: int | Ref, side: Literal["low", "high"], known: Mapping[str, float]) -> float:
    while isinstance(bound, Ref):
        if bound.key in known:
            return known[bound.key]
        referred = SETTINGS_BY_KEY[bound.key].rule
        assert isinstance(referred, Integer)
        bound = getattr(referred, side)
    return bound


def environment_of(function: str) -> tuple[Variable, ...]:
    """Every variable `function` is given, settings first, in declaration order."""
    if function not in FUNCTIONS:
        raise KeyError(function)
    variables: tuple[Variable, ...] = (*SETTINGS, *WIRING)
    return tuple(v for v in variables if v.env and function in v.readers)


ENVIRONMENT = {function: tuple(v.env for v in environment_of(function)) for function in FUNCTIONS}
"""Which variables each function is given; the program sets exactly these (tests check the resource graph)."""

NO_VALUES = "none"
"""How an empty list setting travels in an environment variable (an empty variable reads as unset)."""
