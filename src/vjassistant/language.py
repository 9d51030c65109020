"""Language detection for short questions, and the few sentences we say in each language.

py3langid is restricted to a set of common languages because on a ten-word question an
unrestricted classifier often picks an exotic neighbour (e.g. Catalan for French).
Vietnamese is told apart by its diacritics first: they are unambiguous and free, but only as
a share of the letters. An English paragraph quoting one Vietnamese name ("Nguyễn Phú Trọng")
carries a few of them: XQuAD's English paragraphs 016-0 and 036-0 hold 3 in 812 and 16 in 1346
letters (≤ 1.2%), while every Vietnamese XQuAD paragraph and question with two or more holds
at least 4.4%. Hence two letters *and* 3% of the letters.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

LANGUAGE_NAMES = {"en": "English", "fr": "French", "vi": "Vietnamese", "de": "German",
                  "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
                  "ja": "Japanese", "zh": "Chinese", "ko": "Korean", "ru": "Russian"}

VI_SHARE = 0.03
LETTERS = re.compile(r"[^\W\d_]")
VI_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)

NOT_FOUND = {
    "en": "The documents don't contain the answer to this question.",
    "fr": "Les documents ne contiennent pas la réponse à cette question.",
    "vi": "Các tài liệu không chứa câu trả lời cho câu hỏi này.",
}
NO_DOCUMENTS = {
    "en": "No documents have been ingested yet.",
    "fr": "Aucun document n'a encore été ingéré.",
    "vi": "Chưa có tài liệu nào được nạp.",
}


@lru_cache(maxsize=1)
def _identifier():  # -> py3langid LanguageIdentifier
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGE_NAMES))
    return ident


def detect_language(text: str, default: str = "en", among: Collection[str] = ()) -> str:
    """ISO 639-1 code of ``text``; ``default`` when there is nothing to go on.

    ``among`` limits the guess to the languages the text can be in (an answer's statement: its
    question's and its passages' languages); Vietnamese told by its diacritics, and ``default``
    for a text without words, are returned whatever ``among`` holds. Names alone are guessed
    wildly otherwise: "Dongshan Dafo Dian" reads as German, "José María Figueres" as Spanish,
    "Pittsburgh Steelers" as Dutch, and a statement taken for another language than its
    passage's is checked across languages, where a name of two or three words is rarely found
    supported."""
    sample = text[:2000]
    vi = len(VI_LETTERS.findall(sample))
    if vi >= 2 and vi >= VI_SHARE * len(LETTERS.findall(sample)):
        return "vi"
    if not re.search(r"[^\W\d_]{2,}", sample):  # no word of letters: digits and symbols say nothing
        return default
    if among:
        return next((str(code) for code, _ in _identifier().rank(sample) if code in among), default)
    code, _ = _identifier().classify(sample)
    return str(code)


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, "the language of the question")


def say(table: dict[str, str], code: str) -> str:
    """The sentence from ``table`` in language ``code``, English when we lack it."""
    return table.get(code, table["en"])
