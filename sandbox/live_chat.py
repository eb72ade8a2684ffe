"""`python -m sandbox chat` (`make chat`): be the customer, and the agent, in a live chat with the local pipeline.

A typed line goes out as the customer's WhatsApp message; time runs at wall speed, and while messages are buffering a
countdown shows when the burst leaves. Commands: `/agent TEXT` (the agent replies, through the outbound Lambda),
`/end` (the agent ends the chat), `/image CAPTION`, `/location`, `/outreach NAME [VALUE ...]` (a contact flow sends
you the approved template NAME with these body values; the sandbox's account gets it the first time it is named),
`/wait N` (fast-forward N seconds of virtual time), `/quit` (end of input does the same).
"""

from __future__ import annotations

import argparse
import math
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any

from sandbox import trace
from sandbox.fakes.templates import FakeTemplate, suffix_of
from sandbox.replay import DRAIN_SECONDS, START_EPOCH, Replay
from sandbox.report import whatsapp_out
from whatsapp_buffer.buffer_policy import BufferPolicy
from whatsapp_buffer.environment import AggregatorSettings

CUSTOMER = "15550001111"
PROMPT = "you › "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a stack config key")
    parser.add_argument(
        "--customer",
        default=CUSTOMER,
        help="the customer's WhatsApp number (wa_id), or a BSUID (US.1349…) for a customer who shares none",
    )


@dataclass
class ChatSession:
    """The pipeline plus what the person at the keyboard has seen so far."""

    replay: Replay
    customer: str
    out: IO[str]
    interactive: bool
    typed: list[tuple[float, str]] = field(default_factory=list)
    """Messages typed since the last burst reached the agent: (virtual seconds, text)."""
    _seen_calls: int = 0
    _seen_outreach: int = 0
    _line: int = 0
    _started: float = field(default_factory=time.monotonic)
    _offset: float = 0.0

    @property
    def policy(self) -> BufferPolicy:
        """The aggregator's, read from the environment the program gives it as the function reads it."""
        env = self.replay.wiring.functions["aggregator"].env  # type: ignore[union-attr]
        return AggregatorSettings.from_env(env).policy

    def virtual_now(self) -> float:
        """Trace seconds: wall time since start (interactive) plus every fast-forward."""
        wall = time.monotonic() - self._started if self.interactive else 0.0
        return wall + self._offset

    def advance(self, to: float) -> None:
        pipeline = self.replay.pipeline
        assert pipeline is not None
        pipeline.run(until=START_EPOCH + to)
        self.replay.clock.now = max(self.replay.clock.now, START_EPOCH + to)
        self.show_new()

    def send(self, kind: str, **content: Any) -> None:
        now = self.virtual_now()
        self._line += 1
        # A BSUID (`US.1349…`) is a customer who shares no phone number: the trace's `user_id`.
        who = {"user_id": self.customer} if "." in self.customer else {"from": self.customer}
        data = {"at": now, "type": "whatsapp", **who, "kind": kind, **content}
        event = trace._validate(self._line, data)
        self.replay.schedule(event, f"wamid.CHAT{self._line:06d}")
        self.typed.append((now, content.get("text") or content.get("caption") or kind))
        self._say(
            now, "you", content.get("text") or f"[{kind}{': ' + content['caption'] if content.get('caption') else ''}]"
        )
        self.countdown()

    def agent(self, kind: str, text: str = "") -> None:
        now = self.virtual_now()
        self._line += 1
        data = {"at": now, "type": kind, "to": self.customer}
        if kind == "agent":
            data["text"] = text
        self.replay.schedule(trace._validate(self._line, data))
        self._say(now, "agent" if kind == "agent" else "agent ends the chat", text)

    def outreach(self, rest: str) -> None:
        """A contact flow sends the customer a template (the replay contract's `outreach` line)."""
        name, *values = rest.split() or ["order_update", "Ana", "A-1042"]
        templates = self.replay.services.fake.social.templates  # type: ignore[union-attr]
        if (name, "en_US") not in templates.templates.get(suffix_of(trace.waba_id()), {}):
            templates.add(trace.waba_id(), FakeTemplate(name, parameters=len(values)))
        now = self.virtual_now()
        self._line += 1
        data = {"at": now, "type": "outreach", "to": self.customer, "template": name, "parameters": values}
        self.replay.schedule(trace._validate(self._line, {**data, "attributes": {"startedBy": "make-chat"}}))
        self._say(now, "flow", f"asks to send template {name} ({', '.join(values) or 'no values'})")

    def countdown(self) -> None:
        if not self.typed:
            return
        last = self.typed[-1][0]
        window = self.policy.window_seconds
        due = last + self.policy.buffer_seconds
        # Ingest stores a message a moment after it is typed, so the burst leaves at the first window end after `due`.
        leaves = (math.floor(due / window) + 1) * window
        now = self.virtual_now()
        text = f"  ⏳ {len(self.typed)} message(s) buffering: the burst leaves at {leaves:.0f} s (in {max(0.0, leaves - now):.0f} s)"
        if self.interactive:
            self.out.write("\r" + text.ljust(78) + "\n" + PROMPT)
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def show_new(self) -> None:
        services = self.replay.services
        assert services is not None
        calls = services.fake.calls
        for call in calls[self._seen_calls :]:
            if call.error or call.replayed:
                continue
            at = call.at - START_EPOCH
            if call.operation == "StartChatContact":
                self._say(at, "Connect", f"new chat {call.response['ContactId'][:8]}…")
            elif call.operation == "SendMessage":
                self._say(at, "agent sees", str(call.params.get("Content", "")))
                self.typed.clear()
            elif call.operation == "CompleteAttachmentUpload":
                self._say(at, "agent sees", "[attachment]")
                self.typed.clear()
            elif call.operation == "SendWhatsAppMessage":
                for entry in whatsapp_out(call, START_EPOCH):
                    self._say(at, "you receive", entry.get("text") or f"[{entry['kind']}]")
        self._seen_calls = len(calls)
        for answer in self.replay.outreach[self._seen_outreach :]:
            self._say(answer["at"], "flow gets", f"{answer['result']}: {answer['reason']}")
        self._seen_outreach = len(self.replay.outreach)

    def _say(self, at: float, who: str, text: str) -> None:
        indent = " " * 22
        lines = str(text).splitlines() or [""]
        rendered = "\n".join([lines[0]] + [indent + line for line in lines[1:]])
        prefix = "\r" if self.interactive else ""
        self.out.write(f"{prefix}{at:7.1f}s  {who:<11} │ {rendered}\n")
        if self.interactive:
            self.out.write(PROMPT)
        self.out.flush()


def _reader(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def handle(session: ChatSession, line: str) -> bool:
    """Act on one typed line; False to leave."""
    command, _, rest = line.strip().partition(" ")
    if not line.strip():
        return True
    if command == "/quit":
        return False
    if command == "/wait":
        try:
            seconds = float(rest or "5")
        except ValueError:
            session.out.write("  /wait needs a number of seconds\n")
            return True
        session._offset += max(0.0, seconds)
        session.advance(session.virtual_now())
        session.countdown()
    elif command == "/agent":
        session.agent("agent", rest or "Hello! How can I help?")
    elif command == "/end":
        session.agent("end_chat")
    elif command == "/image":
        session.send("image", caption=rest) if rest else session.send("image")
    elif command == "/location":
        session.send("location")
    elif command == "/outreach":
        session.outreach(rest)
    elif command.startswith("/"):
        session.out.write(f"  unknown command {command}: /agent, /end, /image, /location, /outreach, /wait N, /quit\n")
    else:
        session.send("text", text=line.strip())
    return True


def chat(stdin: IO[str], stdout: IO[str], overrides: dict[str, str], customer: str = CUSTOMER) -> int:
    interactive = stdin.isatty() and stdout.isatty()
    placeholder = trace._validate(0, {"at": 0, "type": "whatsapp", "from": customer, "text": ""})
    replay = Replay([placeholder], overrides)
    stdout.write("Starting the local pipeline (moto, fake Connect, the Lambda workers)...\n")
    stdout.flush()
    replay.start()
    session = ChatSession(replay, customer, stdout, interactive)
    policy = session.policy
    stdout.write(
        f"Ready. You are WhatsApp customer {customer[-4:]}; bufferSeconds={policy.buffer_seconds:.0f}, "
        f"windowSeconds={policy.window_seconds:.0f}.\nType messages quickly, then stop: they reach the agent as one. "
        "/agent TEXT answers, /outreach NAME VALUES sends you a template, /wait N fast-forwards, /quit leaves.\n"
    )
    if interactive:
        stdout.write(PROMPT)
    stdout.flush()
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_reader, args=(stdin, lines), daemon=True).start()
    try:
        while True:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                session.advance(session.virtual_now())
                continue
            if line is None or not handle(session, line):
                break
            session.advance(session.virtual_now())
        # Let what is in flight land before leaving (bursts still buffering, replies on their way).
        session.advance(session.virtual_now() + policy.buffer_seconds + policy.window_seconds + 5)
        replay.pipeline.run(until=replay.clock.now + DRAIN_SECONDS)  # type: ignore[union-attr]
        session.show_new()
    finally:
        replay.stop()
    stdout.write("\nBye.\n")
    return 0


def run(args: argparse.Namespace) -> int:
    from sandbox.plan import parse_overrides

    return chat(sys.stdin, sys.stdout, parse_overrides(args.set), args.customer)
