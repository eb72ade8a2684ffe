"""The metric list in docs/operations.md is exactly the set of metric names the Lambda code emits, read from the code."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from doc_pages import DOCS, ROOT, section, table_first_column
from emitted_metrics import UnresolvedMetricName, emitted_metric_names

OPERATIONS = DOCS / "operations.md"
RUNTIME = ROOT / "runtime" / "whatsapp_buffer"


def documented_metrics() -> list[str]:
    cells = table_first_column(section(OPERATIONS, "## Metrics"))
    return [name for cell in cells for name in re.findall(r"`([A-Za-z]+)`", cell)]


def test_the_documented_metrics_are_the_metrics_the_code_emits():
    documented, emitted = set(documented_metrics()), emitted_metric_names(RUNTIME)

    assert emitted - documented == set(), "emitted but not in docs/operations.md's metric list"
    assert documented - emitted == set(), "in docs/operations.md's metric list but never emitted"


def test_each_metric_is_listed_once():
    assert [name for name, times in Counter(documented_metrics()).items() if times > 1] == []


def _package(tmp_path: Path, modules: dict[str, str]) -> Path:
    package = tmp_path / "pkg"
    package.mkdir()
    for name, source in modules.items():
        (package / f"{name}.py").write_text(source)
    return package


OBSERVABILITY = "def count(name, value=1):\n    metrics.add_metric(name=name, unit='Count', value=value)\n"


@pytest.mark.parametrize(
    ("modules", "names"),
    [
        ({"a": "metrics.add_metric(name='Literal', unit='Count', value=1)\n"}, {"Literal"}),
        ({"a": "metrics.add_metric('Positional', 'Count', 1)\n"}, {"Positional"}),
        ({"a": "with single_metric(name='Single', unit='Count', value=1) as m:\n    pass\n"}, {"Single"}),
        ({"a": "metrics.add_metric(name='Yes' if ok else 'No', unit='Count', value=1)\n"}, {"Yes", "No"}),
        (
            {
                "a": "def f(r):\n    for name, v in (('One', r.a), ('Two', r.b)):\n        metrics.add_metric(name=name)\n"
            },
            {"One", "Two"},
        ),
        ({"obs": OBSERVABILITY, "a": "from pkg.obs import count\ncount('Imported')\n"}, {"Imported"}),
        ({"obs": OBSERVABILITY, "a": "from pkg.obs import count as tally\ntally('Renamed', 2)\n"}, {"Renamed"}),
        ({"a": "def _count(name):\n    metrics.add_metric(name=name)\n_count('Local')\n"}, {"Local"}),
        ({"a": "items.count('not a metric')\n"}, set()),
    ],
)
def test_metric_names_are_read_from_every_way_the_code_emits_them(tmp_path, modules, names):
    assert emitted_metric_names(_package(tmp_path, modules)) == names


def test_a_metric_name_that_cannot_be_read_fails_loudly(tmp_path):
    package = _package(tmp_path, {"a": "metrics.add_metric(name=compute(), unit='Count', value=1)\n"})

    with pytest.raises(UnresolvedMetricName, match="compute"):
        emitted_metric_names(package)
