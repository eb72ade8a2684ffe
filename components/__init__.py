"""The Pulumi program's building blocks: WhatsAppBuffer, the whole bridge as one component, composed of three
ComponentResources (BufferedIngest, StreamAggregator, ConnectBridge) and the small helpers they share."""

from components.whatsapp_buffer import WhatsAppBuffer, WhatsAppBufferArgs

__all__ = ["WhatsAppBuffer", "WhatsAppBufferArgs"]
