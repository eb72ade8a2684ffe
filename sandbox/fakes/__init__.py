"""Local fakes of the AWS services moto does not serve: Amazon Connect chat, Connect Participant and End User
Messaging Social, one backend each (`connect`, `participant`, `socialmessaging`, over the chat state in `chat`),
behind one dispatcher (`services.FakeServices`) that serves them over HTTP for the sandbox and in-process for the unit
tests; `rest_json` is the wire protocol they speak. Every rule a backend enforces names its source in its docstring
and has a test in `tests/contract/`.
"""

from sandbox.fakes.services import FakeServices

__all__ = ["FakeServices"]
