"""Hybrid retrieval: dense search in Chroma fused with BM25 by reciprocal rank fusion.

Dense search finds paraphrases and evidence in another language; BM25 (the bm25s
library) finds exact names and numbers that embeddings blur. Both rankings are fused
with RRF, which needs no score calibration between the two. Raw scores are kept on each
Passage because the abstention rule reads them.

Given the question's language, BM25 ranks the chunks in that language (and those of unknown
language); chunks in other languages get a BM25 ranking of their own, fused at
``lexical_cross_weight``, that matches only the question's names and numbers (``carried_tokens``):
across languages little else matches but stray cognates, which pulled the dense ranking down
(docs/decisions.md#lexical-cross-design). Within one language BM25 helps.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .answer import Passage
from .embeddings import Embedder
from .store import ChunkStore, StoredChunk

# Small stopword lists: words that say nothing about *which* passage is relevant.
STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have how i in is it its
of on or that the their there these this those to was were what when where which who whom whose why
will with would about after before into than then they them he she we you your our his her not no
le la les un une des du de d l et ou est sont a au aux en dans pour par sur que qui quoi quel quelle
quels quelles comment pourquoi quand où ce cette ces il elle ils elles se sa son ses leur leurs avec
ont été être fait faire ne pas plus
và là của có các những được cho với trong này đó khi nào gì ai đâu bao nhiêu một không thì mà như
đã sẽ đang về để từ tại theo do bởi ra vào lên xuống hay hoặc nhưng cũng rất
""".split())
_WORD = re.compile(r"\w+", re.UNICODE)


def carried_tokens(text: str) -> list[str]:
    """The tokens of ``text`` likely to read the same in another language: numbers, and
    capitalised words (names; a question's capitalised first word rarely occurs in another
    language's text, so it is kept rather than guessed at)."""
    return lexical_tokens(" ".join(w for w in _WORD.findall(text) if w[0].isupper() or any(c.isdigit() for c in w)))


def lexical_tokens(text: str) -> list[str]:
    """Casefolded, NFKC-normalised word tokens without stopwords (shared with citations)."""
    norm = unicodedata.normalize("NFKC", text).casefold()
    return [w for w in _WORD.findall(norm) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def _in_language(chunk: StoredChunk, language: str) -> bool:
    """Whether ``chunk`` is in ``language``; a chunk of unknown language counts as in every one."""
    return str(chunk.meta.get("language") or language) == language


class Retriever:
    """Dense + BM25 search over one ChunkStore; the BM25 index is rebuilt when the store changes."""

    def __init__(self, store: ChunkStore, embedder: Embedder, *, candidates: int = 20, rrf_k: int = 60,
                 lexical_cross_weight: float = 0.0) -> None:
        self.store, self.embedder = store, embedder
        self.candidates, self.rrf_k = candidates, rrf_k
        self.lexical_cross_weight = lexical_cross_weight
        # "" = every chunk, "en" = English (and unknown-language) chunks, "!en" = the others
        self._bm25: dict[str, tuple[Any, list[StoredChunk]]] = {}
        self._chunks: list[StoredChunk] | None = None  # every chunk, read once per store revision
        self._bm25_key: int | None = None

    def _lexical_index(self, language: str = "") -> tuple[Any, list[StoredChunk]]:
        """BM25 over the chunks in ``language`` and those of unknown language; all chunks for "";
        for "!" + a language, the chunks in any other (known) language."""
        key = self.store.revision  # every write through ChunkStore bumps it, in any process
        if key != self._bm25_key:
            self._bm25, self._chunks, self._bm25_key = {}, None, key
        if language not in self._bm25:
            import bm25s

            if self._chunks is None:  # reading every chunk back is most of an index build's time
                self._chunks = self.store.all_chunks()
            chunks = self._chunks
            if language.startswith("!"):
                chunks = [c for c in chunks if not _in_language(c, language[1:])]
            elif language:
                chunks = [c for c in chunks if _in_language(c, language)]
            index = None
            if chunks:
                index = bm25s.BM25()
                # bm25s wants every document to have at least one token.
                index.index([lexical_tokens(c.text) or ["\u2205"] for c in chunks], show_progress=False)
            self._bm25[language] = (index, chunks)
        return self._bm25[language]

    def lexical(self, query: str, n: int, language: str = "",
                tokens: list[str] | None = None) -> list[tuple[StoredChunk, float]]:
        """BM25's ``n`` best chunks; only those in ``language`` (or of unknown language) when given,
        only those in other languages for "!" + a language (see ``_lexical_index``). ``tokens``
        replaces the query's own tokens (``lexical_tokens(query)``) when given."""
        index, chunks = self._lexical_index(language)
        tokens = lexical_tokens(query) if tokens is None else tokens
        if index is None or not tokens:
            return []
        docs, scores = index.retrieve([tokens], k=min(n, len(chunks)), show_progress=False)
        return [(chunks[int(i)], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]

    def lexical_rankings(self, query: str, language: str = "") -> list[tuple[float, list[tuple[StoredChunk, float]]]]:
        """(RRF weight, BM25 ranking) pairs: one over every chunk when ``language`` is unknown; else
        one over the chunks in ``language`` (weight 1) and, when ``lexical_cross_weight`` > 0, one
        over the chunks in other languages at that weight, matching only the query's names and
        numbers (``carried_tokens``)."""
        if not language:
            return [(1.0, self.lexical(query, self.candidates))]
        rankings = [(1.0, self.lexical(query, self.candidates, language))]
        if self.lexical_cross_weight > 0:
            # its own index, so chunks in the question's language cannot crowd the others out of it
            other = self.lexical(query, self.candidates, "!" + language, tokens=carried_tokens(query))
            rankings.append((self.lexical_cross_weight, other))
        return rankings

    def dense(self, query: str, n: int, vector: np.ndarray | None = None) -> list[tuple[StoredChunk, float]]:
        return self.store.query(self.embedder.embed_query(query) if vector is None else vector, n)

    def search(self, query: str, k: int, per_document: int = 0, vector: np.ndarray | None = None,
               language: str = "", translations: Sequence[tuple[str, str]] = (), translation_weight: float = 1.0,
               other_language: bool = False) -> list[Passage]:
        """The ``k`` best passages by RRF over the dense and lexical rankings.

        ``per_document`` > 0 caps the passages taken from one document, so the same facts
        told in another document (often in another language) get a place too. ``vector`` is
        the query's embedding when the caller already has it (else it is computed here).
        ``language`` is the query's (see ``lexical_rankings``). ``translations``: the query in
        other languages, (text, language) each, whose dense ranking and BM25 ranking over that
        language's chunks join the fusion at ``translation_weight``. ``other_language``: when no
        passage of the ``k`` is in another language than the query's, the best-ranked one that is
        takes the last place.
        """
        dense = self.dense(query, self.candidates, vector)
        fused: dict[str, Passage] = {}
        background = dense[-1][1] if len(dense) >= self.candidates else None
        for rank, (chunk, sim) in enumerate(dense):
            p = fused.setdefault(chunk.id, Passage.from_stored(chunk))
            p.dense_similarity = sim
            p.dense_margin = None if background is None else sim - background
            p.score += 1.0 / (self.rrf_k + rank + 1)
        for weight, lexical in self.lexical_rankings(query, language):
            for rank, (chunk, bm) in enumerate(lexical):
                p = fused.setdefault(chunk.id, Passage.from_stored(chunk))
                p.lexical_score = bm
                p.score += weight / (self.rrf_k + rank + 1)
        for text, lang in translations:
            for rank, (chunk, sim) in enumerate(self.dense(text, self.candidates)):
                p = fused.setdefault(chunk.id, Passage.from_stored(chunk))
                p.dense_similarity = sim if p.dense_similarity is None else p.dense_similarity
                p.score += translation_weight / (self.rrf_k + rank + 1)
            for rank, (chunk, bm) in enumerate(self.lexical(text, self.candidates, lang)):
                p = fused.setdefault(chunk.id, Passage.from_stored(chunk))
                p.lexical_score = bm if p.lexical_score is None else p.lexical_score
                p.score += translation_weight / (self.rrf_k + rank + 1)
        q_terms = set(lexical_tokens(query))
        for p in fused.values():
            if q_terms:
                p.term_coverage = len(q_terms & set(lexical_tokens(p.text))) / len(q_terms)
        ranked = sorted(fused.values(), key=lambda p: -p.score)
        if per_document > 0:
            taken: dict[str, int] = {}
            capped = []
            for p in ranked:
                taken[p.doc_id] = taken.get(p.doc_id, 0) + 1
                if taken[p.doc_id] <= per_document:
                    capped.append(p)
            ranked = capped
        top = ranked[:k]
        if other_language and language and top and all(p.language in (language, "") for p in top):
            other = next((p for p in ranked[k:] if p.language and p.language != language), None)
            if other is not None:
                top[-1] = other
        return top


@dataclass(frozen=True)
class RelevanceRule:
    """When retrieved passages are close enough to a question to be worth asking the model.

    A passage qualifies when it holds ``min_coverage`` of the question's content words, or by
    dense similarity: in the question's language at least ``min_similarity`` and ``min_margin``
    above the background; in another language at least ``min_similarity_cross`` (cross-lingual
    similarities run lower: e5-small puts most answerable cross-lingual pairs under 0.80).
    """

    min_similarity: float
    min_margin: float
    min_similarity_cross: float
    min_coverage: float = 0.6

    def judge(self, passages: list[Passage], language: str) -> tuple[bool, str]:
        """(relevant, why): ``why`` names the closest passage's figures when none qualifies."""
        for p in passages:
            if p.term_coverage >= self.min_coverage:
                return True, f"a passage holds {p.term_coverage:.0%} of the question's words"
            if p.dense_similarity is None:
                continue
            if p.language and p.language != language:
                if p.dense_similarity >= self.min_similarity_cross:
                    return True, f"similarity {p.dense_similarity:.3f} across languages"
            elif p.dense_similarity >= self.min_similarity and (p.dense_margin is None
                                                                 or p.dense_margin >= self.min_margin):
                return True, f"similarity {p.dense_similarity:.3f}"
        best = max(passages, key=lambda p: p.dense_similarity or 0.0, default=None)
        if best is None or best.dense_similarity is None:
            return False, "no passage was retrieved"
        margin = "" if best.dense_margin is None else f", {best.dense_margin:.3f} above the background"
        return False, (f"no passage is relevant enough (closest: similarity {best.dense_similarity:.3f}{margin}; "
                       f"needed {self.min_similarity} and {self.min_margin} above in the same language, "
                       f"{self.min_similarity_cross} across languages)")
