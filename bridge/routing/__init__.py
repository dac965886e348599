"""From events to messages: which chats get what."""
