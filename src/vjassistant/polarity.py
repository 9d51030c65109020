"""Contradiction cues: a statement that flips its evidence's sense while sharing its words.

Word overlap and the embedder both score "are not limitless", "are limited" and "with millions
of members" as well as the sentence they contradict. Three cues, in English, French and
Vietnamese, compare a statement with its evidence sentences (support.py calls them):
- ``negations``: how many negations a text holds ("not", "ne ... pas", "không"); an odd
  difference between statement and evidence is a flipped sense. "not only", "không chỉ" and
  the negations inside an opposite's own phrase ("không giới hạn" is "limitless") do not count;
- ``flipped``: a concept whose pole differs (limited / limitless, developing / developed,
  complementary / competitive, ...), in any of the three languages;
- ``quantities``: quantity words without digits ("thousands", "des milliers", "hàng nghìn")
  as number keys ("~1e3"), so they must match like numbers do, across languages too.
The lists are short and explicit; a contradiction they do not list is left to the other signals.
"""
from __future__ import annotations

import re

from .textnorm import simple

# Each concept: (one pole, the other pole), each a tuple of phrases in the three languages.
_OPPOSITES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "limit": (("limited", "limité", "limitée", "limités", "limitées", "có hạn", "hạn chế"),
              ("limitless", "unlimited", "boundless", "illimité", "illimitée", "illimités", "illimitées",
               "sans limite", "sans limites", "vô hạn", "không giới hạn", "vô tận", "không có giới hạn")),
    "develop": (("developing", "en développement", "en voie de développement", "đang phát triển"),
                ("developed", "développés", "développées", "phát triển cao")),
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
                  "no one but", "nothing but")
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


def negations(text: str) -> int:
    """How many negation words ``text`` holds, in any of the three languages."""
    norm = _strip(simple(text).replace("n't", " n't"), _NOT_NEGATIONS + _ALL_POLES)
    words = re.findall(r"[\w']+", norm)
    cues = {c for cs in _NEGATIONS.values() for c in cs}
    return sum(w in cues for w in words)


def poles(text: str) -> dict[str, int]:
    """For each concept ``text`` speaks of: 0 or 1, the pole it takes (both poles: left out)."""
    norm = simple(text)
    out = {}
    for concept, (one, other) in _OPPOSITES.items():
        a, b = any(_has(norm, p) for p in one), any(_has(norm, p) for p in other)
        if a != b:
            out[concept] = 0 if a else 1
    return out


def flipped(statement: str, evidence: str) -> str:
    """Why ``statement`` contradicts ``evidence`` ("" when no cue says it does)."""
    if negations(statement) % 2 != negations(evidence) % 2:
        return "negation"
    said, found = poles(statement), poles(evidence)
    for concept, pole in said.items():
        if concept in found and found[concept] != pole:
            return f"opposite ({concept})"
    return ""


def quantities(text: str) -> set[str]:
    """Number keys of the quantity words ``text`` writes without digits ("millions of" -> "~1e6")."""
    norm = simple(text)
    return {key for key, words in _QUANTITIES.items()
            if any(re.search(rf"(?<!\d )(?<!\d)(?<!\w){re.escape(w)}(?!\w)", norm) for w in words)}
