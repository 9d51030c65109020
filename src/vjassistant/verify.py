"""Verify: whether a cited passage answers the question, not only whether it states the answer.

``off_top`` (on by default, ``Settings.min_confidence_off_top``) needs no model call: in an
answer the model was unsure of (its first token's probability under the floor), a citation of a
passage further from the question than the closest passage given is removed. ``unnamed`` (on
by default, ``Settings.question_names``) needs none either: a citation of a passage in the
question's language whose document names nothing the question names (names.py) is removed when
another document given in that language does. The rest of this module asks the model itself,
when the answer stands away from where the question points.

The citation check (support.py) confirms that a passage states what the answer says; it never
sees the question. A small model sometimes answers with words of a passage that does not answer
the question: "Hoesung Lee [2]" to whose goals people oppose at the IPCC, from a passage naming
the IPCC's chair. The check finds that supported, and it is wrong. On XQuAD dev every invalid
citation was of this kind (20 of 204, qwen2.5-coder-1.5b).

Two signals, the second only when the first fires:

1. Where the answer stands: the sentence holding a citation's evidence, or a neighbour of it,
   scores at least ``gap`` below the sentence of any passage that best matches the question
   (focus.sentence_scores: cosine with the question plus the share of its words).
2. The model is asked, in a prompt of its own holding that one passage, whether the passage says
   that the answer answers the question. A probability of "yes" under ``min_yes`` refutes the
   citation. Asked instead as a further turn of the answer's own conversation (cheaper: the KV
   cache holds the passages already) the model mostly confirmed itself: its "yes" ranged
   0.51-0.77 for right and wrong citations alike (XQuAD dev, 152 citations, 1.5B).

A refuted citation is removed from the answer; a statement left with no supported citation
shows as uncited, and an answer left with none is declined.

Off by default (``Settings.verify_min_yes`` 0): the local 1.5B model is not a reliable judge.
On XQuAD dev (mono, cross and abstain runs, 40 questions each, 152 citations) gap 0.05 sent 23
citations to the model and "yes" under 0.65 removed 8 (7 invalid, 1 valid under a wrong answer):
citation precision 0.882 -> 0.924; every citation asked, the same threshold removed 10 invalid
and 12 valid ones. On the test split the same settings declined 9 answers, 6 of them right, and
pooled citation precision stayed 0.93 (170 citations).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .citations import Citation
from .embeddings import Embedder
from .focus import sentence_scores
from .llm import Judge, Message
from .names import Names, names_any
from .retrieval import Passage

YES, NO = "yes", "no"


@dataclass
class Verdict:
    """The model's judgment of one citation it was asked about."""

    citation: Citation
    gap: float        # how far the question's best sentence scores above the citation's
    yes: float        # the model's probability that the passage answers the question

    def refutes(self, min_yes: float) -> bool:
        return self.yes < min_yes


def distances(question: str, citations: Sequence[Citation], passages: Sequence[Passage], embedder: Embedder,
              query_vector: np.ndarray | None = None) -> list[float]:
    """For each citation: the best sentence score over all passages minus the best score of the
    sentence holding its evidence and that sentence's neighbours (0 when it is the best)."""
    if not citations:
        return []
    scores = dict(zip((p.number for p in passages), sentence_scores(question, passages, embedder, query_vector)))
    best = max((s for sentences in scores.values() for _, _, s in sentences), default=0.0)
    out = []
    for c in citations:
        p = next(p for p in passages if p.number == c.marker)
        sentences = scores[p.number]
        if not sentences:
            out.append(0.0)
            continue
        at = c.start - p.start
        i = next((j for j, (s, e, _) in enumerate(sentences) if s <= at < e), 0)
        out.append(best - max(score for _, _, score in sentences[max(0, i - 1):i + 2]))
    return out


def off_top(citations: Sequence[Citation], passages: Sequence[Passage]) -> list[Citation]:
    """The citations of passages less similar to the question (dense cosine) than the closest
    passage the model was given: where an unsure model's wrong answers come from.

    On XQuAD dev (1.5B, every mode, 40 questions per run) 15 of the 21 invalid citations were of
    this kind, and 26 of the 174 valid ones; in answers whose confidence was under 0.3, 15 invalid
    and 9 valid (``Settings.min_confidence_off_top``)."""
    best = max((p.dense_similarity or 0.0 for p in passages), default=0.0)
    by_number = {p.number: p for p in passages}
    return [c for c in citations
            if c.marker in by_number and (by_number[c.marker].dense_similarity or 0.0) < best]


def unnamed(names: Names, citations: Sequence[Citation], passages: Sequence[Passage], documents: Mapping[str, str],
            language: str) -> list[Citation]:
    """The citations of passages in ``language`` (the question's) whose document names none of
    ``names`` (names.question_names) while another document given in that language names one:
    "Carlos Salinas de Gortari [2]" to who the president of TUMAS is, from a list of Harvard
    alumni, when passage [1] is about TUMAS. ``documents``: each document's whole text by doc id
    (the name is often in a sentence or chunk the prompt left out); a passage's own text and
    title otherwise. Passages in another language are not judged and judge nothing: another
    language may write the name otherwise (Japan, Nhật Bản)."""
    if not names:
        return []
    named: dict[str, bool] = {}
    for p in passages:
        if p.language == language:
            text = f"{p.title}\n{documents.get(p.doc_id) or p.text}"
            named[p.doc_id] = named.get(p.doc_id, False) or names_any(names, text)
    if not any(named.values()):
        return []
    by_number = {p.number: p for p in passages}
    return [c for c in citations if c.marker in by_number and named.get(by_number[c.marker].doc_id) is False]


CHECK_SYSTEM = ("You check answers. Given a passage, a question and a proposed answer, decide whether the "
                "passage itself says that the proposed answer answers the question. Reply with yes or no only.")


def check_messages(question: str, statement: str, passage: Passage) -> list[Message]:
    """The check as a prompt of its own: one passage, the question, the statement to judge."""
    ask = (f"Passage:\n{passage.text}\n\nQuestion: {question}\nProposed answer: {statement}\n\n"
           "Does the passage say that this answers the question? yes or no.")
    return [{"role": "system", "content": CHECK_SYSTEM}, {"role": "user", "content": ask}]


def judge(model: Judge, question: str, citations: Sequence[Citation], passages: Sequence[Passage],
          gaps: Sequence[float], gap: float) -> list[Verdict]:
    """Ask the model about every citation whose evidence stands more than ``gap`` away."""
    by_number = {p.number: p for p in passages}
    return [Verdict(c, g, model.choose(check_messages(question, c.statement, by_number[c.marker]), (YES, NO))[YES])
            for c, g in zip(citations, gaps) if g > gap]
