"""The Discord adapter (discord.py): slash commands, context menus and buttons in, reply-stream events out."""
