"""Local fakes of the AWS services moto does not serve, or serves short of what the stack needs: Amazon Connect chat,
Connect Participant, End User Messaging Social (its number and template lookups in `templates`) and Amazon
Transcribe's batch jobs, one backend each (`connect`, `participant`, `socialmessaging`, `transcribe`, over the chat
state in `chat`), behind one dispatcher (`services.FakeServices`) that serves them over HTTP for the sandbox and
in-process for the unit tests (`transport`); `rest_json` is the wire protocol they speak, `records` what they remember
for the sandbox and the tests. Every rule a backend enforces names its source in its docstring and has a test in
`tests/contract/`.
"""

from sandbox.fakes.services import FakeServices

__all__ = ["FakeServices"]
