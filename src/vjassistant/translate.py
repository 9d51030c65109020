"""Answers in the question's language when the model wrote them in its passages' language.

Asked in Vietnamese about English passages, the small local models answer in English most of
the time, whatever the prompt says (rule 5, an instruction in the question's language and a
translated worked example were each measured and changed nothing: see prompts.py). So the
answer is checked as the model wrote it, in the passages' language, where the check is word
for word, and can then be translated by the same model with a short few-shot prompt (a prompt
of its own: llama.cpp then reads the answer prompt's fixed prefix again for the next question).

A translation is kept only when it keeps the answer's shape: as many statements, the same
markers on each, the same numbers, and no longer in the source language. Otherwise the
checked original is shown as it is. What the shape check cannot catch is a wrong word: the
1.5B model turned "over half" into "tất cả" (all) and "pounds" into "đô la", and e5 cosine
does not tell such a translation from a right one (0.86-0.88 for both kinds), so the
translation cannot be verified. That is why it is off by default (``translate_answers``) and
why an answer that was translated keeps its checked original (``Answer.original_text``),
shown beside it in the UI.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .check import CitationReport
from .citations import MARKER, Citation, clean_markers, statements
from .language import detect_language, language_name
from .llm import ChatModel, Message
from .textnorm import simple, tokens


def needs_translation(text: str, language: str, passage_languages: Sequence[str]) -> bool:
    """Whether ``text`` is in one of its passages' languages rather than ``language``.

    Names and numbers read the same in every language, so an answer made of them alone
    ("Peyton Manning", "1.345.596", "AMA") is never translated."""
    plain = MARKER.sub("", text)
    if not any(w[:1].islower() for w in re.findall(r"[^\W\d_]{2,}", plain)):
        return False
    written_in = detect_language(plain, default=language)
    return written_in != language and written_in in set(passage_languages)


# Worked examples per target language (invented phrases, far from any corpus): with them the
# 1.5B model keeps the markers and answers with the translation alone.
_EXAMPLES = {
    "vi": (("the lighthouse keeper [1]", "người gác hải đăng [1]"), ("in the morning [2]", "vào buổi sáng [2]")),
    "en": (("người gác hải đăng [1]", "the lighthouse keeper [1]"), ("vào buổi sáng [2]", "in the morning [2]")),
    "fr": (("the lighthouse keeper [1]", "le gardien du phare [1]"), ("in the morning [2]", "le matin [2]")),
}


def translation_messages(text: str, language: str) -> list[Message]:
    """A fresh prompt: the system rule, two worked examples into ``language``, then ``text``."""
    rule = (f"You translate the user's text into {language_name(language)}. Keep names, numbers and [n] "
            f"markers unchanged. Reply with the {language_name(language)} translation only.")
    messages: list[Message] = [{"role": "system", "content": rule}]
    for source, target in _EXAMPLES.get(language, ()):
        messages += [{"role": "user", "content": source}, {"role": "assistant", "content": target}]
    return [*messages, {"role": "user", "content": text}]


@dataclass
class Translation:
    text: str             # the translated answer, markers in place
    report: CitationReport | None  # the check, its statements carried over to the translated text
    citations: list[Citation]


def translate_answer(model: ChatModel, text: str, language: str, report: CitationReport | None,
                     citations: Sequence[Citation], *, max_tokens: int = 256) -> Translation | None:
    """``text`` (the checked answer) in ``language``, its check and citations carried over; None
    when the model's translation changed the statements, markers or numbers."""
    pieces = model.stream(translation_messages(text, language), max_tokens=max_tokens, temperature=0.0)
    translated = "".join(pieces).strip().strip('"').strip()
    valid = {n for st in statements(text) for n in st.numbers}
    translated = clean_markers(translated, valid)
    before, after = statements(text), statements(translated)
    if not translated or len(before) != len(after):
        return None
    source = detect_language(MARKER.sub("", text), default=language)
    if source != language and detect_language(MARKER.sub("", translated), default=language) == source:
        return None  # not translated after all
    if any(list(dict.fromkeys(a.numbers)) != list(dict.fromkeys(b.numbers)) for a, b in zip(before, after)):
        return None
    if _numbers(text) != _numbers(translated):
        return None
    texts = {b.text: a.text for b, a in zip(before, after)}
    moved = [replace(c, statement=texts.get(c.statement, c.statement)) for c in citations]
    if report is None:
        return Translation(translated, None, moved)
    if len(report.statements) != len(after):
        return None
    checks = [replace(s, text=a.text, start=a.start, end=a.end,
                      citations=[replace(c, statement=a.text) for c in s.citations])
              for s, a in zip(report.statements, after)]
    return Translation(translated, replace(report, statements=checks), moved)


def _numbers(text: str) -> set[str]:
    return {t.key for t in tokens(simple(MARKER.sub("", text))) if t.is_number}
