"""Every repository path the README and the pages under docs/ name in code spans exists, and every dotted name of
this repository's modules the pages and the sources' comments name (`aggregator.lifecycle`, `notice_texts.PREFIX`)
is defined there, so a moved or renamed file or name cannot leave the prose pointing at nothing."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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


RUNTIME = ROOT / "runtime" / "whatsapp_buffer"
SOURCE_ROOTS = ("runtime", "components", "sandbox", "bench", "policy")
SKIPPED = {"__pycache__", ".venv", ".build"}
DOTTED = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)(?:\(\))?$")
"""A dotted reference (`aggregator.lifecycle`, `notice_texts.PREFIX`, `observability.count()`); whether it is one of
this repository's is decided by its first segments naming one of its modules."""
FILE_SUFFIXES = {"py", "md", "json", "jsonl", "yaml", "yml", "toml", "txt", "wav", "csv", "ogg", "mp4", "m4a", "jpg"}


def _source_files() -> list[Path]:
    return sorted(p for root in SOURCE_ROOTS for p in (ROOT / root).rglob("*.py") if not SKIPPED & set(p.parts))


def module_index() -> dict[str, Path]:
    """Dotted module name -> file: the runtime's as `whatsapp_buffer.x.y` and as `x.y`, the other packages' from the
    repository root (`components.inbound`), and a runtime module's bare name when no other runtime module has it
    (`lifecycle` for `aggregator/lifecycle.py`), as the docstrings write them."""
    found: dict[str, Path] = {}

    def add(base: Path, prefix: str) -> None:
        for path in sorted(base.rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if SKIPPED & set(path.parts) or parts == ["__init__"]:
                continue
            found.setdefault(prefix + ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path)

    add(RUNTIME, "")
    add(ROOT / "runtime", "")
    for top in SOURCE_ROOTS[1:]:
        add(ROOT / top, f"{top}.")
    stems: dict[str, list[Path]] = {}
    for path in RUNTIME.rglob("*.py"):
        if path.stem != "__init__" and not SKIPPED & set(path.parts):
            stems.setdefault(path.stem, []).append(path)
    for stem, paths in stems.items():
        if len(paths) == 1:
            found.setdefault(stem, paths[0])
    return found


def _defined(body: list[ast.stmt]) -> dict[str, ast.ClassDef | None]:
    """The names a module or class body defines (functions, classes, assignments, imports, also under if/try)."""
    names: dict[str, ast.ClassDef | None] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names[node.name] = None
        elif isinstance(node, ast.ClassDef):
            names[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update((n.id, None) for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update(((alias.asname or alias.name).split(".")[0], None) for alias in node.names)
        elif isinstance(node, ast.If | ast.Try):
            nested = [*node.body, *node.orelse, *(s for h in getattr(node, "handlers", []) for s in h.body)]
            names.update(_defined(nested))
    return names


def resolves(reference: str, index: dict[str, Path]) -> bool | None:
    """None when `reference` is not a dotted name of this repository; else whether its module exists and defines the
    name after it (and, for a class, the member after that, unless the class inherits it)."""
    match = DOTTED.match(reference)
    if not match or match.group(1).rsplit(".", 1)[-1] in FILE_SUFFIXES:
        return None
    segments = match.group(1).split(".")
    module = next((k for k in range(len(segments), 0, -1) if ".".join(segments[:k]) in index), 0)
    if not module:
        return None
    rest = segments[module:]
    if not rest:
        return True
    defined = _defined(ast.parse(index[".".join(segments[:module])].read_text()).body)
    if rest[0] not in defined:
        return False
    cls = defined[rest[0]]
    return len(rest) == 1 or cls is None or bool(cls.bases) or rest[1] in _defined(cls.body)


def dotted_references() -> list[tuple[str, str]]:
    """(where, reference) of every dotted name of this repository in a code span of the pages or the sources."""
    index, found = module_index(), []
    sources = [(page, prose_lines(page.read_text())) for page in pages()]
    sources += [(path, list(enumerate(path.read_text().splitlines(), start=1))) for path in _source_files()]
    for path, lines in sources:
        for number, line in lines:
            for span in re.findall(r"`([^`]+)`", line):
                if resolves(span, index) is not None:
                    found.append((f"{path.relative_to(ROOT)}:{number}", span))
    return found


def test_the_pages_and_sources_name_modules_to_check():
    assert len(dotted_references()) >= 80


@pytest.mark.parametrize(("where", "reference"), dotted_references(), ids=lambda value: value)
def test_every_dotted_reference_names_a_module_and_what_it_defines(where, reference):
    assert resolves(reference, module_index()), f"{where}: `{reference}` names no module or nothing it defines"


@pytest.mark.parametrize(
    ("span", "resolves_to"),
    [
        ("aggregator.lifecycle", True),
        ("lifecycle.CLAIM_LEASE_SECONDS", True),
        ("burst_transcripts.Transcripts.wait", True),
        ("observability.count()", True),
        ("inbound.convert", False),
        ("aggregator.end_of_turn", False),
        ("notice_texts.NO_SUCH_NAME", False),
        ("pulumi.ResourceOptions", None),
        ("settings.py", None),
        ("Run.meter", None),
    ],
)
def test_which_spans_are_dotted_references_and_whether_they_resolve(span, resolves_to):
    assert resolves(span, module_index()) is resolves_to
