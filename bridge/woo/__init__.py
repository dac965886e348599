"""Talk to a WooCommerce store: register and inspect the webhooks that feed the bridge."""
