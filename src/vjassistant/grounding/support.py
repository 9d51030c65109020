"""Support of one statement by one passage: a verdict, a score and the evidence span.

Deterministic signals first, on normalised text (``textnorm``):
- numbers and dates must match exactly: a number the passage does not hold (in digits or as
  a number word: "six" holds 6) makes the statement unsupported, whatever else matches;
- a quoted phrase must stand in the passage (fuzzy, to forgive a changed quote mark);
- names (capitalised words, acronyms) must be there: a swapped name is decisive, so the
  score is scaled by a high power of the share found;
- content-word recall: the share of the statement's content words found in the best window
  of one to three passage sentences, a word matching its inflections and typos through
  rapidfuzz (``fuzz.ratio`` >= 85 for words of five letters or more), and a word written
  without diacritics its accented spelling ("Ogedei", "Ögedei"; an accented word still
  matches only itself, since tones tell Vietnamese words apart).
The multilingual embedder is the secondary signal: statement-to-sentence cosine, blended in
when statement and passage share a language (it carries paraphrases) and the main signal
when they do not (word overlap says nothing there; names and numbers still must match).
Without an embedder a cross-language pair is ``unverified``. A sentence that gives the assistant
orders (injection.py) counts as holding no words: it is never evidence.

Every constant that turns these signals into a verdict lives in ``Thresholds``; the defaults
were chosen on the dev split of the labelled set (``benchmarks/citation_check.py``).
"""
from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz, process

from ..chunking import sentence_spans
from ..embeddings import Embedder
from ..language import VI_LETTERS, detect_language
from ..retrieval import STOPWORDS
from .injection import is_instruction
from .polarity import flipped, quantities
from .roles import missing_titles
from .textnorm import (
    Normalized,
    Token,
    month_numbers,
    normalize,
    number_base,
    numbers,
    simple,
    spelled_number,
    tokens,
    unaccented,
    word_key,
)

SUPPORTED, PARTIAL, UNSUPPORTED = "supported", "partial", "unsupported"
UNVERIFIED = "unverified"  # another language and no embedder to compare meaning with
_STOP_KEYS = frozenset(word_key(simple(w)) for w in STOPWORDS)
_WORD = re.compile(r"\w+")
_QUOTED = re.compile(r'"([^"]{3,})"')
_MAX_WINDOW = 3  # sentences
_MIN_EVIDENCE_WORDS = 4  # the embedder's evidence sentence: at least this many words, or a name (_eligible)
# Pronouns and determiners that open sentences (the stopword lists leave them out).
_SENTENCE_STARTERS = frozenset("""he she it they we i you this that these those there here his her its their our my
il elle ils elles on nous vous je ce cet cette ces cela ça celui celle ceux leur lui
nó họ tôi ta chúng mình ông bà anh chị em cô đây đấy điều việc""".split())


@dataclass(frozen=True)
class Thresholds:
    """How signals become a verdict. The defaults are what ``benchmarks/citation_check.py
    --calibrate`` chose on the labelled set's dev split (balanced accuracy 0.944 there)."""

    supported: float = 0.672       # score at or above: supported
    # At or above (and below ``supported``): partial; below it a citation is dropped from an answer.
    # Not calibrated (the labelled set has no partial label): half the supported threshold.
    partial: float = 0.336
    semantic_low: float = 0.79     # cosine mapped to 0 ...
    semantic_high: float = 0.89    # ... and to 1 (e5 cosines crowd into 0.7-0.95)
    semantic_weight: float = 0.2   # share of the score from the embedder in the same language
    name_power: float = 8.0        # score x (share of names found) ** power: one swapped name is decisive
    # Across languages only names some passage writes alike are required (SupportChecker.portable_names).
    cross_name_power: float = 8.0
    cross_shift: float = 0.03      # across languages the cosine scale starts this much lower
    fuzzy_ratio: float = 85.0      # rapidfuzz ratio for two words to match (length >= 5)


DEFAULT_THRESHOLDS = Thresholds()


@dataclass
class Support:
    """How far a passage supports a statement. ``start``/``end`` are offsets in the passage text."""

    verdict: str
    score: float
    start: int
    end: int
    recall: float = 0.0                 # content words found in the best window
    names: float = 1.0                  # share of the statement's names found in the passage
    numbers_ok: bool = True
    quotes_ok: bool = True
    titles_ok: bool = True              # every title the statement names is in the evidence (roles.py)
    semantic: float | None = None       # best statement-to-sentence cosine, None without embedder
    same_language: bool = True
    missing: list[str] = field(default_factory=list)  # numbers, names and words not found
    contradiction: str = ""             # why the evidence says the opposite (polarity.flipped), "" if it does not


@dataclass
class _Statement:
    text: str
    norm: str
    content: list[str]     # content-word keys, in order, unique
    numbers: set[str]
    names: set[str]
    quotes: list[str]
    words: list[str]       # every word key (for statements made of stopwords only)
    surface: dict[str, str]  # key -> the word as written (for messages)


@dataclass
class _Passage:
    text: str
    norm: Normalized
    toks: list[Token]
    sentences: list[tuple[int, int]]  # token index ranges [i, j)
    sentence_spans: list[tuple[int, int]]  # character spans in ``text``

    @cached_property
    def keys(self) -> set[str]:
        return self.token_keys | set(self.scaled) | set(self.spelled) | month_numbers(self.text)

    @cached_property
    def token_keys(self) -> set[str]:
        return {t.key for t in self.toks}

    @cached_property
    def scaled(self) -> dict[str, str]:
        """Bare numbers the passage writes only with a scale word: "30" -> "30e6" ("30 triệu")."""
        keys = self.token_keys
        return {number_base(k): k for k in sorted(keys) if k[:1].isdigit() and number_base(k) not in keys}

    @cached_property
    def squashed(self) -> str:
        """Letters only, without diacritics: "Việt Nam" and "Vietnam" both become "vietnam"."""
        return _squash(self.norm.text)

    @cached_property
    def spelled(self) -> dict[str, str]:
        """Numbers the passage writes as words: "6" -> "six"."""
        return {d: k for k in sorted(self.token_keys) if (d := spelled_number(k)) and d not in self.token_keys}

    @cached_property
    def folded(self) -> dict[str, str]:
        """Passage words with diacritics, by their plain-letter spelling: "ogedei" -> "ögedei"."""
        return {_squash(k): k for k in sorted(self.token_keys) if not k.isascii()}

    @cached_property
    def word_keys(self) -> list[str]:
        return sorted(k for k in self.keys if not k[:1].isdigit() and len(k) >= 5)


def _statement(text: str) -> _Statement:
    norm = simple(text)
    toks = tokens(norm)
    content = list(dict.fromkeys(t.key for t in toks if t.key not in _STOP_KEYS and (len(t.key) > 1 or t.is_number)))
    names: set[str] = set()
    words = list(_WORD.finditer(text))
    for i, m in enumerate(words):
        w = m.group()
        if not w[0].isupper() or w[0].isdigit():
            continue
        key = word_key(simple(w))
        if key in _STOP_KEYS or (i == 0 and not _first_word_is_name(w, words, text)):
            continue  # "The", "Les", "Các", "Nó": capitalised because they start the sentence
        names.add(key)
    return _Statement(text=text, norm=norm, content=content, numbers=numbers(text),
                      names=names, quotes=[simple(q).strip() for q in _QUOTED.findall(norm)],
                      words=[t.key for t in toks], surface={t.key: norm[t.start:t.end] for t in toks})


def _first_word_is_name(word: str, words: list[re.Match[str]], text: str) -> bool:
    """Whether a capitalised first word is a name rather than capitalised by position.

    Acronyms are names. In Vietnamese a name has several capitalised syllables ("Hà Nội",
    "Phạm Minh Chính"), so a lone capitalised first syllable ("Văn phòng", "Công ty") is not
    one. Elsewhere a first word is a name unless it is a pronoun or determiner ("Kishida
    signed ..." must still fail on a passage without Kishida)."""
    if word.isupper() and len(word) > 1:
        return True
    if simple(word) in _SENTENCE_STARTERS:
        return False
    if VI_LETTERS.search(text):
        return len(words) > 1 and words[1].group()[0].isupper()
    return True


def _squash(text: str) -> str:
    squashed = "".join(c for c in unaccented(text) if c.isalnum())
    return squashed if len(squashed) >= 4 else "\0"  # short names would match inside any word


def _prepare(text: str) -> _Passage:
    norm = normalize(text)
    toks = tokens(norm.text)
    spans = sentence_spans(text)
    # token ranges per sentence: tokens are in normalised coordinates; map sentence ends through the offsets
    ranges, i = [], 0
    for s, e in spans:
        j = i
        while j < len(toks) and norm.starts[toks[j].start] < e:
            j += 1
        while i < j and norm.starts[toks[i].start] < s:
            i += 1
        ranges.append((j, j) if is_instruction(text[s:e]) else (i, j))  # an order to the assistant is no evidence
        i = j
    return _Passage(text=text, norm=norm, toks=toks, sentences=ranges, sentence_spans=spans)


class SupportChecker:
    """Scores statements against passages; caches prepared passages and embeddings."""

    def __init__(self, embedder: Embedder | None = None, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 cache_size: int = 512) -> None:
        self.embedder = embedder
        self.thresholds = thresholds
        self._cache_size = cache_size
        self._passages: OrderedDict[str, _Passage] = OrderedDict()
        self._statements: OrderedDict[str, _Statement] = OrderedDict()
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    # --- caches ------------------------------------------------------------------------
    def _cached(self, cache: OrderedDict, key: object, make):  # type: ignore[no-untyped-def]
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = cache[key] = make()
        if len(cache) > self._cache_size:
            cache.popitem(last=False)
        return value

    def _passage(self, text: str) -> _Passage:
        return self._cached(self._passages, text, lambda: _prepare(text))

    def _statement(self, text: str) -> _Statement:
        return self._cached(self._statements, text, lambda: _statement(text))

    def _sentence_vectors(self, p: _Passage) -> np.ndarray:
        assert self.embedder is not None
        texts = [p.text[s:e] for s, e in p.sentence_spans] or [p.text]
        return self._cached(self._vectors, ("p", p.text), lambda: np.asarray(self.embedder.embed_passages(texts)))

    def _statement_vector(self, text: str) -> np.ndarray:
        assert self.embedder is not None
        return self._cached(self._vectors, ("q", text), lambda: np.asarray(self.embedder.embed_query(text)))

    # --- the check ---------------------------------------------------------------------
    def support(self, statement: str, passage: str, *, statement_language: str | None = None,
                passage_language: str | None = None, portable: frozenset[str] | None = None) -> Support:
        """How far ``passage`` supports ``statement`` (languages are detected when not given).
        ``portable``: the statement's names (``portable_names``) written alike in some passage given,
        which a passage in another language must then hold too."""
        st, p = self._statement(statement), self._passage(passage)
        s_lang = statement_language or detect_language(statement, default="en")
        p_lang = passage_language or detect_language(passage[:600], default=s_lang)
        # Names and numbers read the same in every language: a statement of fewer than three
        # words tells no language apart ("Denver Broncos", "1932"), so it is checked word for word.
        # Judging word for word a longer statement whose every word stands in the passage, or one
        # made only of names and numbers, admitted only wrong answers (docs/decisions.md#word-for-word).
        same = s_lang == p_lang or len(st.words) < 3
        # A quotation is translated in another language: only the same language must quote it verbatim.
        quotes_ok = not same or all(fuzz.partial_ratio(q, p.norm.text) >= 90 for q in st.quotes)
        result = Support(verdict=UNSUPPORTED, score=0.0, start=0, end=len(passage), quotes_ok=quotes_ok,
                         same_language=same)
        if not st.content:  # "It is." or a one-letter answer: the words must stand in the passage as written
            found = self._phrase_span(st.words, p)
            if found:
                result.start, result.end = found
            result.numbers_ok = all(n in p.keys for n in st.numbers)
            result.score = 1.0 if found and result.numbers_ok else 0.0
            result.verdict = SUPPORTED if result.score else UNSUPPORTED
            result.recall = result.score
            return result
        matched, window = self._best_window(st, p)
        sentence = None
        if self.embedder is not None:
            sims = self._sentence_vectors(p) @ self._statement_vector(statement)
            sentence = int(np.argmax(np.where(self._eligible(p, st), sims, -np.inf)))
            result.semantic = round(float(sims[sentence]), 4)
        # Names and numbers must stand where the evidence is (its sentences and one on each side),
        # not anywhere in a long document: "Kishida" three paragraphs away supports nothing.
        first, end = self._sentence_range(p, window)
        if not same and sentence is not None:  # where the meaning is, with the names and numbers if near
            first, end = (min(first, sentence), max(end, sentence + 1)) if first - 3 <= sentence < end + 3 \
                else (sentence, sentence + 1)
        region = self._region(p, first, end)
        core = passage[p.sentence_spans[first][0]:p.sentence_spans[end - 1][1]] if p.sentence_spans else passage
        amounts = quantities(statement)
        missing = sorted(n for n in st.numbers if n not in region.keys)
        missing += sorted(amounts - quantities(region.text))  # "millions of members" against "thousands"
        result.numbers_ok = not missing
        absent = missing_titles(statement, region.text, passage, st.names)  # "chairs JETRO": no chair named
        result.titles_ok = not absent
        missing += absent
        aligned = passage[slice(*p.sentence_spans[sentence])] if not same and sentence is not None \
            and p.sentence_spans else None  # across languages negations are counted in it (polarity.flipped)
        result.contradiction = flipped(statement, core, same_language=same, aligned=aligned)
        # Across languages a name counts only when some passage given writes it as the statement
        # does (``portable``): translated names ("Japon", "Nhật Bản") are no evidence against.
        wanted = st.names if same else st.names & set(portable or ())
        names = {n for n in wanted if self._match(n, region) is not None or _squash(n) in region.squashed}
        result.names = round(len(names) / len(wanted), 4) if wanted else 1.0
        missing += sorted(wanted - names)
        result.recall = round(len(matched) / len(st.content), 4)
        unmatched = [k for k in st.content if k not in matched and k not in st.names and k not in st.numbers
                     and same]  # across languages only numbers and names can be missing
        result.missing = [st.surface.get(k, k) for k in missing + unmatched[:8]]
        # In one language ``first``..``end`` are still the window's sentences.
        span = self._evidence(p, matched, p.sentences[first:end] or [window], st.names | st.numbers) \
            if same and matched else None
        if span is None and sentence is not None and p.sentence_spans:
            span = p.sentence_spans[sentence]
        if span is not None:
            result.start, result.end = span
        return self.judge(result)

    def judge(self, r: Support) -> Support:
        """Set ``r.score`` and ``r.verdict`` from its signals (pure: calibration re-runs it)."""
        th = self.thresholds
        if not (r.numbers_ok and r.quotes_ok and r.titles_ok) or r.contradiction:
            r.score, r.verdict = 0.0, UNSUPPORTED
            return r
        low = th.semantic_low - (0.0 if r.same_language else th.cross_shift)
        semantic = None if r.semantic is None else min(1.0, max(0.0, (r.semantic - low)
                                                                / (th.semantic_high - th.semantic_low)))
        if r.same_language:
            base = r.recall if semantic is None else (1 - th.semantic_weight) * r.recall + th.semantic_weight * semantic
            r.score = round(base * r.names ** th.name_power, 3)
        elif semantic is None:
            r.score, r.verdict = round(r.recall * r.names ** th.name_power, 3), UNVERIFIED
            return r
        else:
            r.score = round(semantic * r.names ** th.cross_name_power, 3)
        r.verdict = self.verdict(r.score)
        return r

    def verdict(self, score: float) -> str:
        th = self.thresholds
        return SUPPORTED if score >= th.supported else PARTIAL if score >= th.partial else UNSUPPORTED

    def sentences(self, passage: str) -> list[str]:
        """The sentences of ``passage`` the checker embeds (to prepare or keep their vectors)."""
        p = self._passage(passage)
        return [p.text[s:e] for s, e in p.sentence_spans] or [p.text]

    def portable_names(self, statement: str, passages: Sequence[str]) -> frozenset[str]:
        """The names of ``statement`` that some of ``passages`` (those in other languages than the
        statement's) writes as it does ("JCCI", "Nakajima"): names every language writes alike,
        unlike "Japon" or "Nhật Bản"."""
        st = self._statement(statement)
        found: set[str] = set()
        for text in passages:
            p = self._passage(text)
            found |= {n for n in st.names - found if self._match(n, p) is not None or _squash(n) in p.squashed}
        return frozenset(found)

    # --- pieces ------------------------------------------------------------------------
    def _eligible(self, p: _Passage, st: _Statement) -> np.ndarray:
        """Sentences that may carry the embedder's evidence: a caption or dateline ("Photo : VNA") is
        close to any text in e5's space, so a line of fewer than four words is one only when it holds
        one of the statement's names (a byline: "Hoài Anh") (docs/decisions.md#contradiction-cues)."""
        if not p.sentence_spans:
            return np.ones(1, dtype=bool)
        need = min(_MIN_EVIDENCE_WORDS, len(st.words))
        ok = np.array([b - a >= need or bool(st.names & {t.key for t in p.toks[a:b]}) for a, b in p.sentences],
                      dtype=bool)
        return ok if ok.any() else np.ones(len(ok), dtype=bool)

    def _sentence_range(self, p: _Passage, window: tuple[int, int]) -> tuple[int, int]:
        """The sentences (indices, end excluded) a token window covers."""
        hit = [i for i, (a, b) in enumerate(p.sentences) if a < window[1] and b > window[0]]
        return (hit[0], hit[-1] + 1) if hit else (0, len(p.sentences))

    def _region(self, p: _Passage, first: int, end: int) -> _Passage:
        """Sentences ``first``..``end`` (excluded) of ``p`` and one on each side, prepared for matching."""
        spans = p.sentence_spans
        if not spans or (first <= 1 and end >= len(spans) - 1):
            return p
        a, b = spans[max(0, first - 1)][0], spans[min(len(spans), end + 1) - 1][1]
        return self._passage(p.text[a:b])

    def _match(self, key: str, p: _Passage) -> str | None:
        """The passage word ``key`` matches: itself, its spelling with diacritics when written without
        them ("Ogedei" for "Ögedei"), or a close spelling (inflection, typo)."""
        if key in p.keys:
            return p.scaled.get(key) or p.spelled.get(key, key)
        if (digits := spelled_number(key)) and digits in p.token_keys:  # "four" for "4"
            return digits
        if key.isascii() and len(key) >= 4 and key in p.folded:
            return p.folded[key]
        if key[:1].isdigit() or len(key) < 5 or not p.word_keys:
            return None
        hit = process.extractOne(key, p.word_keys, scorer=fuzz.ratio, score_cutoff=self.thresholds.fuzzy_ratio)
        return hit[0] if hit else None

    def _best_window(self, st: _Statement, p: _Passage) -> tuple[dict[str, str], tuple[int, int]]:
        """Statement content words matched in the best window of 1-3 sentences (fewest sentences on ties)."""
        targets = {k: self._match(k, p) for k in st.content}
        ranges = p.sentences or [(0, len(p.toks))]
        best: tuple[int, int, int] = (-1, 0, 0)  # (found, -sentences, start) ordering
        best_window = (0, len(p.toks))
        for i in range(len(ranges)):
            seen: set[str] = set()
            for w in range(min(_MAX_WINDOW, len(ranges) - i)):
                a, b = ranges[i + w]
                seen.update(t.key for t in p.toks[a:b])
                found = sum(1 for t in targets.values() if t is not None and t in seen)
                if (found, -w) > best[:2]:
                    best, best_window = (found, -w, i), (ranges[i][0], b)
        a, b = best_window
        window_keys = {t.key for t in p.toks[a:b]}
        matched = {k: t for k, t in targets.items() if t is not None and t in window_keys}
        return matched, best_window

    def _evidence(self, p: _Passage, matched: dict[str, str], rows: Sequence[tuple[int, int]], decisive: set[str]
                  ) -> tuple[int, int] | None:
        """Original offsets from the first to the last matched word of the evidence: of the window's
        sentences (``rows``, token ranges), the one holding the most matched words, widened only to
        those holding a matched name or number it lacks. A word of the statement that a neighbouring
        sentence also happens to use ("signed") does not stretch the span over three sentences."""
        wanted = set(matched.values())
        held = [{t.key for t in p.toks[a:b]} & wanted for a, b in rows]
        core = max(range(len(rows)), key=lambda i: (len(held[i]), -i))
        needed = {matched[k] for k in matched if k in decisive} - held[core]
        extra = [i for i, keys in enumerate(held) if keys & needed]
        first, last = min([core, *extra]), max([core, *extra])
        hits = [t for t in p.toks[rows[first][0]:rows[last][1]] if t.key in wanted]
        if not hits:
            return None
        return p.norm.original_span(hits[0].start, hits[-1].end)

    def _phrase_span(self, words: list[str], p: _Passage) -> tuple[int, int] | None:
        n = len(words)
        if not n:
            return None
        keys = [t.key for t in p.toks]
        for i in range(len(keys) - n + 1):
            if keys[i:i + n] == words:
                return p.norm.original_span(p.toks[i].start, p.toks[i + n - 1].end)
        return None
