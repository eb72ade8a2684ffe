"""The README and the pages under docs/ as the tests read them: headings, their GitHub anchors, links, sections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def pages() -> list[Path]:
    """README.md and every page under docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of everything outside fenced code blocks."""
    lines, fence = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = re.match(r"^\s*(`{3,}|~{3,})", line)
        if opening:
            marker = opening.group(1)[0] * 3
            if fence is None:
                fence = marker
            elif marker == fence:
                fence = None
            continue
        if fence is None:
            lines.append((number, line))
    return lines


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text lowercased, every character that is not a letter, a
    digit, `_`, `-` or a space dropped, each space a hyphen (github-slugger, which github.com's renderer follows)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link or an image renders as its text
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a page; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(path.read_text()):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        anchor = github_anchor(heading.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


@dataclass(frozen=True)
class Link:
    page: Path
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}: {self.target}"


def links(path: Path) -> list[Link]:
    """Every markdown link or image of a page outside code (fenced blocks and inline code spans)."""
    found = []
    for number, line in prose_lines(path.read_text()):
        prose = re.sub(r"`[^`]*`", "", line)
        for match in re.finditer(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", prose):
            found.append(Link(path, number, match.group(1)))
    return found


def relative(link: Link) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", link.target)


def section(path: Path, heading: str) -> str:
    """The text under `heading` (a whole heading line, e.g. "## Metrics") up to the next heading of its level or
    higher."""
    level = len(heading) - len(heading.lstrip("#"))
    text = path.read_text()
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    following = re.compile(rf"^#{{1,{level}}}\s", flags=re.MULTILINE).search(text, start)
    return text[start : following.start() if following else len(text)]


def table_first_column(text: str) -> list[str]:
    """The first cell of each row of the first table in `text`, header and separator left out."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [row.strip("|").split("|")[0].strip() for row in rows[2:]]
