"""What the docs say about the deployed stack — how many alarms, which outputs — is what the program declares (the
Pulumi program under mocks, no AWS)."""

from __future__ import annotations

import re

import pytest
from doc_pages import DOCS, README, section, table_first_column

from sandbox.program import deployed_graph

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
STATED = re.compile(r"Every stack creates (\d+) CloudWatch alarms \((\d+) on a stack that transcribes\)")
OPERATIONS = DOCS / "operations.md"


def alarm_names(config: dict[str, str]) -> set[str]:
    graph = deployed_graph(config, stack="dev")
    return {a.inputs["name"].removeprefix("whatsapp-buffer-dev-") for a in graph.by_type(ALARM)}


@pytest.fixture(scope="module")
def alarms() -> dict[str, set[str]]:
    return {"plain": alarm_names({}), "transcribing": alarm_names({"transcribeLanguages": "en-US"})}


@pytest.mark.parametrize("page", [README, OPERATIONS], ids=lambda p: p.name)
def test_the_alarm_count_a_page_states_is_what_the_program_creates(page, alarms):
    stated = STATED.search(" ".join(page.read_text().split()))

    assert stated is not None, f"{page.name} does not say how many alarms a stack has"
    assert (int(stated[1]), int(stated[2])) == (len(alarms["plain"]), len(alarms["transcribing"]))


def test_the_runbook_has_an_entry_for_every_alarm(alarms):
    documented = set(re.findall(r"`<prefix>-([a-z-]+)`", OPERATIONS.read_text()))

    assert alarms["transcribing"] - documented == set()


def test_the_component_page_lists_exactly_the_stack_outputs():
    graph = deployed_graph({"alarmEmail": "ops@example.com"}, stack="dev")
    cells = table_first_column(section(DOCS / "component.md", "## Outputs"))
    documented = {name for cell in cells for name in re.findall(r"`([A-Za-z]+)`", cell)}

    assert documented == set(graph.stack_outputs)
