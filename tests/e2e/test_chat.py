"""`python -m sandbox chat` driven from a script: typed lines become one burst, the agent's answer comes back."""

from __future__ import annotations

import io
import math

import yaml

from sandbox.live_chat import chat
from sandbox.stack_files import SAMPLE_STACK_FILE
from whatsapp_buffer.settings import SETTINGS

DEFAULTS = {setting.key: setting.default for setting in SETTINGS}
SAMPLE_STACK = {
    key.split(":", 1)[1]: value
    for key, value in yaml.safe_load(SAMPLE_STACK_FILE.read_text(encoding="utf-8"))["config"].items()
    if key.startswith("whatsapp-buffer:")
}
"""The sandbox runs the sample stack (Pulumi.dev.yaml): its settings over the declared defaults."""


def test_a_scripted_chat_shows_the_countdown_the_burst_and_the_reply():
    typed = io.StringIO("Hello\nHow\nare you?\n/wait 30\n/agent Hi, I'm Ana\n/wait 2\n/quit\n")
    out = io.StringIO()
    assert chat(typed, out, {}) == 0
    screen = out.getvalue()
    # typed at 0 s: quiet for bufferSeconds, then the first window end after that (20 s and 1 s windows: 21 s)
    settings = {**DEFAULTS, **SAMPLE_STACK}
    assert settings["endOfTurn"] == "fixed"  # the chat's countdown is the fixed quiet period
    window = settings["windowSeconds"]
    leaves = (math.floor(settings["bufferSeconds"] / window) + 1) * window
    assert f"3 message(s) buffering: the burst leaves at {leaves:.0f} s" in screen
    assert "agent sees  │ Hello\n" in screen and "How" in screen and "are you?" in screen
    assert screen.count("agent sees") == 1  # three lines typed, one Connect message
    assert "you receive │ Hi, I'm Ana" in screen


def test_a_chat_as_a_username_customer_without_a_phone_number_gets_the_reply():
    typed = io.StringIO("Hi from my username\n/wait 30\n/agent Hello there\n/wait 2\n/quit\n")
    out = io.StringIO()
    assert chat(typed, out, {}, "US.13491208655302741918") == 0
    screen = out.getvalue()
    assert "agent sees  │ Hi from my username" in screen
    assert "you receive │ Hello there" in screen


def test_a_chat_outreach_sends_the_template_and_the_reply_shows_it_to_the_agent_first():
    typed = io.StringIO(
        "/outreach order_update Ana A-1042\n/wait 5\n/outreach order_update Ana\n/wait 5\n"
        "Where is my order?\n/wait 30\n/quit\n"
    )
    out = io.StringIO()
    assert chat(typed, out, {}) == 0
    screen = out.getvalue()
    assert "flow gets   │ sent: template order_update sent" in screen
    assert "you receive │ [template]" in screen
    assert "flow gets   │ refused: template order_update takes 2 body parameter(s), the flow gave 1" in screen
    notice = screen.index(
        "agent sees  │ [WhatsApp bridge] The customer is answering the WhatsApp template order_update"
    )
    assert notice < screen.index("agent sees  │ Where is my order?")
