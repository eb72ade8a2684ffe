"""The SDK's service models read once per process: every botocore session the sandbox and its tests create shares one
data loader per data path (`AWS_DATA_PATH`), so a new client does not parse its service's JSON model again.

botocore already shares a loader between the clients of one session and caches what it loads on it
(`botocore.loaders.instance_cache`); this shares it between sessions too. What a client sees is unchanged: the same
files, read by the same loader class. Never installed in the runtime: a function on Lambda keeps botocore as it is.
"""

from __future__ import annotations

import functools

from botocore import loaders, session

_create_loader = loaders.create_loader


@functools.cache
def shared_loader(search_path_string: str | None = None) -> loaders.Loader:
    """The one loader of this process for this data path."""
    return _create_loader(search_path_string)


def install() -> None:
    """From now on, every botocore session of this process takes its data loader from `shared_loader`."""
    session.create_loader = shared_loader
