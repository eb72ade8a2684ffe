"""Shared test set-up: fake AWS credentials (never real AWS), one region, wall clock restored after each test."""

import os
from typing import Any

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

from sandbox import sdk_models  # noqa: E402 - after the environment above, like every other import of the suite

sdk_models.install()  # each AWS service model parsed once per test process, not once per client

REPLAYS_FIRST = ("tests/e2e/test_faults.py", "tests/e2e/", "tests/badinput/")
"""Where the long work units are (sandbox replays), longest first: started first, they do not finish last alone."""
ONE_UNIT_PER_CASE = ("tests/e2e/test_faults.py",)
"""Modules whose cases each replay on their own (one fault mix each, the cases of one mix together): under `pytest -n`
they run on every core."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The replays first (a stable sort: each module's tests stay together, in their order)."""

    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(REPLAYS_FIRST) if item.nodeid.startswith(prefix)), len(REPLAYS_FIRST))

    items.sort(key=rank)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: half again as many workers as cores. A replay keeps about 70% of a core busy (it waits on its
    function workers' pipes and on loopback HTTP), so a third worker fills the waits; on 2 cores the suite took
    5 min 6 s with 2 workers, 4 min 43 s with 3 and 4 min 56 s with 4 (same checkout, one run each). xdist's own
    `PYTEST_XDIST_AUTO_NUM_WORKERS` still decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(2, cores * 3 // 2)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test` (`pytest -n auto`): one work unit per module, as `--dist loadfile` (a module's module-scoped
    replays then run once), except in ONE_UNIT_PER_CASE, where each fault mix is a unit; units go out in collection order
    (`--no-loadscope-reorder`)."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if module not in ONE_UNIT_PER_CASE:
                return module
            # The cases of one fault mix (its id in brackets) share a unit, so its replay runs once (`replayed`).
            return f"{module}[{nodeid.rsplit('[', 1)[1]}" if nodeid.endswith("]") else nodeid

    return ModuleScheduling(config, log)


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
