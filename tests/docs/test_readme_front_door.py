"""The README is a front door: one screen of what and why, the commands, and one click to every page under docs/."""

from __future__ import annotations

import re

import pytest
from doc_pages import DOCS, README, ROOT, links, pages, prose_lines

MAX_README_LINES = 300
WORK_ITEM = re.compile(r"\b(issue|ticket|work item)s?\s*#?\d+", flags=re.IGNORECASE)


def test_the_readme_is_at_most_300_lines():
    lines = len(README.read_text().splitlines())

    assert lines <= MAX_README_LINES, f"README.md has {lines} lines: move detail into docs/"


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_every_page_under_docs_is_one_click_from_the_readme(page):
    linked = {(README.parent / link.target.partition("#")[0]).resolve() for link in links(README)}

    assert page.resolve() in linked, f"README.md does not link {page.relative_to(ROOT)}"


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_no_page_names_a_work_item(page):
    named = [f"{number}: {line.strip()}" for number, line in prose_lines(page.read_text()) if WORK_ITEM.search(line)]

    assert not named, f"{page.relative_to(ROOT)} names work items instead of saying what the code does: {named}"


@pytest.mark.parametrize(
    ("line", "names_one"),
    [("fixed in issue 12", True), ("see Issue #7", True), ("tickets 3", True), ("boto/boto3#3238", False)],
)
def test_what_counts_as_naming_a_work_item(line, names_one):
    assert bool(WORK_ITEM.search(line)) is names_one
