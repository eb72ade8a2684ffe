"""The README's excerpt of `make demo` is what the demo prints: its lines, in order, in the timeline of the bundled
example's replay."""

from __future__ import annotations

import re

from sandbox.timeline import render
from tests.e2e.conftest import EXAMPLES, replay

README = EXAMPLES.parent / "README.md"


def readme_excerpt() -> list[str]:
    section = README.read_text().split("\n## Try it locally\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)
    return block.rstrip("\n").splitlines()


def test_the_readmes_demo_excerpt_is_lines_of_the_demos_timeline_in_order():
    events, transcript, _ = replay(EXAMPLES / "morning_rush.jsonl")
    timeline = iter(line.rstrip() for line in render(events, transcript).splitlines())
    excerpt = readme_excerpt()

    assert len(excerpt) >= 8
    for line in excerpt:
        assert any(shown == line.rstrip() for shown in timeline), f"not in the demo's timeline (in order): {line!r}"
