"""Text normalisation for matching, with a map back to the original character offsets.

Matching a statement against a passage needs both sides in one form: NFKC (full-width
letters, ligatures, composed Vietnamese letters whether the source typed them precomposed
or as base letter + combining marks), casefold, and one kind of quote and dash. Evidence
spans must still point into the original text, so ``normalize`` keeps, for every output
character, the original span it came from.

Words are compared by ``word_key``: Vietnamese writes the tone mark of "oa", "oe" and "uy"
in two styles ("hòa" and "hoà", "thủy" and "thuỷ"); the key moves tone marks to the end of
the word so both styles meet, while vowel-quality marks (â, ă, ê, ô, ơ, ư, đ) stay, since
they make different words. Numbers are keyed by their digits alone, so "1,000", "1.000"
and "1000" meet ("2,5" and "2.5" too); a number must then match exactly. A number followed by
a scale word is one number whatever the language: "30 million", "30 triệu" and "30 millions"
are all keyed "30e6" (the passage also offers the bare "30", which a statement may quote).
Small numbers written as words ("six", "neuf", "bốn") stay words, but ``spelled_number`` gives
their digits, so a passage's "six to nine percent" can support "6 to 9 percent"; followed by a
scale word they are one number ("mười triệu" is "10e6", like "10 triệu"). Words that are more often
something else are not numbers ("one", "un", "một" are articles, "năm" is also "year").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_UNIFY = str.maketrans({**{c: "'" for c in "‘’‚‛′`´ʼ"}, **{c: '"' for c in "“”„‟«»″"},
                        **{c: "-" for c in "‐‑‒–—―−"}, "\u00a0": " ", "\u202f": " "})
# Vietnamese tone marks (combining): grave, acute, tilde, hook above, dot below.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
# Numbers: "10 000" (French groups digits with a space), "10.000", "10,000", "2,5"; then words.
_TOKEN = re.compile(r"\d{1,3}(?: \d{3})+(?![\d.,]\d)|\d+(?:[.,]\d+)*|\w+")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # a number as written in one piece
# Month names as the numbers other languages write ("May 2023" = "5/2023" = "tháng 5 năm 2023"
# = "tháng Năm 2023").
# English ones count only capitalised ("may" is a verb); French ones are lowercase words.
_MONTHS_EN = ("January February March April May June July August September October November December").split()
_MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
_MONTHS_VI = {"giêng": 1, "một": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8,
              "chín": 9, "mười": 10, "mười một": 11, "mười hai": 12, "chạp": 12}
_MONTH_VI = re.compile(r"(?i:\btháng\s+(" + "|".join(sorted(_MONTHS_VI, key=len, reverse=True)) + r")\b)")
_MONTH = re.compile(r"\b(" + "|".join(_MONTHS_EN + [m[:3] + r"\." for m in _MONTHS_EN if len(m) > 4]) + r")(?!\w)|"
                    r"(?i:\b(" + "|".join(_MONTHS_FR) + r")\b)")


# Scale words after a number, by language (en, fr, vi): their power of ten.
_SCALES = {"thousand": 3, "thousands": 3, "mille": 3, "nghìn": 3, "ngàn": 3,
           "million": 6, "millions": 6, "triệu": 6,
           "billion": 9, "billions": 9, "milliard": 9, "milliards": 9, "tỷ": 9, "tỉ": 9}


# Number words and their digits, by language (en, fr, vi). Single words only: compounds
# ("twenty-five", "hai mươi") are not read as numbers.
_SPELLED = {
    **dict(zip("two three four five six seven eight nine ten eleven twelve".split(), range(2, 13))),
    **dict(zip("twenty thirty forty fifty sixty seventy eighty ninety".split(), range(20, 100, 10))),
    **dict(zip("deux trois quatre cinq six sept huit neuf dix onze douze".split(), range(2, 13))),
    **dict(zip("vingt trente quarante cinquante soixante".split(), range(20, 70, 10))),
    **dict(zip("hai ba bốn sáu bảy tám chín mười".split(), (2, 3, 4, 6, 7, 8, 9, 10))),
}


@dataclass(frozen=True)
class Normalized:
    """``text`` normalised; ``starts[i]``/``ends[i]`` is the original span of its character i."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the normalised slice ``[start, end)`` (which must not be empty)."""
        return self.starts[start], self.ends[end - 1]


def normalize(text: str) -> Normalized:
    """NFKC + casefold + unified quotes, dashes and spaces, one base character (and its
    combining marks) at a time so every output character maps back to its source."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text[i:j]).casefold()).translate(_UNIFY)
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return Normalized("".join(out), tuple(starts), tuple(ends))


def simple(text: str) -> str:
    """The normalised text alone (no offsets)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).translate(_UNIFY)


def unaccented(text: str) -> str:
    """``text`` without accents or tone marks, "đ" read as "d" and "Đ" as "D":
    "phạm minh chính" -> "pham minh chinh", "KH&ĐT" -> "KH&DT"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def word_key(word: str) -> str:
    """A normalised word's comparison key: digits only for numbers; tone marks moved last."""
    if word[:1].isdigit():
        return re.sub(r"\D", "", word)
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(c for c in decomposed if c in _TONES)
    if not tones:
        return word
    base = "".join(c for c in decomposed if c not in _TONES)
    return unicodedata.normalize("NFC", base) + tones


def spelled_number(key: str) -> str | None:
    """The digits a number word's key stands for ("six" -> "6", "bốn" -> "4"), else None."""
    return _SPELLED_KEYS.get(key)


@dataclass(frozen=True)
class Token:
    key: str
    start: int  # offsets in the normalised text
    end: int

    @property
    def is_number(self) -> bool:
        return self.key[:1].isdigit()


def number_base(key: str) -> str:
    """The digits of a number key without its scale: "30e6" -> "30"."""
    return key.split("e", 1)[0]


def month_numbers(text: str) -> set[str]:
    """The month numbers (as strings) that month names in the original ``text`` stand for."""
    out = set()
    for m in _MONTH.finditer(text):
        if m.group(1):
            out.add(str([e[:3] for e in _MONTHS_EN].index(m.group(1)[:3]) + 1))
        else:
            out.add(str(_MONTHS_FR.index(unicodedata.normalize("NFC", m.group(2).lower())) + 1))
    for m in _MONTH_VI.finditer(unicodedata.normalize("NFC", text)):  # "tháng Hai" = February
        out.add(str(_MONTHS_VI[" ".join(m.group(1).lower().split())]))
    return out


def numbers(text: str) -> set[str]:
    """The number keys an original ``text`` holds: its numbers ("30 million" as "30e6") and the
    months its month names stand for."""
    return {t.key for t in tokens(simple(text)) if t.is_number} | month_numbers(text)


def tokens(norm: str) -> list[Token]:
    """Words and numbers of a normalised text, with their keys and offsets; a number and the
    scale word after it ("30 million") are one token keyed "30e6"."""
    out: list[Token] = []
    for m in _TOKEN.finditer(norm):
        key = word_key(m.group())
        prev = out[-1] if out else None
        digits = None if prev is None else prev.key if prev.key.isdigit() else spelled_number(prev.key)
        if digits and key in _SCALE_KEYS and not norm[prev.end:m.start()].strip():
            out[-1] = Token(f"{digits}e{_SCALE_KEYS[key]}", prev.start, m.end())
            continue
        out.append(Token(key, m.start(), m.end()))
    return out


_SCALE_KEYS = {word_key(w): power for w, power in _SCALES.items()}
_SPELLED_KEYS = {word_key(w): str(n) for w, n in _SPELLED.items()}
