"""Prompt blocklists: the shipped protected-names list, a global list (owners) and one per chat.

Entries are words or phrases, matched as whole words after `normalize` folding (so `T0m  Cru1se`
and `tomcruise` match `tom cruise`, `tomato cruiser` does not), or regular expressions written
`re:<pattern>`, searched in the folded text (`normalize(prompt)`) and in the case-folded original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from redis.asyncio import Redis

from core.moderation.normalize import normalize, phrase_key, skeletons, spans
from core.queue.connection import as_text
from core.settings import Settings

REGEX_PREFIX = "re:"
MAX_ENTRY_CHARS = 200
# A quantified group that itself contains a quantifier, e.g. (a+)+ or (\w*x)*: the classic
# catastrophic-backtracking shape. Entries come from moderators only, but one typo must not hang the bot.
_NESTED_QUANTIFIER = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")


class BlocklistError(ValueError):
    """A bad entry; the message says why."""


@dataclass(frozen=True)
class Entry:
    text: str  # as written by whoever added it
    category: str  # "protected franchise or character", "this chat's blocklist" ...
    key: str = ""  # phrase skeleton; empty for regexes
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Match:
    entry: Entry
    scope: str  # "protected", "global" or "chat"


def make_entry(text: str, category: str) -> Entry:
    """Validate and compile one entry."""
    text = text.strip()
    if not text:
        raise BlocklistError("Give a word, phrase or re:<regex> to block.")
    if len(text) > MAX_ENTRY_CHARS:
        raise BlocklistError(f"Blocklist entries may be at most {MAX_ENTRY_CHARS} characters.")
    if text.startswith(REGEX_PREFIX):
        try:
            pattern = re.compile(text[len(REGEX_PREFIX):], re.IGNORECASE)
        except re.error as exc:
            raise BlocklistError(f"That regex does not compile: {exc}.") from exc
        if _NESTED_QUANTIFIER.search(pattern.pattern):
            raise BlocklistError("That regex repeats a repeated group (like (a+)+), which can hang the bot; "
                                 "simplify it.")
        if pattern.search(""):
            raise BlocklistError("That regex matches empty text, so it would block everything.")
        return Entry(text, category, pattern=pattern)
    key = phrase_key(text)
    if len(key) < 2:
        raise BlocklistError("That entry has no letters or digits left after folding; write a word or phrase.")
    return Entry(text, category, key=key)


def load_protected(path: Path | None = None) -> tuple[Entry, ...]:
    """The protected-names list: `path`, or the one shipped in core/moderation/data."""
    if path is not None:
        return parse_list(path.read_text("utf-8"))
    return _shipped()


@lru_cache(maxsize=1)
def _shipped() -> tuple[Entry, ...]:
    return parse_list(resources.files("core.moderation").joinpath("data/protected.txt").read_text("utf-8"))


def parse_list(text: str) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    category = "protected name"
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            category = "protected " + line[1:-1].strip()
            continue
        entries.append(make_entry(line, category))
    return tuple(entries)


def find_match(prompt: str, entries: list[tuple[Entry, str]]) -> Match | None:
    """The first entry `prompt` matches, with its scope."""
    longest = max((len(e.key) for e, _ in entries), default=0) + 1  # + a plural s
    found: set[str] = set()
    for tokens in skeletons(prompt):
        found |= spans(tokens, longest)
    folded = normalize(prompt) if any(e.pattern is not None for e, _ in entries) else ""
    lowered = prompt.casefold()
    for entry, scope in entries:
        if entry.pattern is not None:
            if entry.pattern.search(folded) or entry.pattern.search(lowered):
                return Match(entry, scope)
        elif entry.key in found or entry.key + "s" in found:
            return Match(entry, scope)
    return None


class Blocklists:
    """Global and per-chat lists in Redis, plus the protected list from a file."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.protected = load_protected(settings.protected_list_file)

    def _key(self, platform: str | None, chat_id: str | None) -> str:
        if platform is None or chat_id is None:
            return self.settings.key("mod", "block", "global")
        return self.settings.key("mod", "block", platform, chat_id)

    async def add(self, text: str, platform: str | None = None, chat_id: str | None = None) -> Entry:
        """Add an entry (global when platform/chat are None); raises BlocklistError if it is bad."""
        entry = make_entry(text, "blocklist")
        key = self._key(platform, chat_id)
        if await self.redis.scard(key) >= self.settings.blocklist_max_entries:
            raise BlocklistError(
                f"This list already has {self.settings.blocklist_max_entries} entries; remove some first."
            )
        await self.redis.sadd(key, entry.text)
        return entry

    async def remove(self, text: str, platform: str | None = None, chat_id: str | None = None) -> bool:
        return bool(await self.redis.srem(self._key(platform, chat_id), text.strip()))

    async def entries(self, platform: str | None = None, chat_id: str | None = None) -> list[str]:
        raw = await self.redis.smembers(self._key(platform, chat_id))
        return sorted(as_text(r) for r in raw)

    async def check(self, prompt: str, platform: str, chat_id: str, *, protected: bool = True) -> Match | None:
        """The first entry the prompt matches: chat list, then global list, then protected names."""
        entries: list[tuple[Entry, str]] = []
        for scope, texts in (("chat", await self.entries(platform, chat_id)), ("global", await self.entries())):
            category = "this chat's blocklist" if scope == "chat" else "the global blocklist"
            for text in texts:
                try:
                    entries.append((make_entry(text, category), scope))
                except BlocklistError:
                    continue  # stored before a rule changed; never let one bad entry break checking
        if protected:
            entries += [(e, "protected") for e in self.protected]
        return find_match(prompt, entries)
