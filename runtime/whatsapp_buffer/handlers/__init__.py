"""Lambda entry points: `whatsapp_buffer.handlers.<name>.handler`. Each parses its event, calls the runtime, shapes the
response; adapters are built once per cold start from the environment (settings.py)."""
