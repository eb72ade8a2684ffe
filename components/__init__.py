"""The Pulumi program's building blocks: WhatsAppBuffer, the whole bridge as one component, composed of one
ComponentResource per stage (Ingest, Aggregator, Inbound, Outbound, Outreach) and the small helpers they share."""

from components.whatsapp_buffer import WhatsAppBuffer, WhatsAppBufferArgs

__all__ = ["WhatsAppBuffer", "WhatsAppBufferArgs"]
