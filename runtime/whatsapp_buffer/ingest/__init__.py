"""Stage 1, into the system: parse what End User Messaging delivers and store each customer message once."""
