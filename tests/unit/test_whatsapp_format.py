"""Connect rich text (text/markdown) -> WhatsApp formatting: many cases, and plain text passes untouched.

Sources (see `whatsapp_buffer.outbound.whatsapp_format`): Connect's rich messaging — "bold, italics, hyperlinks,
bulleted lists, and numbered lists" written as Markdown; WhatsApp's formatting — `*bold*`, `_italic_`, `~strike~`,
`` `code` ``, ```` ``` ```` blocks, `- `/`1. ` lists, `> ` quotes.
"""

from __future__ import annotations

import random
import re
import string

import pytest

from whatsapp_buffer.outbound.whatsapp_format import to_whatsapp

CASES = [
    # bold
    ("**bold**", "*bold*"),
    ("__bold__", "*bold*"),
    ("a **bold** word", "a *bold* word"),
    ("**two words**", "*two words*"),
    ("**a** and **b**", "*a* and *b*"),
    # italic
    ("*italic*", "_italic_"),
    ("_italic_", "_italic_"),
    ("an *italic* word", "an _italic_ word"),
    ("***both***", "*_both_*"),
    ("**bold _and italic_**", "*bold _and italic_*"),
    # strikethrough
    ("~~gone~~", "~gone~"),
    ("was ~~10~~ now 8", "was ~10~ now 8"),
    # code
    ("run `pip install x`", "run `pip install x`"),
    ("`**not bold**`", "`**not bold**`"),
    ("``a `tick` inside``", "`a `tick` inside`"),
    ("```\n**kept**\n```", "```\n**kept**\n```"),
    ("```python\nx = 1\n```", "```\nx = 1\n```"),
    # links
    ("[our site](https://example.com)", "our site (https://example.com)"),
    ("see [the FAQ](https://example.com/faq?a=1&b=2).", "see the FAQ (https://example.com/faq?a=1&b=2)."),
    ("[https://example.com](https://example.com)", "https://example.com"),
    ('[docs](https://example.com "Title")', "docs (https://example.com)"),
    ("<https://example.com>", "https://example.com"),
    ("![label](https://example.com/a.png)", "label (https://example.com/a.png)"),
    ("**[bold link](https://x.io)**", "*bold link (https://x.io)*"),
    # lists
    ("- one\n- two", "- one\n- two"),
    ("* one\n* two", "- one\n- two"),
    ("+ one", "- one"),
    ("  - nested", "  - nested"),
    ("1. first\n2. second", "1. first\n2. second"),
    ("1) first", "1. first"),
    ("- **bold** item", "- *bold* item"),
    # headings
    ("# Title", "Title"),
    ("### Order **123**", "Order *123*"),
    ("## Closed ##", "Closed"),
    # quotes, rules, paragraphs
    ("> quoted", "> quoted"),
    ("---", "---"),
    ("line one\n\nline two", "line one\n\nline two"),
    # escapes and things that are not emphasis
    (r"\*not italic\*", "*not italic*"),
    (r"2 \* 3", "2 * 3"),
    ("snake_case_name", "snake_case_name"),
    ("2*3*4", "2*3*4"),
    ("a * b * c", "a * b * c"),
    ("price: 5 * 2", "price: 5 * 2"),
    ("#hashtag", "#hashtag"),
    ("file_name.txt and other_file.txt", "file_name.txt and other_file.txt"),
    ("emoji 👍 **ok**", "emoji 👍 *ok*"),
    ("", ""),
]


@pytest.mark.parametrize(("markdown", "whatsapp"), CASES)
def test_connect_markdown_arrives_in_whatsapps_style(markdown, whatsapp):
    assert to_whatsapp(markdown) == whatsapp


@pytest.mark.parametrize(
    "plain",
    [
        "Hello, how can I help?",
        "Your order 12345 ships tomorrow.\nTracking: https://example.com/t/1",
        "Call us at +1 (555) 000-1111 - we're open 9-5.",
        "Olá! Você pode enviar uma foto?",
    ],
)
def test_text_without_markdown_is_unchanged(plain):
    assert to_whatsapp(plain) == plain


def test_random_text_without_markdown_characters_is_never_changed():
    rng = random.Random(14)
    alphabet = string.ascii_letters + string.digits + " .,;:?!'\"/@%&=\n" + "éñü日本"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        assert to_whatsapp(text) == text


def test_random_markdown_never_loses_the_words():
    rng = random.Random(41)
    markers = ["**", "__", "*", "_", "~~", "`", "[", "](https://x.io)", "- ", "# ", "\n"]
    for _ in range(500):
        words = [rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(rng.randint(1, 12))]
        text = " ".join(rng.choice(markers) + w if rng.random() < 0.4 else w for w in words)
        assert re.findall(r"alpha|beta|gamma|delta", to_whatsapp(text)) == words
