"""Outreach by template: a contact flow sends an approved WhatsApp template to a customer (business-initiated)."""
