"""What a question asks for, read off its words: a number, a date, or anything (English, French,
Vietnamese), and whether an answer gives that kind of thing at all.

"How much money did Japan commit?" asks for a number; an answer with no number in it, however
well its sentences are supported ("The agreement was signed for the common goals of ... [1]"),
does not answer it. The cue lists are short on purpose: a question they miss asks for anything,
and its answer is never judged here.
"""
from __future__ import annotations

import re

from .textnorm import month_numbers, numbers, simple, spelled_number

NUMBER, DATE, ANY = "number", "date", "any"

_CUES = {
    NUMBER: ("how many", "how much", "what percentage", "what share", "what number", "combien", "quel pourcentage",
             "quelle part", "quel nombre", "bao nhiêu", "mấy", "số lượng", "tỷ lệ"),
    DATE: ("when", "what year", "which year", "what date", "which date", "what day", "since when", "quand",
           "quelle année", "quelle date", "quel jour", "depuis quand", "depuis quelle année", "khi nào",
           "bao giờ", "năm nào", "ngày nào", "lúc nào", "tháng nào", "thời điểm nào"),
}
# Quantity words that answer "how many" without digits ("thousands of members").
_AMOUNTS = frozenset("""dozen dozens hundred hundreds thousand thousands million millions billion billions
douzaine douzaines centaine centaines millier milliers millions milliard milliards
chục trăm nghìn ngàn triệu tỷ""".split())


def asks_for(question: str) -> str:
    """NUMBER, DATE or ANY: what kind of thing ``question`` asks for."""
    text = f" {simple(question)} "
    for kind in (NUMBER, DATE):
        if any(re.search(rf"(?<!\w){re.escape(cue)}(?!\w)", text) for cue in _CUES[kind]):
            return kind
    return ANY


def gives(kind: str, text: str) -> bool:
    """Whether ``text`` states the kind of thing ``kind`` asks for."""
    if kind == ANY:
        return True
    words = re.findall(r"\w+", simple(text))
    if numbers(text) or any(spelled_number(w) for w in words) or any(w in _AMOUNTS for w in words):
        return True
    return kind == DATE and bool(month_numbers(text))
