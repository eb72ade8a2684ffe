"""Stage 4, back to WhatsApp: relay what the agent sends in the chat to the customer."""
