"""tests/policy: the sample stack, run once under mocks for the policy tests."""

from __future__ import annotations

import pytest

from sandbox.program import ResourceGraph, deployed_graph


@pytest.fixture(scope="session")
def sample_stack() -> ResourceGraph:
    return deployed_graph(stack="dev")
