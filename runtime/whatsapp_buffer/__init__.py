"""Lambda runtime of whatsapp-buffer: ingest -> aggregator -> inbound (into Connect chat), outbound (back to
WhatsApp); outreach (templates a contact flow sends)."""
