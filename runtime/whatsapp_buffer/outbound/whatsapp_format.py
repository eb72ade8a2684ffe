"""Connect rich text (`text/markdown`) -> WhatsApp's own formatting (pure).

Connect's rich messaging offers "bold, italics, hyperlinks, bulleted lists, and numbered lists" (Amazon Connect
release note of 2022-03-11, StartChatContact `SupportedMessagingContentTypes` `text/markdown`), written as Markdown:
`**bold**` / `__bold__`, `*italic*` / `_italic_`, `[text](url)`, `- item`, `1. item`; agents' editors also produce
`~~strike~~`, code spans and headings. WhatsApp formats with single markers: `*bold*`, `_italic_`, `~strike~`,
`` `inline code` ``, ```` ```monospace``` ````, and renders `- item`, `1. item` and `> quote` lines as lists and quotes
(WhatsApp Help Center, "How to format your messages"; Meta's Cloud API passes the text body through as typed).
Unconverted, `**bold**` shows on the customer's phone with its asterisks and a link as `[text](url)`.

What WhatsApp cannot show becomes plain text: a link is `text (url)`, a heading its plain line, a bullet `- item`.
Code spans and fenced blocks are kept verbatim (no conversion inside). A backslash escape (`\\*`) is the character.
Intraword underscores (`snake_case`) are not emphasis, as in CommonMark.
"""

from __future__ import annotations

import re

_BOLD = "\ue000"
_ITALIC = "\ue001"
_STRIKE = "\ue002"
_ESCAPED = "\ue003"
"""Private-use placeholders: a marker already converted is never matched again by the next rule."""

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_BULLET = re.compile(r"^(\s*)[*+-]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,9})[.)]\s+(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!~>|])")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_BOLD_ITALIC = re.compile(r"(?<![*\w])\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*(?!\*)")
_STAR_BOLD = re.compile(r"(?<!\*)\*\*(?=\S)(.+?)(?<=\S)\*\*(?!\*)")
_UNDERSCORE_BOLD = re.compile(r"(?<![\w_])__(?=\S)(.+?)(?<=\S)__(?![\w_])")
_STAR_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_UNDERSCORE_ITALIC = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_STRIKETHROUGH = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")


def to_whatsapp(markdown: str) -> str:
    """The agent's Markdown as WhatsApp shows it; the same text when it holds no Markdown."""
    lines: list[str] = []
    in_fence = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            lines.append("```")
            continue
        lines.append(line if in_fence else _line(line))
    return "\n".join(lines)


def _line(line: str) -> str:
    if _RULE.match(line):
        return line
    heading = _HEADING.match(line)
    if heading:
        return _inline(heading.group(1))
    numbered = _NUMBERED.match(line)
    if numbered:
        indent, number, rest = numbered.groups()
        return f"{indent}{number}. {_inline(rest)}"
    bullet = _BULLET.match(line)
    if bullet:
        indent, rest = bullet.groups()
        return f"{indent}- {_inline(rest)}"
    return _inline(line)


def _inline(text: str) -> str:
    """Code spans stay as they are; the rest is converted piece by piece."""
    pieces: list[str] = []
    position = 0
    for span in _CODE_SPAN.finditer(text):
        pieces.append(_emphasis(text[position : span.start()]))
        pieces.append(f"`{span.group(2).strip(' ') or span.group(2)}`")
        position = span.end()
    pieces.append(_emphasis(text[position:]))
    return "".join(pieces)


def _emphasis(text: str) -> str:
    escaped: list[str] = []

    def keep(match: re.Match[str]) -> str:
        escaped.append(match.group(1))
        return _ESCAPED

    text = _ESCAPE.sub(keep, text)
    text = _IMAGE.sub(lambda m: _link(m.group(1), m.group(2)), text)
    text = _LINK.sub(lambda m: _link(m.group(1), m.group(2)), text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _BOLD_ITALIC.sub(lambda m: f"{_BOLD}{_ITALIC}{m.group(1)}{_ITALIC}{_BOLD}", text)
    text = _STAR_BOLD.sub(lambda m: f"{_BOLD}{m.group(1)}{_BOLD}", text)
    text = _UNDERSCORE_BOLD.sub(lambda m: f"{_BOLD}{m.group(1)}{_BOLD}", text)
    text = _STAR_ITALIC.sub(lambda m: f"{_ITALIC}{m.group(1)}{_ITALIC}", text)
    text = _UNDERSCORE_ITALIC.sub(lambda m: f"{_ITALIC}{m.group(1)}{_ITALIC}", text)
    text = _STRIKETHROUGH.sub(lambda m: f"{_STRIKE}{m.group(1)}{_STRIKE}", text)
    text = text.replace(_BOLD, "*").replace(_ITALIC, "_").replace(_STRIKE, "~")
    for character in escaped:
        text = text.replace(_ESCAPED, character, 1)
    return text


def _link(text: str, url: str) -> str:
    text = text.strip()
    if text in ("", url, url.removeprefix("mailto:")):
        return text or url.removeprefix("mailto:")
    return f"{text} ({url})"
