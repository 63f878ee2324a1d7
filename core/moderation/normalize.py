"""Fold text to a matching skeleton so blocklists see through disguises and scripts.

`skeletons(text)` returns the token lists a prompt can mean: case folded, accents and zero-width
characters dropped, every script transliterated to Latin (`anyascii`), leetspeak digits read as letters,
punctuation and spacing turned into token breaks. Ambiguities give several readings:
- symbols such as `@ $ !` as letters (when a letter follows: `cru!se`) or as breaks (`wow!`);
- Cyrillic/Greek letters as Latin look-alikes (`Тоm Сruisе`, `ΜUSK`) or transliterated by sound (`Илон Маск`
  -> `ilon mask`).

Chinese, Japanese and Korean characters become one token per character, marked with a leading `~` (Han and
kana) or `` ` `` (hangul) (`皮卡丘` -> `~pi ~ka ~qiu`), because those scripts do not put spaces between
words. Runs of marked tokens are only matched against entries written in the same script, so an ordinary
Japanese sentence cannot spell a Latin entry (or a Chinese one) by accident.

The skeleton is lossy on purpose (`1`, `l`, `!` and `i` all become `i`; doubled letters collapse), and
blocklist entries go through the same folding, so both sides meet in the middle.
"""

from __future__ import annotations

import unicodedata

from anyascii import anyascii

# Prefixes of tokens transliterated from one CJK character, so `芭比` (Chinese "babi") and `바비큐` (Korean
# "barbecue") never meet: Han and kana (Japanese mixes them in one name: `ピーチ姫`), and hangul.
NATIVE_MARKS = ("~", "`")
NATIVE = NATIVE_MARKS[0]
_NATIVE_START = "\x01"  # in the folded text: a mark and a CJK character's transliteration follow, up to a space
# Capital Greek and Cyrillic letters that look like Latin capitals: folded before case folding, because
# lower-casing changes their shape (capital Mu `Μ` looks like M, its lower case `μ` like u).
CAPITAL_HOMOGLYPHS = {
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n", "Ο": "o",
    "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c", "Т": "t",
    "Х": "x", "Ѕ": "s", "І": "i", "Ј": "j",
}
# Cyrillic and Greek letters that look like Latin ones (after case folding).
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ո": "n", "ս": "u", "г": "r", "п": "n", "и": "u", "з": "3", "ь": "b",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "s", "σ": "o", "ϲ": "c", "ϳ": "j",
}
# Latin letters NFKD does not decompose; always folded (they are spellings, not look-alikes).
LATIN_EXTRA = {"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "æ": "ae", "œ": "oe", "þ": "th"}
# Digits read as letters (always: inside prompts they are rare in names we protect).
LEET_DIGITS = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g"}
# Symbols read as letters only in the "symbols are letters" reading.
LEET_SYMBOLS = {"@": "a", "$": "s", "!": "i", "|": "i", "+": "t", "€": "e", "£": "l", "¡": "i"}
# Letters merged in the skeleton because leetspeak makes them interchangeable.
MERGE = {"l": "i"}
_SKIP = frozenset(("Mn", "Me", "Cf", "Cc", "Co", "Cs", "Cn"))  # accents, zalgo marks, zero-width, bidi


def _cjk_mark(ch: str) -> str:
    """The mark of a Han, kana or hangul character (scripts written without spaces), else ''."""
    o = ord(ch)
    if 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F:
        return NATIVE_MARKS[0]
    if 0x3040 <= o <= 0x30FF or 0xFF66 <= o <= 0xFF9F:
        return NATIVE_MARKS[0]
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return NATIVE_MARKS[1]
    return ""


def is_native(token: str) -> bool:
    return token[:1] in NATIVE_MARKS


def _fold(text: str, lookalikes: bool) -> str:
    """Case-fold, drop accents and invisible characters, transliterate every script to ASCII.

    NFKD maps fullwidth and maths letters to plain ones; it runs per character, after the CJK check, so
    composed hangul syllables and voiced kana reach `anyascii` whole.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if mark := _cjk_mark(ch):
            out.append(_NATIVE_START + mark + anyascii(ch).lower() + " ")
            continue
        for c in unicodedata.normalize("NFKD", ch):
            if lookalikes and c in CAPITAL_HOMOGLYPHS:
                out.append(CAPITAL_HOMOGLYPHS[c])
                continue
            # Case folding can produce new composed forms (and math capitals only fold once decomposed).
            for d in unicodedata.normalize("NFKD", c.casefold()):
                if unicodedata.category(d) in _SKIP:
                    continue
                if lookalikes and d in HOMOGLYPHS:
                    out.append(HOMOGLYPHS[d])
                elif d in LATIN_EXTRA:
                    out.append(LATIN_EXTRA[d])
                elif d.isascii():
                    out.append(d)
                else:
                    out.append(anyascii(d).lower())
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
        if ch == _NATIVE_START:
            if current:
                tokens.append("".join(current))
            current = []
        elif ch in NATIVE_MARKS and not current:
            current = [ch]
        elif ch in LEET_DIGITS:
            current.append(LEET_DIGITS[ch])
        elif symbols_are_letters and ch in LEET_SYMBOLS and (nxt.isalnum() or nxt in LEET_SYMBOLS):
            # Only inside a word: a trailing `!` is punctuation, `cru!se` is a letter.
            current.append(LEET_SYMBOLS[ch])
        elif ch.isalnum():
            current.append(ch)
        elif current:
            if len(current) > 1 or not is_native(current[0]):
                tokens.append("".join(current))
            current = []
    if current and (len(current) > 1 or not is_native(current[0])):
        tokens.append("".join(current))
    return tokens


def skeletons(text: str) -> list[list[str]]:
    """The distinct token readings of `text` (one to four), raw (not yet collapsed)."""
    readings: list[list[str]] = []
    for lookalikes in (True, False):
        folded = _fold(text, lookalikes)
        for symbols in (True, False):
            tokens = _tokens(folded, symbols)
            if tokens not in readings:
                readings.append(tokens)
    return readings


def normalize(text: str) -> str:
    """A single readable skeleton (look-alikes and symbols as letters): for regex entries, listings and tests."""
    return " ".join(_collapse(t) for t in skeletons(text)[0])


def phrase_key(phrase: str) -> str:
    """The key a blocklist phrase is matched by: its skeleton with the spaces removed.

    Entries are read by sound (no look-alike folding: an entry in Cyrillic is Russian) with symbols as breaks.
    A phrase in CJK script gives a `~`-marked key; a phrase mixing it with other scripts keeps only the rest.
    """
    tokens = _tokens(_fold(phrase, False), False)
    marks = {t[0] for t in tokens if is_native(t)}
    if len(marks) == 1 and all(is_native(t) for t in tokens):
        return marks.pop() + _collapse("".join(t[1:] for t in tokens))
    return _collapse("".join(t for t in tokens if not is_native(t)))


def name_tokens(phrase: str) -> tuple[str, ...]:
    """A name's collapsed tokens (its words), for order-free matching of people's names."""
    return tuple(_collapse(t) for t in _tokens(_fold(phrase, False), False) if not is_native(t))


def _join(left: str, right: str) -> str:
    """Join two collapsed strings, collapsing a repeat across the seam."""
    return left + right[1:] if left and right and left[-1] == right[0] else left + right


def collapsed(tokens: list[str]) -> list[str]:
    return [_collapse(t) for t in tokens]


def spans(tokens: list[str], max_len: int) -> set[str]:
    """Every run of whole tokens of one kind (Latin, or one CJK mark), joined and collapsed, up to `max_len` chars.

    Matching whole runs keeps `tomato cruiser` clear of `tom cruise`, while joining tokens catches
    `tomcruise`, `t o m c r u i s e` and `tom cru ise`. Built once per prompt, then each entry is one lookup.
    """
    toks = collapsed(tokens)
    out: set[str] = set()
    for i in range(len(toks)):
        mark = toks[i][0] if is_native(toks[i]) else ""
        joined = ""
        for tok in toks[i:]:
            if (tok[0] if is_native(tok) else "") != mark:
                break
            joined = _join(joined, tok[1:] if mark else tok)
            if len(joined) > max_len:
                break
            out.add(mark + joined)
    return out
