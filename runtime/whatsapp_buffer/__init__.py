"""Lambda runtime of whatsapp-buffer: ingest -> aggregate (debounce, merge) -> Connect bridge."""
