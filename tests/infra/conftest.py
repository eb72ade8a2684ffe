"""Infra tests run the Pulumi program in-process under mocks (no CLI, no AWS) and read the declared resources."""

from __future__ import annotations

import pytest

from sandbox.program import ResourceGraph, deployed_graph


@pytest.fixture(scope="session")
def graph() -> ResourceGraph:
    """The sample stack (Pulumi.dev.yaml) as declared; tests must not mutate it."""
    return deployed_graph(stack="dev")
