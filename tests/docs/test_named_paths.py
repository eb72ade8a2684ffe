"""Every repository path the README and the pages under docs/ name in code spans exists, so a moved or renamed file
cannot leave the docs pointing at nothing."""

from __future__ import annotations

import re

import pytest
from doc_pages import ROOT, pages, prose_lines

TOP_LEVEL = (
    "components",
    "policy",
    "runtime",
    "sandbox",
    "bench",
    "tests",
    "examples",
    "provider",
    "docs",
    ".github",
    ".ci",
)
PATH = re.compile(rf"^(?:{'|'.join(re.escape(t) for t in TOP_LEVEL)})/[\w./-]*$")
"""A path from the repository root; spans with placeholders (`<stack>`, `*`, `…`) are patterns, not paths."""


def named_paths() -> list[tuple[str, str]]:
    found = []
    for page in pages():
        for number, line in prose_lines(page.read_text()):
            for span in re.findall(r"`([^`]+)`", line):
                if PATH.match(span):
                    found.append((f"{page.relative_to(ROOT)}:{number}", span))
    return found


def test_the_pages_name_paths_to_check():
    assert len(named_paths()) >= 20


@pytest.mark.parametrize(("where", "path"), named_paths(), ids=lambda value: value)
def test_every_path_a_page_names_exists(where, path):
    assert (ROOT / path.rstrip("/")).exists(), f"{where}: `{path}` is not in the repository"


@pytest.mark.parametrize(
    ("span", "is_path"),
    [("sandbox/verify.py", True), ("runtime/", True), ("transcripts/<job>.json", False), ("text/plain", False)],
)
def test_which_code_spans_are_paths(span, is_path):
    assert bool(PATH.match(span)) is is_path
