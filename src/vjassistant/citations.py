"""Citations: parse [n] markers, map them to passages and exact source spans, score support.

A marker that points at no passage is removed, never shown, both from the final answer
and from the text streamed while the model writes. A sentence the model left without a
marker gets one when a single passage clearly states it (most of its content words are
there), so small models that forget brackets still produce checkable answers.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

from .chunking import sentence_spans
from .retrieval import Passage, lexical_tokens

MARKER = re.compile(r"\s?\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_LEADING_MARKERS = re.compile(r"(?:\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SUPPORTED, PARTIAL, UNSUPPORTED = "supported", "partial", "unsupported"
INFER_THRESHOLD = 0.6


@dataclass
class Citation:
    """One [n] marker resolved to a passage and to the evidence span in its document."""

    marker: int
    doc_id: str
    filename: str
    source: str
    title: str
    chunk_id: str
    start: int          # evidence span in the document's text: text[start:end] == quote
    end: int
    quote: str
    statement: str      # the answer sentence that carries the marker
    verdict: str        # supported / partial / unsupported (lexical support, see support())
    score: float
    inferred: bool = False  # True when the model gave no marker and we attached it

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def marker_numbers(marker_text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", marker_text)]


def clean_markers(text: str, valid: set[int]) -> str:
    """Drop marker numbers outside ``valid``; drop a bracket left empty."""
    def fix(m: re.Match[str]) -> str:
        keep = [n for n in marker_numbers(m.group(1)) if n in valid]
        lead = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip())]
        return f"{lead}[{', '.join(map(str, keep))}]" if keep else ""
    return MARKER.sub(fix, text)


def statements(text: str) -> list[tuple[str, list[int]]]:
    """Answer sentences (markers stripped) with the marker numbers that belong to each.

    A marker standing alone after a full stop ("... in 2020. [1]") belongs to the sentence before it.
    """
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        piece = text[s:e]
        lead = _LEADING_MARKERS.match(piece)
        if lead and out:  # "... 2020. [1] Next sentence": the [1] closes the previous one
            out[-1][1].extend(n for m in MARKER.finditer(lead.group()) for n in marker_numbers(m.group(1)))
            piece = piece[lead.end():]
        numbers = [n for m in MARKER.finditer(piece) for n in marker_numbers(m.group(1))]
        plain = MARKER.sub("", piece).strip()
        if re.search(r"\w", plain):
            out.append((plain, numbers))
        elif out:
            out[-1][1].extend(numbers)
    return out


def support(statement: str, passage_text: str) -> float:
    """Share of the statement's content words found in the passage; 0 if a number differs."""
    words = set(lexical_tokens(statement))
    if not words:
        return 0.0
    found = set(lexical_tokens(passage_text))
    numbers = {n for n in _NUMBER.findall(statement)}
    if numbers and not numbers <= set(_NUMBER.findall(passage_text)):
        return 0.0
    return len(words & found) / len(words)


def verdict(score: float) -> str:
    return SUPPORTED if score >= 0.7 else PARTIAL if score >= 0.35 else UNSUPPORTED


def evidence_span(statement: str, passage: Passage) -> tuple[int, int]:
    """Document offsets of the passage sentence that best supports ``statement`` (or the whole passage)."""
    best, span = 0.0, (passage.start, passage.end)
    for s, e in sentence_spans(passage.text):
        score = support(statement, passage.text[s:e])
        if score > best:
            best, span = score, (passage.start + s, passage.start + e)
    return span


def resolve(text: str, passages: Sequence[Passage]) -> tuple[str, list[Citation]]:
    """Clean ``text`` of invalid markers, infer missing ones, and build Citations.

    Returns the answer text to show and one Citation per (statement, passage) pair.
    """
    by_number = {p.number: p for p in passages}
    text = clean_markers(text, set(by_number))
    citations: list[Citation] = []
    additions: list[tuple[str, int]] = []
    for statement, numbers in statements(text):
        inferred = False
        if not numbers and passages:
            scored = max(passages, key=lambda p: support(statement, p.text))
            if support(statement, scored.text) >= INFER_THRESHOLD:
                numbers, inferred = [scored.number], True
                additions.append((statement, scored.number))
        for n in dict.fromkeys(numbers):
            p = by_number[n]
            score = support(statement, p.text)
            start, end = evidence_span(statement, p)
            doc_text_start = start - p.start
            quote = p.text[doc_text_start: doc_text_start + (end - start)]
            citations.append(Citation(marker=n, doc_id=p.doc_id, filename=p.filename, source=p.source,
                                      title=p.title, chunk_id=p.chunk_id, start=start, end=end,
                                      quote=quote, statement=statement, verdict=verdict(score),
                                      score=round(score, 3), inferred=inferred))
    for statement, n in additions:
        text = _append_marker(text, statement, n)
    return text, citations


def _append_marker(text: str, statement: str, n: int) -> str:
    at = text.find(statement)
    if at < 0:
        return text
    end = at + len(statement)
    return f"{text[:end]} [{n}]{text[end:]}"


class StreamFilter:
    """Removes invalid markers and a leading NOT_FOUND sentinel from streamed pieces.

    Text that might still become a marker ("[1" so far) or the sentinel is held back
    until it is decided, so nothing invalid ever reaches the screen.
    """

    def __init__(self, valid: set[int], sentinel: str) -> None:
        self.valid, self.sentinel = valid, sentinel
        self._held = ""
        self._started = False
        self.sentinel_seen = False

    def feed(self, piece: str) -> str:
        self._held += piece
        if not self._started:
            head = self._held.lstrip()
            if head and self.sentinel.startswith(head[: len(self.sentinel)]) and len(head) < len(self.sentinel):
                return ""
            if head.startswith(self.sentinel):
                self.sentinel_seen = True
                self._held = ""
                return ""
            if head:
                self._started = True
        cut = self._safe_prefix_len()
        out, self._held = self._held[:cut], self._held[cut:]
        return clean_markers(out, self.valid)

    def flush(self) -> str:
        out, self._held = self._held, ""
        return "" if self.sentinel_seen else clean_markers(out, self.valid)

    def _safe_prefix_len(self) -> int:
        """Everything before an '[' that could still open a marker is safe to emit."""
        open_at = self._held.rfind("[")
        if open_at >= 0 and "]" not in self._held[open_at:] and re.fullmatch(r"\[[\d,;\s]{0,12}", self._held[open_at:]):
            # keep the space before the bracket too: an invalid marker takes it with it
            return open_at - 1 if open_at > 0 and self._held[open_at - 1].isspace() else open_at
        return len(self._held)


def unique_passages(citations: Iterable[Citation]) -> Iterator[str]:
    seen: set[str] = set()
    for c in citations:
        if c.chunk_id not in seen:
            seen.add(c.chunk_id)
            yield c.chunk_id
