"""Contradiction cues: a statement that flips its evidence's sense while sharing its words.

Word overlap and the embedder both score "are not limitless", "are limited" and "with millions
of members" as well as the sentence they contradict. Three cues, in English, French and
Vietnamese, compare a statement with its evidence sentences (support.py calls them):
- negations ("not", "ne ... pas", "không"): a statement that adds one next to words it shares
  with the evidence, or affirms words the evidence only negates, flips its sense. "not only",
  "không chỉ", words built on "không" ("hàng không", "không gian") and the negations inside an
  opposite's own phrase ("không giới hạn" is "limitless") do not count;
- opposite poles: a concept whose pole differs (limited / limitless, developing / developed,
  complementary / competitive, ...), in any of the three languages;
- ``quantities``: quantity words without digits ("thousands", "des milliers", "hàng nghìn")
  as number keys ("~1e3"), so they must match like numbers do, across languages too.
The lists are short and explicit; a contradiction they do not list is left to the other signals.
"""
from __future__ import annotations

import re

from ..language import VI_LETTERS
from ..retrieval import STOPWORDS
from .textnorm import simple

# Each concept: (one pole, the other pole), each a tuple of phrases in the three languages.
_OPPOSITES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "limit": (("limited", "limité", "limitée", "limités", "limitées", "có hạn", "hạn chế"),
              ("limitless", "unlimited", "boundless", "illimité", "illimitée", "illimités", "illimitées",
               "sans limite", "sans limites", "vô hạn", "không giới hạn", "vô tận", "không có giới hạn")),
    "develop": (("developing", "en développement", "en voie de développement", "đang phát triển"),
                # "nước phát triển" alone is a developed country ("nước đang phát triển" does not hold it)
                ("developed", "développés", "développées", "phát triển cao", "nước phát triển", "quốc gia phát triển")),
    "importance": (("important", "major", "key", "importante", "importants", "majeur", "majeure", "quan trọng",
                    "then chốt"),
                   ("minor", "unimportant", "insignificant", "mineur", "mineure", "secondaire", "thứ yếu",
                    "không quan trọng", "nhỏ")),
    "trend": (("increase", "increases", "increased", "increasing", "rise", "rising", "grow", "growing", "augmente",
               "augmenter", "hausse", "croissant", "croissante", "tăng"),
              ("decrease", "decreases", "decreased", "decreasing", "decline", "declining", "fall", "falling",
               "shrinking", "diminue", "diminuer", "baisse", "décroissant", "giảm")),
    "fit": (("supplementary", "complementary", "complémentaire", "complémentaires", "bổ sung", "bổ trợ"),
            ("competitive", "competing", "concurrent", "concurrente", "concurrents", "concurrentes",
             "cạnh tranh nhau")),
    "novelty": (("innovative", "innovation", "innovant", "innovante", "innovants", "innovantes", "sáng tạo"),
                ("traditional", "traditionnel", "traditionnelle", "traditionnels", "traditionnelles",
                 "truyền thống")),
    "urgency": (("urgent", "pressing", "urgente", "pressant", "cấp bách", "cấp thiết"),
                ("minor", "optional", "facultatif", "không cấp thiết")),
    "size": (("large", "big", "great", "grand", "grande", "lớn"), ("small", "little", "petit", "petite", "nhỏ")),
}
_NEGATIONS = {
    "en": ("not", "no", "never", "none", "neither", "nor", "cannot", "without", "n't"),
    "fr": ("pas", "jamais", "aucun", "aucune", "sans", "ni", "nullement"),
    "vi": ("không", "chưa", "chẳng", "chả", "đừng", "chớ"),
}
_NOT_NEGATIONS = ("not only", "no longer only", "non seulement", "pas seulement", "không chỉ", "không những",
                  "no one but", "nothing but", "or not", "ou non", "ou pas", "hay không", "hoặc không",
                  # Vietnamese words built on "không" that negate nothing: space, air, aviation, air force,
                  # unmanned, wireless, unlike, unceasingly, constant
                  "không gian", "không khí", "hàng không", "không quân", "không lưu", "không người",
                  "không dây", "không giống", "không ngừng", "không đổi")
# A negation in same-language text counts when a word the statement and its evidence share stands
# this near it (words after, words before): see docs/decisions.md#contradiction-cues.
_REACH_AFTER, _REACH_BEFORE = 4, 2
_CUES = frozenset(c for cs in _NEGATIONS.values() for c in cs)
# Quantity words without digits, as the number keys textnorm gives scaled numbers.
_QUANTITIES = {"~1e1": ("dozens", "dizaines", "douzaines", "hàng chục"),
               "~1e2": ("hundreds", "centaines", "hàng trăm"),
               "~1e3": ("thousands", "milliers", "hàng nghìn", "hàng ngàn"),
               "~1e6": ("millions", "hàng triệu"),
               "~1e9": ("billions", "milliards", "hàng tỷ", "hàng tỉ")}


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def _strip(text: str, phrases: tuple[str, ...]) -> str:
    for phrase in sorted(phrases, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", text)
    return text


_ALL_POLES = tuple(p for poles in _OPPOSITES.values() for pole in poles for p in pole)


def _words(text: str) -> list[str]:
    """Lower-cased words, with "not only", "hàng không", the opposites' own negations and the like removed."""
    return re.findall(r"[\w']+", _strip(simple(text).replace("n't", " n't"), _NOT_NEGATIONS + _ALL_POLES))


def negations(text: str, anchors: frozenset[str] | None = None) -> int:
    """How many negation words ``text`` holds, in any of the three languages; given ``anchors``
    (words shared with the text it is compared with), only those with an anchor near them."""
    return _count_negations(_words(text), anchors)


def _count_negations(words: list[str], anchors: frozenset[str] | None) -> int:
    hits = [i for i, w in enumerate(words) if w in _CUES]
    if anchors is None:
        return len(hits)
    return sum(any(_stem(w) in anchors for w in words[max(0, i - _REACH_BEFORE):i] + words[i + 1:i + 1 + _REACH_AFTER])
               for i in hits)


def _negated(words: list[str]) -> set[tuple[str, ...]]:
    """What each negation governs: the first word after it that is no stopword (two syllables in
    Vietnamese, where one syllable is rarely a word: "không hợp tác" negates "hợp tác")."""
    out = set()
    for i, w in enumerate(words):
        if w not in _CUES:
            continue
        for j in range(i + 1, min(len(words), i + 4)):
            if words[j] not in STOPWORDS and words[j] not in _CUES:
                out.add(tuple(words[j:j + 2]) if VI_LETTERS.search(" ".join(words[i:j + 2])) else (words[j],))
                break
    return out


def _affirms(words: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether ``phrase`` stands in ``words`` with no negation in the three words before it."""
    n = len(phrase)
    return any(tuple(words[i:i + n]) == phrase and not _CUES.intersection(words[max(0, i - 3):i])
               for i in range(len(words) - n + 1))


def _stem(word: str) -> str:
    return word[:5]  # "cooperated" and "cooperation" meet; a rough stem is enough to place a negation


def _content(words: list[str]) -> set[str]:
    return {_stem(w) for w in words if len(w) > 1 and w not in STOPWORDS and w not in _CUES}


def poles(text: str) -> dict[str, int]:
    """For each concept ``text`` speaks of: 0 or 1, the pole it takes (both poles: left out)."""
    norm = simple(text)
    out = {}
    for concept, (one, other) in _OPPOSITES.items():
        a, b = any(_has(norm, p) for p in one), any(_has(norm, p) for p in other)
        if a != b:
            out[concept] = 0 if a else 1
    return out


def flipped(statement: str, evidence: str, *, same_language: bool = True, aligned: str | None = None) -> str:
    """Why ``statement`` contradicts ``evidence`` ("" when no cue says it does).

    A statement contradicts when it adds a negation (near a word both texts hold, in one language)
    or, in one language, affirms what the evidence only negates ("has cooperated" against "has not
    cooperated"). A negation the statement merely leaves out, with its words, says nothing:
    "did not differ" in the evidence is no cue against "Rollo". Across languages no word is shared,
    so negations are counted in ``aligned`` (the evidence sentence closest in meaning) when given,
    and a dropped negation is no cue (privatives translate without one: "unknown", "chưa được
    biết"). See docs/decisions.md#contradiction-cues."""
    said, found_words = _words(statement), _words(evidence)
    anchors = frozenset(_content(said) & _content(found_words)) if same_language else None
    negated = found_words if same_language or aligned is None else _words(aligned)
    if _count_negations(said, anchors) > _count_negations(negated, anchors):
        return "negation"
    if same_language and any(_affirms(said, phrase) and not _affirms(found_words, phrase)
                             for phrase in _negated(found_words)):
        return "negation"
    said_poles, found = poles(statement), poles(evidence)
    for concept, pole in said_poles.items():
        if concept in found and found[concept] != pole:
            return f"opposite ({concept})"
    return ""


def quantities(text: str) -> set[str]:
    """Number keys of the quantity words ``text`` writes without digits ("millions of" -> "~1e6")."""
    norm = simple(text)
    return {key for key, words in _QUANTITIES.items()
            if any(re.search(rf"(?<!\d )(?<!\d)(?<!\w){re.escape(w)}(?!\w)", norm) for w in words)}
