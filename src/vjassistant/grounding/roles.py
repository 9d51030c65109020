"""Roles a statement gives people: a title it names must stand in its evidence too.

"Yoshihide Suga chairs JETRO" shares its names with a report on Suga's visit that names no
chair at all, and the embedder scores it close. Like a name or a number, a title (chair,
director or chief executive, prime minister, minister, ambassador) is a fact of its own: each
title the statement names, in English, French or Vietnamese, must have one of the same rank in
the evidence, in whichever of the three languages it is written, or be given next to the same
person elsewhere in the document (docs/decisions.md#titles). A title the lists do not hold is
left to the other signals; who holds a title the evidence does give is not judged here.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from .textnorm import simple, unaccented

_NEAR = 40  # characters either side of a title, within its sentence, where its holder's name may stand
_ACRONYM = re.compile(r"(?<!\w)[A-Z]{2,}(?!\w)")

# Each title: its spellings in the three languages. A "président" is a chair or a president alike,
# so the two are one title. "minister" is matched after "prime minister" has been taken out.
_TITLES: dict[str, tuple[str, ...]] = {
    "prime minister": ("prime minister", "prime ministers", "premier ministre", "premiers ministres",
                       "thủ tướng"),
    "chair": ("chair", "chairs", "chaired", "chairing", "chairman", "chairmen", "chairwoman", "chairperson",
              "president", "presidents", "président", "présidente", "présidents", "préside", "présidait",
              "chủ tịch", "tổng thống"),
    "director": ("director", "directors", "managing director", "chief executive", "ceo", "directeur", "directrice",
                 "directeurs", "pdg", "giám đốc"),
    "minister": ("minister", "ministers", "ministre", "ministres", "bộ trưởng"),
    "ambassador": ("ambassador", "ambassadors", "ambassadeur", "ambassadrice", "đại sứ"),
}
_PATTERNS = {title: re.compile(r"(?<!\w)(?:" + "|".join(re.escape(simple(s)) for s in sorted(spellings, key=len,
                                                                                               reverse=True))
                               + r")(?!\w)")
             for title, spellings in _TITLES.items()}


def _spans(text: str) -> list[tuple[str, int, int]]:
    """(title, start, end) in ``simple(text)``: a longer title first, its words then blanked out,
    so "prime minister" is not also a "minister"."""
    rest, found = simple(text), []
    for title, pattern in _PATTERNS.items():
        for m in pattern.finditer(rest):
            found.append((title, m.start(), m.end()))
        rest = pattern.sub(lambda m: " " * len(m.group()), rest)
    return found


def titles(text: str) -> set[str]:
    """The titles ``text`` names."""
    return {title for title, _, _ in _spans(text)}


def _given_to(title: str, document: str, names: Iterable[str]) -> bool:
    """Whether ``document`` writes ``title`` next to one of ``names`` (keys, as support.py makes them)."""
    folded = simple(document)
    keys = [unaccented(n) for n in names if len(n) >= 3]
    for t, start, end in _spans(document):
        if t == title:
            before = re.split(r"[.!?;\n]", folded[max(0, start - _NEAR):start])[-1]  # within its sentence
            after = re.split(r"[.!?;\n]", folded[end:end + _NEAR])[0]
            near = unaccented(f"{before} {after}")
            if any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", near) for k in keys):
                return True
    return False


def missing_titles(statement: str, evidence: str, document: str = "", names: Iterable[str] = ()) -> list[str]:
    """The titles ``statement`` names that ``evidence`` does not. One the evidence lacks still counts
    when ``document`` gives it next to one of the statement's ``names``: "Le Premier ministre Chinh
    a déclaré ..." rests on a sentence that says "he said", the title being the report's "Prime
    Minister Pham Minh Chinh" further up."""
    absent = titles(statement) - titles(evidence)
    acronyms = {simple(a) for a in _ACRONYM.findall(statement)}  # "JETRO Chairman ..." holds no person's title
    people = [n for n in names if n not in acronyms]
    return sorted(t for t in absent if not (document and _given_to(t, document, people)))
