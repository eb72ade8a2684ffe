"""Stage 3, into Amazon Connect: start or reuse the conversation's chat and deliver a burst's items to it."""
