"""The Telegram adapter (python-telegram-bot): chat commands and buttons in, reply-stream events out."""
