"""Gap filling: orders WooCommerce never delivered, found through its REST API, and the
watchdog that keeps the store's webhooks active."""
