"""The local web playground (aiohttp): the owner's console, speaking the same commands as the chat bots."""
