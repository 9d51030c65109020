"""What a question names, and whether a text names any of it (verify.unnamed's rule).

A question's names are the words of each of its sentences but the first that start with a
capital letter or hold a digit ("TUMAS", "Burgess", "1977"), and the initials of its runs of
several capitalised words ("United States" -> "US"). Dotted abbreviations read undotted ("U.S."
-> "US"). Words are compared without case or accents ("Phạm Minh Chính" names "Pham Minh
Chinh"); acronyms and initials only against words written in capitals, so the pronoun "us" is
not the US.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .retrieval import STOPWORDS
from .textnorm import unaccented

_ABBREVIATION = re.compile(r"\b(?:[A-Z]\.){2,}")
_SENTENCE_END = re.compile(r"[.?!;:]+(?:\s+|$)")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Names:
    """A question's names: ``shown`` as written; ``keys`` compared folded (``fold``); ``capitals``
    (acronyms, initials) compared with the words a text writes in capitals."""

    shown: tuple[str, ...] = ()
    keys: frozenset[str] = frozenset()
    capitals: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.keys or self.capitals)


def undot(text: str) -> str:
    return _ABBREVIATION.sub(lambda m: m.group().replace(".", ""), text)


def fold(word: str) -> str:
    """A word's comparison key: casefolded, accents and tone marks dropped (đ read as d)."""
    return unaccented(word.casefold())


def _is_name(word: str) -> bool:
    return (word[0].isupper() or any(c.isdigit() for c in word)) and word.casefold() not in STOPWORDS \
        and (len(word) > 1 or word.isdigit())


def question_names(question: str) -> Names:
    """The names of ``question`` (see the module docstring)."""
    shown: list[str] = []
    initials: set[str] = set()
    for sentence in _SENTENCE_END.split(undot(question)):
        words = _WORD.findall(sentence)[1:]  # a sentence's first word is capitalised anyway
        shown += [w for w in words if _is_name(w)]
        run: list[str] = []
        for w in [*words, ""]:
            if w[:1].isupper():
                run.append(w)
                continue
            if len(run) > 1:
                initials.add("".join(x[0] for x in run).upper())
            run = []
    shown = list(dict.fromkeys(shown))
    capitals = {w for w in shown if _capitals(w)}
    return Names(tuple(shown), frozenset(fold(w) for w in shown if w not in capitals), frozenset(capitals | initials))


def names_any(names: Names, text: str) -> bool:
    """Whether ``text`` names any of ``names``."""
    words = _WORD.findall(undot(text))
    return bool(names.keys & {fold(w) for w in words}) or bool(names.capitals & {w for w in words if _capitals(w)})


def _capitals(word: str) -> bool:
    return len(word) > 1 and word.isupper()
