"""Local sandbox: the whole pipeline on loopback (moto + fakes of Connect, Connect Participant and End User Messaging Social), in virtual time."""

from sandbox import sdk_models

sdk_models.install()  # each service model parsed once per process (workers, replays, tests), not once per client
