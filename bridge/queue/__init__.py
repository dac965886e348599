"""The durable queue between WooCommerce's webhooks and Telegram."""
