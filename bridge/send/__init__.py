"""Messages out: pace, send, retry, dead-letter."""
