"""Answers in the question's language when the model wrote them in its passages' language.

Asked in Vietnamese about English passages, the small local models answer in English most of
the time, whatever the prompt says (rule 5, an instruction in the question's language and a
translated worked example were each measured and changed nothing: see prompts.py). So the
answer is checked as the model wrote it, in the passages' language, where the check is word
for word, and can then be translated by the same model with a short few-shot prompt (a prompt
of its own: llama.cpp then reads the answer prompt's fixed prefix again for the next question).

A translation is kept only when it keeps the answer's shape (as many statements, the same
markers on each, the same numbers, no longer in the source language) and when the checker,
judging the translation against the same passages, finds every statement as well supported as
the original: across languages that is the embedder's judgement (balanced accuracy 0.927 on
whole sentences in the labelled set, weaker on answers of a word or two, which are then refused).
The shape alone was not enough: the 135M model turned an English sentence about a Prime
Minister's visit into "nhà nào, phố nàng nào [3]", same marker, no numbers. Otherwise the
checked original is shown. The check is not enough either: on XQuAD dev (30 questions each way,
1.5B) it refused 5 of 8 translations ("30 million Bảng" as "30 million dollars") but kept 2 wrong
ones ("bubonic plague" as "tuberculosis"). So this is off by default (``translate_answers``), and
a translated answer keeps its checked original (``Answer.original_text``), shown beside it.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from .check import UNCITED, CitationReport, check_statements
from .citations import MARKER, clean_markers, statements
from .language import detect_language, language_name
from .llm import ChatModel, Message
from .retrieval import Passage
from .support import PARTIAL, SUPPORTED, UNSUPPORTED, UNVERIFIED, SupportChecker
from .textnorm import numbers


def needs_translation(text: str, language: str, passage_languages: Sequence[str]) -> bool:
    """Whether ``text`` is in one of its passages' languages rather than ``language``.

    Names and numbers read the same in every language, so an answer made of them alone
    ("Peyton Manning", "1.345.596", "AMA") is never translated."""
    plain = MARKER.sub("", text)
    if not any(w[:1].islower() for w in re.findall(r"[^\W\d_]{2,}", plain)):
        return False
    source = detect_language(plain, default=language)
    return source != language and source in set(passage_languages)


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


def translate_answer(model: ChatModel, text: str, language: str, report: CitationReport,
                     passages: Sequence[Passage], checker: SupportChecker, *,
                     max_tokens: int = 256) -> tuple[str, CitationReport] | None:
    """``text`` (the checked answer, ``report`` its check) in ``language``: the translation and its
    own check against ``passages``, or None when the translation changed the statements, markers or
    numbers, is still in the source language, or is less supported than the original."""
    pieces = model.stream(translation_messages(text, language), max_tokens=max_tokens, temperature=0.0)
    before = statements(text)
    translated = clean_markers("".join(pieces).strip().strip('"').strip(), {n for b in before for n in b.numbers})
    after = statements(translated)
    if not translated or len(before) != len(after):
        return None
    plain, plain_translated = MARKER.sub("", text), MARKER.sub("", translated)
    source = detect_language(plain, default=language)
    if source != language and detect_language(plain_translated, default=language) == source:
        return None  # not translated after all
    if any(list(dict.fromkeys(a.numbers)) != list(dict.fromkeys(b.numbers)) for a, b in zip(before, after)):
        return None  # a statement's markers changed
    if numbers(plain) != numbers(plain_translated):
        return None
    checked = check_statements(translated, passages, checker, (language,))
    if any(_RANK[new.verdict] < _RANK[old.verdict] for new, old in zip(checked.statements, report.statements,
                                                                       strict=True)):
        return None  # the passages no longer bear it out: a meaning was lost in translation
    return translated, checked


_RANK = {SUPPORTED: 3, UNVERIFIED: 2, PARTIAL: 1, UNSUPPORTED: 0, UNCITED: 0}
