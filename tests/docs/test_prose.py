"""Prose that serves a reader: module docstrings of a few lines that link to docs/ for the long story, and no history
or reference a reader of this repository cannot follow, in the code, its `--help` texts or the docs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from doc_pages import ROOT, anchors

MAX_DOCSTRING_LINES = 12
"""Source lines of a module docstring, its quotes included."""
PACKAGES = ("runtime", "components", "sandbox", "bench")

FORBIDDEN = {
    "a design document this repository does not have": r"\bDESIGN\b\W{0,3}§|§\s?\d",
    "a folder outside this repository": r"(?<![\w./-])shared/\w",
    "the AWS sample by a nickname": r"\b[Tt]he seed\b(?!\s(?:of|value|argument)\b)",
    "a notes file outside this repository": r"\bAWS_FACTS\b",
    "a work item": r"(?i)\b(?:issue|ticket|work item)s?\s*#?\d+",
    "a path of one machine": r"(?<![\w.~-])/work/",
    "history: what the code used to do": r"\b(?:it|we|they|this|that|which|code|program|function|aggregator|stacks?)"
    r" used to\b",
    "history: what came before": r"\bbefore (?:this|these|the) [\w ]{1,30} existed\b|\bwas replaced\b|\bformerly\b",
    "history: a former state": r"\bthe former (?:default|code|design|version)s?\b",
}
"""What no line of code or docs may say, and why it cannot stay."""

SCANNED_ROOTS = ("runtime", "components", "sandbox", "bench", "provider", "policy", "examples", "tests", "docs")
SCANNED_FILES = ("README.md", "__main__.py", "Makefile", "pyproject.toml", "Pulumi.yaml")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt"}
SKIPPED = {"__pycache__", ".venv", ".build", "node_modules", "data", "corpus", "fixtures"}
HOLDS_THE_PATTERNS = {Path(__file__).resolve(), (ROOT / "tests/docs/test_readme_front_door.py").resolve()}
DOCS_LINK = re.compile(r"\bdocs/([\w-]+\.md)(?:#([\w-]+))?")


def modules(roots: tuple[str, ...] = PACKAGES) -> list[Path]:
    return sorted(p for root in roots for p in (ROOT / root).rglob("*.py") if not SKIPPED & set(p.parts))


def docstring_lines(path: Path) -> int:
    """Source lines of the module docstring (0 without one)."""
    body = ast.parse(path.read_text()).body
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return (first.end_lineno or first.lineno) - first.lineno + 1
    return 0


def scanned_files() -> list[Path]:
    found = [ROOT / name for name in SCANNED_FILES if (ROOT / name).exists()]
    for root in SCANNED_ROOTS:
        for path in (ROOT / root).rglob("*"):
            if (
                path.is_file()
                and (path.suffix in SUFFIXES or path.name == "Makefile")
                and not SKIPPED & set(path.parts)
            ):
                found.append(path)
    return sorted(p for p in found if p.resolve() not in HOLDS_THE_PATTERNS)


def forbidden_in(line: str) -> list[str]:
    return [why for why, pattern in FORBIDDEN.items() if re.search(pattern, line)]


def test_the_packages_have_modules_to_check():
    assert len(modules()) >= 150


def test_every_module_docstring_is_at_most_12_lines():
    long = {str(p.relative_to(ROOT)): n for p in modules() if (n := docstring_lines(p)) > MAX_DOCSTRING_LINES}

    assert not long, f"module docstrings over {MAX_DOCSTRING_LINES} lines (move the story to docs/, link it): {long}"


@pytest.mark.parametrize(
    ("lines", "too_long"),
    [('"""One line."""\n', False), ('"""' + "x\n" * 11 + '"""\n', False), ('"""' + "x\n" * 12 + '"""\n', True)],
)
def test_what_counts_as_a_long_docstring(tmp_path, lines, too_long):
    module = tmp_path / "m.py"
    module.write_text(lines + "X = 1\n")

    assert (docstring_lines(module) > MAX_DOCSTRING_LINES) is too_long


def test_no_code_or_page_says_what_a_reader_cannot_follow():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {why}: {line.strip()[:100]}"
        for path in scanned_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        for why in forbidden_in(line)
    ]

    assert not found, "say what the code does, with references a reader can open:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("line", "forbidden"),
    [
        ("Replay traces (DESIGN §5): read TRACE.jsonl", True),
        ("see §5 v2", True),
        ("the seed's fixed window", True),
        ("(the AWS CDK sample, shared/seed)", True),
        ("in botocore 1.43.104 (AWS_FACTS: ...)", True),
        ("fixed in issue 12", True),
        ("python /work/baseline/snap.py", True),
        ("The aggregator used to touch each control item", True),
        ("Where adapters disagreed before this table existed", True),
        ("a 20 s quiet period (the former default)", True),
        ("the key used to sign is", False),
        ("the id is used to deduplicate", False),
        ("a different seed changes the trace", False),
        ("the seed of the generator", False),
        ("docs/sandbox.md#the-replay-contract", False),
        ("boto/boto3#3238", False),
    ],
)
def test_what_counts_as_a_reference_a_reader_cannot_follow(line, forbidden):
    assert bool(forbidden_in(line)) is forbidden


def test_every_docs_page_a_module_docstring_links_exists():
    broken = []
    for path in modules((*PACKAGES, "tests")):
        text = ast.get_docstring(ast.parse(path.read_text())) or ""
        for page, anchor in DOCS_LINK.findall(text):
            target = ROOT / "docs" / page
            if not target.exists() or (anchor and anchor not in anchors(target)):
                broken.append(f"{path.relative_to(ROOT)}: docs/{page}{'#' + anchor if anchor else ''}")

    assert not broken, f"module docstrings link to pages or sections that do not exist: {broken}"
