"""A program that extends WhatsAppBuffer and builds its subclass from the settings it validated, as `__main__.py`
builds WhatsAppBuffer itself."""

import pulumi

from components import WhatsAppBuffer
from components.stack_config import CONFIG_KEYS, parse_settings


class ExtendedBridge(WhatsAppBuffer):
    """A bridge whose own `__init__` exports the setting it was given."""

    def __init__(self, name, args, opts=None, **options):
        super().__init__(name, args, opts, **options)
        pulumi.export("extendedBufferSeconds", args["buffer_seconds"])


config = pulumi.Config()
ExtendedBridge.from_settings("whatsapp-buffer", parse_settings({key: config.get(key) for key in CONFIG_KEYS}))
