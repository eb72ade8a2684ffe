"""Where a stack is deployed: project, stack, account, region. Names and ARNs derive from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class StackContext:
    project: str
    stack: str
    account_id: str
    region: str
    partition: str = "aws"
    name_prefix: str = ""
    """Set when a stack holds more than one bridge: `support` names everything `<project>-<stack>-support-…`."""

    @property
    def prefix(self) -> str:
        """What every physical name of this bridge starts with: `<project>-<stack>`, then `-<name_prefix>` if set."""
        return f"{self.project}-{self.stack}" + (f"-{self.name_prefix}" if self.name_prefix else "")

    @property
    def service_name(self) -> str:
        """Powertools' service name of the bridge's functions: the `service` dimension of their metrics."""
        return self.prefix

    def physical_name(self, suffix: str, max_length: int = 64) -> str:
        """`<prefix>-<suffix>` for resources AWS needs named up front; two stacks (or two bridges of one stack, by
        their name prefixes) never share one.

        Too long for the service's limit, the prefix is shortened and a hash of the full name keeps it unique.
        """
        full = f"{self.prefix}-{suffix}"
        if len(full) <= max_length:
            return full
        digest = hashlib.sha256(full.encode()).hexdigest()[:8]
        prefix = self.prefix[: max_length - len(suffix) - len(digest) - 2]
        return f"{prefix}-{digest}-{suffix}"

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this stack's partition and account, e.g. `arn(\"connect\", \"instance/<id>\")`."""
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account_id}:{resource}"
