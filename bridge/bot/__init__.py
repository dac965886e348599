"""The Telegram side: the python-telegram-bot application and the staff commands."""
