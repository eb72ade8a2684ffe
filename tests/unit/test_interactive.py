"""Connect quick replies and list pickers -> WhatsApp reply buttons (<= 3), lists (<= 10 rows), numbered text beyond."""

from __future__ import annotations

import json

import pytest

from whatsapp_buffer.outbound.interactive import as_whatsapp, parse


def quick_reply(*titles, title="How was your experience?", nested=True):
    content = {"title": title, "elements": [{"title": t} for t in titles]}
    return json.dumps(
        {"templateType": "QuickReply", "version": "1.0", "data": {"content": content} if nested else content}
    )


def list_picker(*options, title="Which store?", subtitle="Tap to select"):
    elements = [{"title": t, **({"subtitle": s} if s else {})} for t, s in options]
    content = {"title": title, "subtitle": subtitle, "elements": elements}
    return json.dumps({"templateType": "ListPicker", "version": "1.0", "data": {"content": content}})


@pytest.mark.parametrize("nested", [True, False])
def test_a_quick_reply_of_up_to_three_short_options_becomes_reply_buttons(nested):
    kind, body = as_whatsapp(parse(quick_reply("Great", "OK", "Bad", nested=nested)))
    assert kind == "interactive" and body["type"] == "button"
    assert body["body"] == {"text": "How was your experience?"}
    assert [b["reply"]["title"] for b in body["action"]["buttons"]] == ["Great", "OK", "Bad"]


def test_a_list_picker_with_descriptions_becomes_a_list_of_rows():
    kind, body = as_whatsapp(parse(list_picker(("Lisbon", "Rua Augusta 1"), ("Porto", "Avenida 2"))))
    assert kind == "interactive" and body["type"] == "list"
    assert body["body"] == {"text": "Which store?\nTap to select"}
    (section,) = body["action"]["sections"]
    assert [(r["title"], r["description"]) for r in section["rows"]] == [
        ("Lisbon", "Rua Augusta 1"),
        ("Porto", "Avenida 2"),
    ]


def test_four_to_ten_options_become_a_list_and_more_become_numbered_text():
    kind, body = as_whatsapp(parse(quick_reply(*[f"Option {i}" for i in range(1, 11)])))
    assert kind == "interactive" and body["type"] == "list"
    kind, body = as_whatsapp(parse(quick_reply(*[f"Option {i}" for i in range(1, 12)])))
    assert kind == "text"
    assert body["body"].splitlines() == ["How was your experience?", *[f"{i}. Option {i}" for i in range(1, 12)]]


def test_options_too_long_for_whatsapp_are_never_cut_they_become_numbered_text():
    long_title = "A very long option title beyond 24"
    kind, body = as_whatsapp(parse(quick_reply("Yes", long_title)))
    assert kind == "text" and f"2. {long_title}" in body["body"]


@pytest.mark.parametrize(
    "content", ["not json", "[]", '{"templateType": "TimePicker", "data": {}}', '{"templateType": "QuickReply"}']
)
def test_what_is_not_a_known_template_is_not_a_question(content):
    assert parse(content) is None
