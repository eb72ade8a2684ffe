"""Local sandbox: the whole pipeline on loopback (moto + fakes of Connect, Connect Participant and End User Messaging Social), in virtual time."""
