"""Lambda entry points: thin handlers that parse an event, call the runtime, and shape the response."""
