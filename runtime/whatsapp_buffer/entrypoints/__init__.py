"""The Lambda entry modules, one per function (`whatsapp_buffer.entrypoints.<function>.handler`): parse the event,
call the use case the composition root (`bootstrap`) built, shape the response."""
