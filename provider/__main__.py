"""The WhatsAppBuffer component as a Pulumi component provider, for programs in any Pulumi language.

`pulumi package add <this repository>/provider` runs this module (PulumiPlugin.yaml: `runtime: python`); Pulumi's
Python component provider host infers the package schema (type `whatsapp-buffer:index:WhatsAppBuffer`) from
WhatsAppBufferArgs' annotations and docstrings and the component's `pulumi.Output` attributes, and constructs the
component when a program declares one. The component and its Lambda code are this repository's, one folder up.
"""

import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from components import WhatsAppBuffer  # noqa: E402

PACKAGE = "whatsapp-buffer"
"""The package name: the first part of the type token, and the SDK's name (`@pulumi/whatsapp-buffer`, ...)."""
VERSION = "0.1.0"

if __name__ == "__main__":
    component_provider_host(components=[WhatsAppBuffer], name=PACKAGE, version=VERSION)
