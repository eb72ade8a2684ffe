"""tests/policy: the sample stack, run once under mocks for the policy tests."""

from __future__ import annotations

import pytest

from sandbox.program import ResourceGraph, run_program


@pytest.fixture(scope="session")
def sample_stack() -> ResourceGraph:
    return run_program()
