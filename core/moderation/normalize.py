"""Fold text to a matching skeleton so blocklists see through disguises.

`skeletons(text)` returns the token lists a prompt can mean: case folded, accents and zero-width
characters dropped, Cyrillic/Greek look-alikes mapped to Latin, leetspeak digits read as letters,
punctuation and spacing turned into token breaks. Symbols such as `@ $ !` are ambiguous (`cru!se` vs
`wow!`), so there are two readings: one with them as letters (when a letter follows), one with
them as breaks.

The skeleton is lossy on purpose (`1`, `l`, `!` and `i` all become `i`; doubled letters collapse), and
blocklist entries go through the same folding, so both sides meet in the middle.
"""

from __future__ import annotations

import unicodedata

# Cyrillic and Greek letters that look like Latin ones (after case folding).
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ո": "n", "ս": "u", "г": "r", "п": "n", "и": "u", "з": "3", "ь": "b",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "s", "σ": "o", "ϲ": "c", "ϳ": "j",
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th",
}
# Digits read as letters (always: inside prompts they are rare in names we protect).
LEET_DIGITS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g"}
# Symbols read as letters only in the "symbols are letters" reading.
LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "i", "+": "t", "€": "e", "£": "l", "¡": "i"}
# Letters merged in the skeleton because leetspeak makes them interchangeable.
MERGE = {"l": "i"}


def _fold(text: str) -> str:
    """Case-fold, strip accents (NFKD also maps fullwidth and math letters) and invisible characters."""
    # NFKD before and after folding: math/fullwidth letters only fold once decomposed.
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Mn", "Me", "Cf", "Cc", "Co", "Cs", "Cn"):
            continue  # accents, zalgo marks, zero-width and bidi controls
        out.append(HOMOGLYPHS.get(ch, ch))
    return "".join(out)


def _collapse(word: str) -> str:
    """Merge look-alike letters and collapse repeats: `tooom` and `tom` meet."""
    out: list[str] = []
    for ch in word:
        ch = MERGE.get(ch, ch)
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


def _tokens(folded: str, symbols_are_letters: bool) -> list[str]:
    tokens: list[str] = []
    current: list[str] = []
    for i, ch in enumerate(folded):
        nxt = folded[i + 1] if i + 1 < len(folded) else " "
        if ch in LEET_DIGITS:
            current.append(LEET_DIGITS[ch])
        elif symbols_are_letters and ch in LEET_SYMBOLS and (nxt.isalnum() or nxt in LEET_SYMBOLS):
            # Only inside a word: a trailing `!` is punctuation, `cru!se` is a letter.
            current.append(LEET_SYMBOLS[ch])
        elif ch.isalnum():
            current.append(ch)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


def skeletons(text: str) -> list[list[str]]:
    """The distinct token readings of `text` (one or two), raw (not yet collapsed)."""
    folded = _fold(text)
    readings = [_tokens(folded, True), _tokens(folded, False)]
    return [readings[0]] if readings[0] == readings[1] else readings


def normalize(text: str) -> str:
    """A single readable skeleton (symbols as letters): for regex entries, listings and tests."""
    return " ".join(_collapse(t) for t in skeletons(text)[0])


def phrase_key(phrase: str) -> str:
    """The key a blocklist phrase is matched by: its skeleton with the spaces removed."""
    return _collapse("".join(skeletons(phrase)[-1]))


def _join(left: str, right: str) -> str:
    """Join two collapsed strings, collapsing a repeat across the seam."""
    return left + right[1:] if left and right and left[-1] == right[0] else left + right


def spans(tokens: list[str], max_len: int) -> set[str]:
    """Every run of whole tokens, joined and collapsed, up to `max_len` characters.

    Matching whole runs keeps `tomato cruiser` clear of `tom cruise`, while joining tokens catches
    `tomcruise`, `t o m c r u i s e` and `tom cru ise`. Built once per prompt, then each entry is one lookup.
    """
    collapsed = [_collapse(t) for t in tokens]
    out: set[str] = set()
    for i in range(len(collapsed)):
        joined = ""
        for tok in collapsed[i:]:
            joined = _join(joined, tok)
            if len(joined) > max_len:
                break
            out.add(joined)
    return out

