"""Turn templates and store data into text that Telegram accepts."""
