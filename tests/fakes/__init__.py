"""Local stand-ins for Telegram and WooCommerce, for the tests (and the benchmarks)."""
