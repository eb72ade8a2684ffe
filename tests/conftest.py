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
