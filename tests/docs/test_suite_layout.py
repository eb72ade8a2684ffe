"""The suite collects as one: pytest imports test modules by basename (rootdir-relative, no packages), so two test
files of one name in different folders fail collection with "import file mismatch" when one worker meets both."""

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_modules_share_a_basename():
    modules = list(TESTS.rglob("test_*.py"))
    assert len(modules) > 1, f"found {len(modules)} test modules under {TESTS}"
    folders: dict[str, list[str]] = defaultdict(list)
    for path in modules:
        folders[path.name].append(str(path.parent.relative_to(TESTS)))

    assert {name: sorted(found) for name, found in folders.items() if len(found) > 1} == {}
