"""Long agent replies are split into WhatsApp messages of at most 4,096 characters, never cut: paragraphs first, then
lines, then words; in order; nothing but boundary whitespace lost."""

from __future__ import annotations

import random
import re

import pytest

from whatsapp_buffer.outbound.long_reply import split_reply, utf16_length


def words(text):
    return re.findall(r"\S+", text)


def test_a_reply_that_fits_is_one_message_as_typed():
    assert split_reply("Hi\n\nthere ") == ["Hi\n\nthere "]
    assert split_reply("x" * 4096) == ["x" * 4096]


def test_paragraphs_are_packed_whole_while_they_fit():
    paragraphs = [f"Paragraph {i}. " + "word " * 300 for i in range(10)]  # ~1,515 characters each
    parts = split_reply("\n\n".join(p.strip() for p in paragraphs))
    assert [len(p) for p in parts] == [len(parts[0])] * 4 + [len(parts[-1])]
    assert all(p.startswith("Paragraph") for p in parts)
    assert all(part.count("Paragraph") == 2 for part in parts)


def test_a_paragraph_longer_than_a_message_splits_at_lines_then_words():
    lines = "\n".join(f"line {i:03d} " + "x" * 40 for i in range(200))  # one 10 kB paragraph of lines
    parts = split_reply(lines)
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 3
    assert all(re.match(r"line \d{3} x{40}$", line) for p in parts for line in p.split("\n"))
    one_line = " ".join(["word"] * 2500)
    parts = split_reply(one_line)
    assert all(len(p) <= 4096 and p.split(" ") == ["word"] * len(p.split(" ")) for p in parts)


def test_a_10000_character_reply_arrives_whole_in_order():
    rng = random.Random(10_000)
    text = "\n\n".join(
        " ".join(rng.choice(["shipping", "refund", "order", "olá", "👍", "日本"]) for _ in range(rng.randint(5, 400)))
        for _ in range(12)
    )[:10_000]
    parts = split_reply(text)
    assert len(parts) >= 3
    assert all(utf16_length(p) <= 4096 for p in parts)
    assert words(" ".join(parts)) == words(text)


@pytest.mark.parametrize("seed", range(20))
def test_random_replies_never_lose_a_word_or_exceed_the_limit(seed):
    rng = random.Random(seed)
    pieces = [
        rng.choice(["a", "bb", "ccc ", " ", "\n", "\n\n", "🇧🇷", "é", "x" * 50]) for _ in range(rng.randint(0, 6000))
    ]
    text = "".join(pieces)
    parts = split_reply(text, limit=500)
    assert all(utf16_length(p) <= 500 for p in parts)
    assert words(" ".join(parts)) == words(text)
