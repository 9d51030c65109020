"""A labelled set for the citation checker, built from a parallel SQuAD set (XQuAD en + vi).

Each example is a statement, a passage and whether the passage fully supports it:
- ``copy``: a sentence holding a gold answer, against its own paragraph (supported);
- ``answer``: the short gold answer alone, as the assistant often writes it (supported);
- ``qa``: the question and its gold answer as one claim ("Who founded X: Y."), against the
  paragraph (supported: a paraphrase, since questions reword the text);
- ``qa_wrong``: the same with another answer from the article that the paragraph lacks;
- ``other``: the same sentence against the paragraph of the same article that shares most
  words with it (not supported: the marker on the wrong passage);
- ``answer_other``: the short answer against a paragraph of the article that lacks it;
- ``number``: the sentence with one number changed (not supported);
- ``name``: the sentence with one name swapped for another name from the same article;
- ``cross`` / ``cross_other`` / ``cross_number``: the sentence against the parallel paragraph
  in the other language (supported), against another paragraph in the other language, and
  with a changed number (not supported).
Articles split into dev (even) and test (odd) as in ``vjassistant eval``: thresholds are
chosen on dev and figures reported on test.
"""
from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..chunking import sentence_spans
from ..grounding.textnorm import NUMBER
from ..retrieval import lexical_tokens
from .datasets import BUNDLED, in_split, read_squad_json

KINDS = ("copy", "answer", "qa", "other", "answer_other", "qa_wrong", "number", "name",
         "cross", "cross_other", "cross_number")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SupportExample:
    id: str
    kind: str
    statement: str
    passage: str
    statement_language: str
    passage_language: str
    supported: bool
    group: str  # article number: the dev/test split

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Paragraph:
    group: str
    index: int
    context: str
    sentences: tuple[str, ...]       # sentences that hold a gold answer (at most two)
    answers: tuple[str, ...]
    qas: tuple[tuple[str, str], ...]  # (question, first gold answer), at most two


def _paragraphs(path: Path) -> list[list[_Paragraph]]:
    articles = []
    for ai, article in enumerate(read_squad_json(path)["data"]):
        paras = []
        for pi, para in enumerate(article["paragraphs"]):
            ctx = para["context"]
            spans = sentence_spans(ctx)
            chosen: dict[int, None] = {}
            answers: dict[str, None] = {}
            qas = []
            for qa in para["qas"]:
                for a in qa["answers"][:1]:
                    answers[a["text"]] = None
                    qas.append((qa["question"], a["text"]))
                    at = int(a.get("answer_start", -1))
                    for si, (s, e) in enumerate(spans):
                        if s <= at < e and len(ctx[s:e].split()) >= 5:
                            chosen[si] = None
            sentences = tuple(ctx[spans[i][0]:spans[i][1]] for i in list(chosen)[:2])
            paras.append(_Paragraph(f"{ai:03d}", pi, ctx, sentences, tuple(list(answers)[:2]), tuple(qas[:2])))
        articles.append(paras)
    return articles


def _closest_other(sentence: str, para: _Paragraph, article: Sequence[_Paragraph]) -> _Paragraph | None:
    words = set(lexical_tokens(sentence))
    others = [p for p in article if p.index != para.index]
    return max(others, key=lambda p: len(words & set(lexical_tokens(p.context))), default=None)


def _change_number(sentence: str, passage: str, rng: random.Random) -> str | None:
    numbers = list(NUMBER.finditer(sentence))
    if not numbers:
        return None
    m = rng.choice(numbers)
    digits = re.sub(r"\D", "", m.group())
    present = {re.sub(r"\D", "", n) for n in NUMBER.findall(passage)}
    for delta in (1, 2, 3, 7, 10):
        candidate = str(int(digits) + delta) if len(digits) < 18 else None
        if candidate and candidate not in present:
            return sentence[:m.start()] + candidate + sentence[m.end():]
    return None


def _names(text: str, skip_first: bool = True) -> list[re.Match[str]]:
    """Capitalised words that are not stopwords (the sentence's first word skipped)."""
    return [m for m in _WORD.finditer(text) if m.group()[0].isupper() and len(m.group()) >= 3
            and not (skip_first and m.start() == 0) and lexical_tokens(m.group())]


def _swap_name(sentence: str, para: _Paragraph, article: Sequence[_Paragraph], rng: random.Random) -> str | None:
    names = _names(sentence)
    present = {w.casefold() for w in _WORD.findall(para.context)}
    pool = sorted({m.group() for p in article if p.index != para.index for m in _names(p.context)
                   if m.group().casefold() not in present})
    if not names or not pool:
        return None
    m = rng.choice(names)
    return sentence[:m.start()] + rng.choice(pool) + sentence[m.end():]


def _qa_statement(question: str, answer: str) -> str:
    """A question and its answer as one claim, the way a short cited answer reads in context."""
    return f"{question.strip().rstrip('?？ ')}: {answer.strip()}."


def _wrong_answer(answer: str, para: _Paragraph, article: Sequence[_Paragraph], rng: random.Random) -> str | None:
    """Another answer from the same article that the paragraph does not hold."""
    context = para.context.casefold()
    pool = sorted({a for p in article for a in p.answers if a.casefold() not in context
                   and not set(lexical_tokens(a)) & set(lexical_tokens(answer))})
    return rng.choice(pool) if pool else None


def build_support_set(languages: Sequence[str] = ("en", "vi"), split: str = "all", seed: int = 0,
                      paths: dict[str, Path] | None = None) -> list[SupportExample]:
    """Every example of the set (deterministic for a seed), restricted to ``split``."""
    files = paths or {lang: BUNDLED[f"xquad-{lang}"] for lang in languages}
    by_lang = {lang: _paragraphs(files[lang]) for lang in languages}
    rng = random.Random(seed)
    out: list[SupportExample] = []

    def add(kind: str, statement: str | None, para: _Paragraph, s_lang: str, p_lang: str, label: bool) -> None:
        if statement:
            out.append(SupportExample(f"{para.group}-{para.index}-{kind}-{s_lang}{p_lang}-{len(out)}", kind,
                                      statement, para.context, s_lang, p_lang, label, para.group))

    for lang, articles in by_lang.items():
        others = [other for other in languages if other != lang]
        for ai, article in enumerate(articles):
            if not in_split(article[0].group if article else "0", split):
                continue
            for para in article:
                for answer in para.answers[:1]:
                    add("answer", answer, para, lang, lang, True)
                    lacking = [p for p in article if answer.casefold() not in p.context.casefold()]
                    if lacking:
                        add("answer_other", answer, rng.choice(lacking), lang, lang, False)
                for question, answer in para.qas:
                    add("qa", _qa_statement(question, answer), para, lang, lang, True)
                    wrong = _wrong_answer(answer, para, article, rng)
                    if wrong:
                        add("qa_wrong", _qa_statement(question, wrong), para, lang, lang, False)
                for sentence in para.sentences:
                    add("copy", sentence, para, lang, lang, True)
                    other = _closest_other(sentence, para, article)
                    if other is not None:
                        add("other", sentence, other, lang, lang, False)
                    add("number", _change_number(sentence, para.context, rng), para, lang, lang, False)
                    add("name", _swap_name(sentence, para, article, rng), para, lang, lang, False)
                    for o in others:
                        parallel = by_lang[o][ai]
                        if para.index >= len(parallel):
                            continue
                        target = parallel[para.index]
                        add("cross", sentence, target, lang, o, True)
                        if other is not None and other.index < len(parallel):
                            add("cross_other", sentence, parallel[other.index], lang, o, False)
                        add("cross_number", _change_number(sentence, target.context, rng), target, lang, o, False)
    return out
