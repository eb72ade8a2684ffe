"""`python -m components.layer_wheels` downloads the SDK and media layers' wheels (the Makefile's venv step), so building
the layers (tests, `pulumi up`) needs no network; `python -m components.layer_wheels build [media]` builds the SDK (or
media) layer and prints its directory. Its own module, not `components.sdk_layer`'s `__main__`: the package imports
`sdk_layer`, and running an imported module as `__main__` runs it twice (Python warns so).
"""

from __future__ import annotations

import os
import sys

from components.sdk_layer import MEDIA, SDK


def main(argv: list[str]) -> int:
    if argv == []:
        SDK.download()
        MEDIA.download()
        return 0
    if argv[0] == "build" and len(argv) <= 2 and argv[1:] in ([], ["media"]):
        spec = MEDIA if argv[1:] == ["media"] else SDK
        print(os.path.relpath(spec.build()))
        return 0
    print("usage: python -m components.layer_wheels [build [media]]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
