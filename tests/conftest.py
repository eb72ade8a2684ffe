"""Shared test set-up: fake AWS credentials (never real AWS), one region, wall clock restored after each test."""

import os

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "WhatsAppBufferTest",
        "POWERTOOLS_SERVICE_NAME": "whatsapp-buffer-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_PROFILE", None)

REPLAYS_FIRST = ("tests/e2e/test_faults.py", "tests/e2e/", "tests/badinput/")
"""Where the long work units are (sandbox replays), longest first: started first, they do not finish last alone."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs `pytest -n auto --dist loadgroup`: a module is one work unit, so that its module-scoped set-ups
    run once, unless its tests name their own `xdist_group` (test_faults: one replay each); the units run in the
    order collected, replays first."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))

    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(REPLAYS_FIRST) if item.nodeid.startswith(prefix)), len(REPLAYS_FIRST))

    items.sort(key=rank)


@pytest.fixture(autouse=True)
def _wall_clock_after_each_test():
    yield
    from whatsapp_buffer import clock

    clock.reset()


try:
    from hypothesis import settings

    # CI replays the same examples every run (a red build is then reproducible); locally each run explores anew.
    # No deadline: a loaded 2-core machine is not a property violation.
    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
except ImportError:  # pragma: no cover - hypothesis is in requirements.txt
    pass
