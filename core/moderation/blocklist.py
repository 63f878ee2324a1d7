"""Prompt blocklists: the shipped protected-names list, a global list (owners) and one per chat.

Entries are words or phrases, matched as whole words after `normalize` folding (so `T0m  Cru1se`,
`tomcruise` and `Том Круз` written in the list as an alias match `tom cruise`; `tomato cruiser` does not),
or regular expressions written `re:<pattern>`, searched in the folded text (`normalize(prompt)`) and in the
case-folded original. Beyond exact skeletons:
- aliases: a list line `entry | alias | alias` (any script) matches any of them, reported as `entry`;
- fuzzy: a key of `FUZZY_MIN_CHARS`+ skeleton letters also matches a run of the prompt within one edit
  (two from `FUZZY_TWO_EDITS_CHARS` letters) that starts with the same letter (`pikachoo`, `elon mask`),
  unless the run is one of the entry's exceptions (`minecraft | !minecart`: real words that happen to be close);
- names: in a section marked `; names` (`[public figure; names]`) a multi-word entry also matches its
  words in any order within a small window, so initials and middle names may sit between them
  (`musk elon`, `elon r. musk`, `donald j trump`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist
from redis.asyncio import Redis

from core.i18n import _
from core.moderation.normalize import collapsed, is_native, name_tokens, normalize, phrase_key, skeletons, spans
from core.queue.connection import as_text
from core.settings import Settings

REGEX_PREFIX = "re:"
MAX_ENTRY_CHARS = 200
# A quantified group that itself contains a quantifier, e.g. (a+)+ or (\w*x)*: the classic
# catastrophic-backtracking shape. Entries come from moderators only, but one typo must not hang the bot.
_NESTED_QUANTIFIER = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")
ALIAS_SEPARATOR = "|"
EXCEPTION_PREFIX = "!"
NAMES_MARK = "names"  # section option: the entries are people's names (order-free, initials allowed)
FUZZY_MIN_CHARS = 7  # skeleton letters (after doubled letters collapse: `pikachu`, `eionmusk`)
FUZZY_MAX_EDITS = 2  # from FUZZY_TWO_EDITS_CHARS letters on; one edit below that
FUZZY_TWO_EDITS_CHARS = 10
NAME_SLACK = 2  # extra words (initials, middle names) allowed among a name's words


class BlocklistError(ValueError):
    """A bad entry; the message says why."""


@dataclass(frozen=True)
class Entry:
    text: str  # as written by whoever added it
    category: str  # "protected franchise or character", "this chat's blocklist" ...
    key: str = ""  # phrase skeleton; empty for regexes
    pattern: re.Pattern[str] | None = None
    keys: tuple[str, ...] = ()  # the entry's and its aliases' skeletons (marked for CJK ones)
    names: tuple[tuple[str, ...], ...] = ()  # multi-word names matched in any order (names sections only)
    exceptions: frozenset[str] = frozenset()  # skeletons fuzzy matching must not take for this entry


@dataclass(frozen=True)
class Match:
    entry: Entry
    scope: str  # "protected", "global" or "chat"


def _key(text: str) -> str:
    key = phrase_key(text)
    if not is_native(key) and any(is_native(t) for r in skeletons(text) for t in r):
        raise BlocklistError(_("Write an entry in one script: CJK characters and Latin letters are matched apart "
                               "(give each as its own alias)."))
    if len(key[1:] if is_native(key) else key) < 2:
        raise BlocklistError(_("That entry has no letters or digits left after folding; write a word or phrase."))
    return key


def make_entry(text: str, category: str, aliases: tuple[str, ...] = (), exceptions: tuple[str, ...] = (),
               names: bool = False) -> Entry:
    """Validate and compile one entry (with its aliases and fuzzy exceptions, from a list line)."""
    text = text.strip()
    if not text:
        raise BlocklistError(_("Give a word, phrase or re:<regex> to block."))
    if len(text) > MAX_ENTRY_CHARS:
        raise BlocklistError(_("Blocklist entries may be at most {n} characters.", n=MAX_ENTRY_CHARS))
    if text.startswith(REGEX_PREFIX):
        try:
            pattern = re.compile(text[len(REGEX_PREFIX):], re.IGNORECASE)
        except re.error as exc:
            raise BlocklistError(_("That regex does not compile: {error}.", error=exc)) from exc
        if _NESTED_QUANTIFIER.search(pattern.pattern):
            raise BlocklistError(_("That regex repeats a repeated group (like (a+)+), which can hang the bot; "
                                   "simplify it."))
        if pattern.search(""):
            raise BlocklistError(_("That regex matches empty text, so it would block everything."))
        return Entry(text, category, pattern=pattern)
    key = _key(text)
    keys = tuple(dict.fromkeys([key, *(_key(a) for a in aliases)]))
    people = tuple(t for t in dict.fromkeys(name_tokens(p) for p in (text, *aliases)) if len(t) > 1) if names else ()
    return Entry(text, category, key=key, keys=keys, names=people,
                 exceptions=frozenset(phrase_key(x) for x in exceptions))


def parse_line(line: str, category: str, names: bool = False) -> Entry:
    """`entry | alias | !exception ...` -> an Entry (a line without `|` is a plain entry)."""
    if line.startswith(REGEX_PREFIX):
        return make_entry(line, category)
    parts = [p.strip() for p in line.split(ALIAS_SEPARATOR)]
    aliases = tuple(p for p in parts[1:] if p and not p.startswith(EXCEPTION_PREFIX))
    exceptions = tuple(p[1:] for p in parts[1:] if p.startswith(EXCEPTION_PREFIX))
    return make_entry(parts[0], category, aliases, exceptions, names)


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
    category, names = "protected name", False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            title, _sep, options = line[1:-1].partition(";")
            category, names = "protected " + title.strip(), NAMES_MARK in options.split()
            continue
        entries.append(parse_line(line, category, names))
    return tuple(entries)


def _entry_keys(entry: Entry) -> tuple[str, ...]:
    return entry.keys or (entry.key,)


@dataclass(frozen=True)
class _Index:
    """What matching needs from a list of entries, precomputed once per list."""

    longest: int
    by_key: dict[str, int]  # skeleton -> index of the first entry with it
    fuzzy_keys: list[str]
    fuzzy_owner: np.ndarray  # entry index of each fuzzy key
    names: list[tuple[int, tuple[str, ...]]]


def _index(entries: list[tuple[Entry, str]]) -> _Index:
    by_key: dict[str, int] = {}
    fuzzy_keys: list[str] = []
    owners: list[int] = []
    names: list[tuple[int, tuple[str, ...]]] = []
    for i, (entry, _scope) in enumerate(entries):
        if entry.pattern is not None:
            continue
        for key in _entry_keys(entry):
            by_key.setdefault(key, i)
            if not is_native(key) and len(key) >= FUZZY_MIN_CHARS:
                fuzzy_keys.append(key)
                owners.append(i)
        names += [(i, name) for name in entry.names]
    longest = max((len(k) for k in by_key), default=0) + FUZZY_MAX_EDITS + 1  # + a plural s or a typo
    return _Index(longest, by_key, fuzzy_keys, np.array(owners, dtype=np.int64), names)


_INDEX_CACHE: dict[int, tuple[list[tuple[Entry, str]], _Index]] = {}


def _cached_index(entries: list[tuple[Entry, str]]) -> _Index:
    # The protected and NSFW lists are the same objects call after call; chat lists are rebuilt (and small).
    hit = _INDEX_CACHE.get(id(entries))
    if hit is not None and hit[0] is entries:
        return hit[1]
    return _index(entries)


def index_for(entries: list[tuple[Entry, str]]) -> list[tuple[Entry, str]]:
    """Precompute matching for a list that will be checked many times (keep the returned list)."""
    if len(_INDEX_CACHE) > 16:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[id(entries)] = (entries, _index(entries))
    return entries


def _name_in(name: tuple[str, ...], tokens: list[str], positions: dict[str, list[int]]) -> bool:
    """Whether `name`'s words occur in order with initials or one middle name between them, or reversed.

    `elon r. musk`, `donald john trump` and `musk elon` match; `a bill at the gates` does not.
    """
    if any(w not in positions for w in name):
        return False
    for start in positions[name[0]]:
        pos, ok = start, True
        for word in name[1:]:
            nxt = [p for p in positions[word] if p > pos and _skippable(tokens[pos + 1:p])]
            if not nxt:
                ok = False
                break
            pos = nxt[0]
        if ok:
            return True
    # Surname first (`musk elon`, `trump, donald`): the words reversed and adjacent.
    rev = name[::-1]
    return any(all(p + j in positions[w] for j, w in enumerate(rev) if j) for p in positions[rev[0]]
               if all(p + j < len(tokens) for j in range(len(rev))))


def _skippable(between: list[str]) -> bool:
    """What may sit between a name's words: up to NAME_SLACK initials, or one middle name."""
    return len(between) <= 1 or (len(between) <= NAME_SLACK and all(len(t) == 1 for t in between))


def find_match(prompt: str, entries: list[tuple[Entry, str]]) -> Match | None:
    """The first entry `prompt` matches, with its scope (exact skeletons, then names, then fuzzy)."""
    index = _cached_index(entries)
    found: set[str] = set()
    readings = skeletons(prompt)
    for tokens in readings:
        found |= spans(tokens, index.longest)
    hits = [index.by_key[k] for s in found for k in (s, s[:-1] if s.endswith("s") else "") if k in index.by_key]
    folded = normalize(prompt) if any(e.pattern is not None for e, _ in entries) else ""
    lowered = prompt.casefold()
    for i, (entry, _scope) in enumerate(entries):
        if entry.pattern is not None and (entry.pattern.search(folded) or entry.pattern.search(lowered)):
            hits.append(i)
    if hits:
        entry, scope = entries[min(hits)]
        return Match(entry, scope)
    if index.names:
        for tokens in readings:
            positions: dict[str, list[int]] = {}
            toks = collapsed(tokens)
            for pos, tok in enumerate(toks):
                positions.setdefault(tok, []).append(pos)
                if tok.endswith("s"):
                    positions.setdefault(tok[:-1], []).append(pos)  # a possessive or plural
            for i, name in index.names:
                if _name_in(name, toks, positions):
                    return Match(*entries[i])
    return _fuzzy(found, entries, index)


def _fuzzy(found: set[str], entries: list[tuple[Entry, str]], index: _Index) -> Match | None:
    """Runs of the prompt within one or two edits of a long key, with the same first letter (one cdist call)."""
    if not index.fuzzy_keys:
        return None
    candidates = [s for s in found if not is_native(s) and len(s) >= FUZZY_MIN_CHARS - FUZZY_MAX_EDITS]
    if not candidates:
        return None
    distances = cdist(index.fuzzy_keys, candidates, scorer=Levenshtein.distance, score_cutoff=FUZZY_MAX_EDITS,
                      dtype=np.int32)
    best: int | None = None
    for k, c in np.argwhere(distances <= FUZZY_MAX_EDITS):
        key, text, owner = index.fuzzy_keys[k], candidates[c], int(index.fuzzy_owner[k])
        allowed = FUZZY_MAX_EDITS if len(key) >= FUZZY_TWO_EDITS_CHARS else 1
        if distances[k, c] > allowed or key[0] != text[0] or text in entries[owner][0].exceptions:
            continue
        if best is not None and owner >= best:
            continue
        best = owner
    return None if best is None else Match(*entries[best])


class Blocklists:
    """Global and per-chat lists in Redis, plus the protected list from a file."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self.protected = load_protected(settings.protected_list_file)
        self._protected = index_for([(e, "protected") for e in self.protected])

    def _key(self, platform: str | None, chat_id: str | None) -> str:
        if platform is None or chat_id is None:
            return self.settings.key("mod", "block", "global")
        return self.settings.key("mod", "block", platform, chat_id)

    async def add(self, text: str, platform: str | None = None, chat_id: str | None = None) -> Entry:
        """Add an entry (global when platform/chat are None); raises BlocklistError if it is bad."""
        entry = make_entry(text, "blocklist")
        key = self._key(platform, chat_id)
        if await self.redis.scard(key) >= self.settings.blocklist_max_entries:
            raise BlocklistError(_("This list already has {n} entries; remove some first.",
                                   n=self.settings.blocklist_max_entries))
        await self.redis.sadd(key, entry.text)
        return entry

    async def remove(self, text: str, platform: str | None = None, chat_id: str | None = None) -> bool:
        return bool(await self.redis.srem(self._key(platform, chat_id), text.strip()))

    async def entries(self, platform: str | None = None, chat_id: str | None = None) -> list[str]:
        raw = await self.redis.smembers(self._key(platform, chat_id))
        return sorted(as_text(r) for r in raw)

    async def check(self, prompt: str | list[str], platform: str, chat_id: str, *,
                    protected: bool = True) -> Match | None:
        """The first entry a text matches: chat list, then global list, then protected names.

        `prompt` may be every text of one request (prompt, negative prompt, captions): each is checked on its
        own, so words of two fields never join into a name.
        """
        texts = [prompt] if isinstance(prompt, str) else [t for t in prompt if t.strip()]
        entries: list[tuple[Entry, str]] = []
        for scope, stored in (("chat", await self.entries(platform, chat_id)), ("global", await self.entries())):
            category = "this chat's blocklist" if scope == "chat" else "the global blocklist"
            for text in stored:
                try:
                    entries.append((make_entry(text, category), scope))
                except BlocklistError:
                    continue  # stored before a rule changed; never let one bad entry break checking
        for text in texts:
            if entries and (match := find_match(text, entries)) is not None:
                return match
        if protected:
            for text in texts:
                if (match := find_match(text, self._protected)) is not None:
                    return match
        return None
