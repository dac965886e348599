"""Relay WooCommerce webhooks to Telegram chats."""

__version__ = "0.1.0"
