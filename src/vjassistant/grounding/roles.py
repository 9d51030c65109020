"""Roles a statement gives people: a title it names must stand in its evidence too.

"Yoshihide Suga chairs JETRO" shares its names with a report on Suga's visit that names no
chair at all, and the embedder scores it close. Like a name or a number, a title (chair,
director or chief executive, prime minister, minister, ambassador) is a fact of its own: each
title the statement names, in English, French or Vietnamese, must have one of the same rank in
the evidence, in whichever of the three languages it is written (docs/decisions.md#titles). A
title the lists do not hold is left to the other signals; who holds a title the evidence does
give is not judged here.
"""
from __future__ import annotations

import re

from .textnorm import simple

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


def titles(text: str) -> set[str]:
    """The titles ``text`` names, each once ("prime minister" is not also a "minister")."""
    rest = simple(text)
    found = set()
    for title, pattern in _PATTERNS.items():  # longest title first: "prime minister" before "minister"
        if pattern.search(rest):
            found.add(title)
            rest = pattern.sub(" ", rest)
    return found


def missing_titles(statement: str, evidence: str) -> list[str]:
    """The titles ``statement`` names that ``evidence`` does not."""
    return sorted(titles(statement) - titles(evidence))
