"""Every relative link of the README and the pages under docs/ reaches a file of the repository, and every #anchor a
heading of the page it names, by GitHub's anchor rules."""

from __future__ import annotations

import pytest
from doc_pages import ROOT, Link, anchors, github_anchor, links, pages, relative

RELATIVE = [link for page in pages() for link in links(page) if relative(link)]
ANCHORED = [link for link in RELATIVE if "#" in link.target]


def _target(link: Link):
    path = link.target.partition("#")[0]
    return (link.page.parent / path).resolve() if path else link.page


def test_the_pages_have_relative_links_and_anchors_to_check():
    assert len(RELATIVE) >= 30
    assert len(ANCHORED) >= 10


@pytest.mark.parametrize("link", RELATIVE, ids=str)
def test_every_relative_link_reaches_a_file_of_the_repository(link):
    target = _target(link)

    assert target.exists(), f"{link}: no such file"
    assert target == ROOT or ROOT in target.parents, f"{link}: outside the repository"


@pytest.mark.parametrize("link", ANCHORED, ids=str)
def test_every_anchor_link_reaches_a_heading_of_the_page_it_names(link):
    target = _target(link)
    anchor = link.target.partition("#")[2]

    assert target.suffix == ".md", f"{link}: an anchor into a file that is not a page"
    assert anchor in anchors(target), f"{link}: {target.relative_to(ROOT)} has no heading with that anchor"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Operations: alarms and what to do", "operations-alarms-and-what-to-do"),
        ("Sweep of bufferSeconds × windowSeconds", "sweep-of-bufferseconds--windowseconds"),
        ("Measured (2026-12-01)", "measured-2026-12-01"),
        ("TypeScript, Go, C#, Java, YAML", "typescript-go-c-java-yaml"),
        ("TRACE.jsonl", "tracejsonl"),
        ("Use `WhatsAppBuffer` from **your** program", "use-whatsappbuffer-from-your-program"),
        ("See [the runbook](docs/operations.md)", "see-the-runbook"),
        ("snake_case keys", "snake_case-keys"),
        ("Überblick", "überblick"),
    ],
)
def test_anchors_follow_githubs_rules(heading, anchor):
    assert github_anchor(heading) == anchor


def test_a_repeated_heading_gets_a_numbered_anchor_and_code_blocks_hold_no_headings(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Notes\n\n```bash\n# not a heading\n```\n\n## Notes\n\n### Notes\n")

    assert anchors(page) == {"title", "notes", "notes-1", "notes-2"}


def test_links_inside_code_are_not_links(tmp_path):
    page = tmp_path / "page.md"
    page.write_text('[a](a.md) `[b](b.md)`\n\n```\n[c](c.md)\n```\n![d](d.png "title")\n')

    assert [link.target for link in links(page)] == ["a.md", "d.png"]
