"""Local fakes of AWS services that moto does not serve.

`FakeAws` (= `sandbox.fake_services.FakeServices`) is Connect chat + Connect Participant + End User Messaging Social on
one loopback port; `rest_json` is the wire protocol it speaks.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # Imported on first use: sandbox.fake_services itself imports sandbox.fakes.rest_json.
    if name in ("FakeAws", "FakeServices"):
        from sandbox.fake_services import FakeServices

        return FakeServices
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
