"""The setup check: does the whole path work, from Telegram's chats to the store's webhooks."""
