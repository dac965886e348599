"""`woo-bridge demo`: the real bridge against a small stand-in for Telegram."""
