"""Chat adapters: one package per platform (telegram, discord, web), each with a `run.ADAPTER`, over a small
shared contract: `adapter` (what the CLI discovers and starts), `replies` (one dispatch of reply-stream
events, the result buttons), `menus` (command menus from what core answers). Adapters import only core's
public names (package level), never `core.generation`."""
