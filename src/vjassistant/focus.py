"""Focus: cut each retrieved passage down to the run of sentences that bear on the question.

On a CPU every prompt token costs prefill time before the first answer token, and a
retrieved chunk usually holds one or two sentences that matter. Each passage longer than
the cap is cut to the contiguous window of its sentences that scores best against the
question: the best sentence first, then its better neighbour while the window fits. The
window stays one contiguous slice of the document, so ``text == document[start:end]`` still
holds and citations keep pointing at exact offsets.

Sentences are scored by the embedder (cosine with the question: works across languages)
plus the share of the question's content words they contain (exact names and numbers).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from .answer import Passage
from .chunking import count_tokens, sentence_spans
from .embeddings import Embedder
from .retrieval import lexical_tokens

LEXICAL_WEIGHT = 0.5  # a sentence holding every question word gains as much as a +0.5 cosine


def focus_passages(question: str, passages: Sequence[Passage], embedder: Embedder, max_tokens: int,
                   query_vector: np.ndarray | None = None) -> list[Passage]:
    """Passages longer than ``max_tokens`` cut to their best window of sentences; others unchanged.

    ``query_vector``: the question's embedding if the caller already has it (retrieval did)."""
    if max_tokens <= 0:
        return list(passages)
    counts = {id(p): [count_tokens(p.text[s:e]) for s, e in _sentences(p)] for p in passages}
    long = [p for p in passages if sum(counts[id(p)]) > max_tokens and len(counts[id(p)]) > 1]
    scored = dict(zip(map(id, long), sentence_scores(question, long, embedder, query_vector)))
    out = []
    for p in passages:
        if id(p) not in scored:
            out.append(p)
            continue
        sentences = scored[id(p)]
        lo, hi = _window([score for _, _, score in sentences], counts[id(p)], max_tokens)
        start, end = sentences[lo][0], sentences[hi - 1][1]
        out.append(dataclasses.replace(p, start=p.start + start, end=p.start + end, text=p.text[start:end]))
    return out


def sentence_scores(question: str, passages: Sequence[Passage], embedder: Embedder,
                    query_vector: np.ndarray | None = None) -> list[list[tuple[int, int, float]]]:
    """Each passage's sentences as (start, end, score) in passage offsets: how well each bears on
    the question (cosine with it plus ``LEXICAL_WEIGHT`` times the share of its words held)."""
    spans = [_sentences(p) for p in passages]
    sentences = [p.text[s:e] for p, ss in zip(passages, spans) for s, e in ss]
    if not sentences:
        return [[] for _ in passages]
    query = embedder.embed_query(question) if query_vector is None else query_vector
    similarity = embedder.embed_passages(sentences) @ query
    q_terms = set(lexical_tokens(question))
    out, i = [], 0
    for p, ss in zip(passages, spans):
        out.append([(s, e, float(similarity[i + j]) + LEXICAL_WEIGHT * _coverage(q_terms, p.text[s:e]))
                    for j, (s, e) in enumerate(ss)])
        i += len(ss)
    return out


def _sentences(p: Passage) -> list[tuple[int, int]]:
    # The document title heading the first chunk is already in the passage's header line.
    return [(s, e) for s, e in sentence_spans(p.text) if p.text[s:e] != p.title]


def _coverage(q_terms: set[str], sentence: str) -> float:
    return len(q_terms & set(lexical_tokens(sentence))) / len(q_terms) if q_terms else 0.0


def _window(scores: Sequence[float], tokens: Sequence[int], limit: int) -> tuple[int, int]:
    """[lo, hi) around the best sentence, grown toward the better neighbour while it fits
    (a best sentence longer than ``limit`` is kept whole: cutting it could drop the answer)."""
    best = int(np.argmax(scores))
    lo, hi, used = best, best + 1, tokens[best]
    while True:
        options = [j for j in (lo - 1, hi) if 0 <= j < len(scores) and used + tokens[j] <= limit]
        if not options:
            return lo, hi
        j = max(options, key=lambda k: scores[k])
        used += tokens[j]
        lo, hi = min(lo, j), max(hi, j + 1)
