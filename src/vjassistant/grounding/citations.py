"""Citations: parse [n] markers, map them to passages and exact source spans, verify support.

A marker that points at no passage is removed, never shown, both from the final answer
and from the text streamed while the model writes. Every statement is checked against
every passage (support.py): a marker on a passage that supports its statement only in part
or not at all is moved to one that fully does; failing that, an unsupporting one is dropped.
A sentence the model left without a marker gets one when a passage supports it, so small
models that forget brackets still produce checkable answers.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..answer import Citation, Passage
from ..chunking import sentence_spans
from ..language import detect_language
from .support import PARTIAL, SUPPORTED, UNSUPPORTED, UNVERIFIED, Support, SupportChecker

MARKER = re.compile(r"\s?\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[-*•–])\s+")  # "1. ", "- ": a list item's mark is no claim
_LEADING_MARKERS = re.compile(r"(?:\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+")
__all__ = ["Citation", "Statement", "StreamFilter", "drop_markers", "resolve", "statements", "PARTIAL",
           "SUPPORTED", "UNSUPPORTED", "UNVERIFIED"]


# "(2)" where "[2]" was meant: small models often cite with round brackets. Only a bracket of
# passage numbers closing a sentence or a line counts, so "(1971)" or "(see 2)" never do.
_PAREN_MARKER = re.compile(r"\((\d{1,2}(?:\s*,\s*\d{1,2})*)\)(?=\s*(?:[.!?…]|\n|$))")


def square_markers(text: str, valid: set[int]) -> str:
    """Rewrite round-bracket citations of valid passage numbers as ``[n]`` markers."""
    def fix(m: re.Match[str]) -> str:
        numbers = marker_numbers(m.group(1))
        return f"[{m.group(1)}]" if all(n in valid for n in numbers) else m.group(0)
    return _PAREN_MARKER.sub(fix, text)


def marker_numbers(marker_text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", marker_text)]


def clean_markers(text: str, valid: set[int]) -> str:
    """Drop marker numbers outside ``valid``; drop a bracket left empty."""
    def fix(m: re.Match[str]) -> str:
        keep = [n for n in marker_numbers(m.group(1)) if n in valid]
        lead = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip())]
        return f"{lead}[{', '.join(map(str, keep))}]" if keep else ""
    return MARKER.sub(fix, text)


@dataclass
class Statement:
    """One answer sentence: its text without markers, its marker numbers, and its span in
    the answer (trailing markers included)."""

    text: str
    numbers: list[int]
    start: int
    end: int
    lead: str = ""  # a list item's mark ("1. ", "- ") before the text: kept when markers are rewritten


def statements(text: str) -> list[Statement]:
    """Answer sentences with the marker numbers that belong to each.

    A marker standing alone after a full stop ("... in 2020. [1]") belongs to the sentence before it.
    """
    out: list[Statement] = []
    for s, e in sentence_spans(text):
        lead = _LEADING_MARKERS.match(text, s, e)
        if lead and out:  # "... 2020. [1] Next sentence": the [1] closes the previous one
            out[-1].numbers.extend(_numbers_in(lead.group()))
            out[-1].end = lead.end()
            s = lead.end()
        piece = text[s:e]
        plain = MARKER.sub("", piece).strip()
        item = _LIST_ITEM.match(plain)
        plain = plain[item.end():] if item else plain
        if re.search(r"\w", plain):
            out.append(Statement(plain, _numbers_in(piece), s, e, item.group() if item else ""))
        elif out:
            out[-1].numbers.extend(_numbers_in(piece))
            out[-1].end = e
    return out


def _numbers_in(piece: str) -> list[int]:
    return [n for m in MARKER.finditer(piece) for n in marker_numbers(m.group(1))]


def claim(statement: str, question: str | None) -> str:
    """What a statement is checked as: itself, or, when it is a bare answer of one to three words
    ("Japan", "Nakajima Takedo"), the question and the answer as one claim ("Who chairs JETRO:
    Nakajima Takedo."), so the evidence must answer the question, not merely hold the name."""
    if not question or len(re.findall(r"\w+", statement)) > 3:
        return statement
    return f"{question.strip().rstrip('?？ ')}: {statement.strip().rstrip('.')}."


def resolve(text: str, passages: Sequence[Passage], checker: SupportChecker | None = None,
            languages: Sequence[str] | None = None, question: str | None = None) -> tuple[str, list[Citation]]:
    """Clean ``text`` of invalid markers, infer missing ones, move misplaced ones, drop unsupported
    ones, and build Citations carrying each verdict, score and evidence span.

    Given ``languages`` (the question's), a statement is taken to be in one of them or of the
    passages' languages (``written_in``); otherwise its language is guessed freely. Given the
    ``question``, a bare answer is checked as a claim with it (``claim``). Returns the answer text
    to show and one Citation per (statement, cited passage) pair.
    """
    checker = checker or SupportChecker()
    by_number = {p.number: p for p in passages}
    among = written_in(passages, languages)
    text = clean_markers(square_markers(text, set(by_number)), set(by_number))
    citations: list[Citation] = []
    found, kept_markers = statements(text), []
    for st in found:
        numbers, inferred = list(dict.fromkeys(st.numbers)), False
        said = claim(st.text, question)
        language = detect_language(said, default=passages[0].language if passages else "en", among=among)
        portable = checker.portable_names(said, [p.text for p in passages if p.language != language])
        results = {p.number: checker.support(said, p.text, statement_language=language,
                                             passage_language=p.language or None, portable=portable)
                   for p in passages}
        refuted = _refuted_where_closest(results)
        if refuted:
            results = {n: replace(r, verdict=UNSUPPORTED, score=0.0) for n, r in results.items()}
        best = max(results, key=lambda n: (results[n].verdict == SUPPORTED, results[n].same_language,
                                           results[n].score)) if results else 0
        strong = bool(results) and results[best].verdict == SUPPORTED
        if strong and not numbers:
            numbers, inferred = [best], True
        elif strong and all(results[n].verdict in (UNSUPPORTED, PARTIAL) for n in numbers):
            # The model cited the wrong passage; another one clearly states it. A cited passage that
            # shares the statement's topic scores partial, not unsupported (XQuAD: "both chloroplast
            # membranes are homologous ... [2]" with the sentence in [1] and [2] on the same topic).
            numbers = [best]
        elif strong and results[best].same_language and not any(results[n].same_language for n in numbers):
            numbers = [best]  # word-for-word evidence in the statement's language beats the embedder's guess
        if not strong and not refuted and (parts := _clause_support(said, passages, checker, language, portable)):
            results.update(parts)  # "A did X, while B did Y": each clause stands in a passage of its own
            numbers, inferred = list(parts), not numbers
        # A citation whose passage plainly does not say it is dropped: the sentence then shows as uncited.
        cites = [citation(st.text, by_number[n], results[n], inferred) for n in numbers
                 if results[n].verdict != UNSUPPORTED]
        kept_markers.append([c.marker for c in cites])
        citations.extend(cites)
    return _remarked(text, found, kept_markers), citations


def _refuted_where_closest(results: dict[int, Support]) -> bool:
    """Whether a passage contradicts the statement while being at least as close in meaning to it
    as every passage that would support it: a looser match elsewhere does not then support it
    ("các nước phát triển", refuted by "developing countries" in the report it came from, was moved
    to another report on the same topic; docs/decisions.md#closest-refutes)."""
    against = [r.semantic for r in results.values() if r.contradiction and r.semantic is not None]
    backing = [r.semantic for r in results.values() if r.verdict == SUPPORTED and r.semantic is not None]
    return bool(against) and max(against) >= max(backing, default=-1.0)


_CLAUSE = re.compile(r",?\s+(?:while|whereas|but|tandis que|alors que|mais|trong khi|còn|nhưng)\s+|;\s+",
                     re.IGNORECASE)


def clauses(statement: str) -> list[str]:
    """A comparison's clauses ("In 2020 X signed, while in 2022 Y did"), each of three words or more."""
    parts = [p.strip(" ,.") for p in _CLAUSE.split(statement)]
    return [p for p in parts if len(p.split()) >= 3] if len(parts) > 1 else []


def _clause_support(statement: str, passages: Sequence[Passage], checker: SupportChecker, language: str,
                    portable: frozenset[str]) -> dict[int, Support]:
    """When every clause of ``statement`` is supported by some passage: the best passage of each
    with its support (one per passage); {} otherwise."""
    out: dict[int, Support] = {}
    parts = clauses(statement)
    for part in parts:
        found = {p.number: checker.support(part, p.text, statement_language=language,
                                           passage_language=p.language or None, portable=portable) for p in passages}
        best = max(found, key=lambda n: (found[n].verdict == SUPPORTED, found[n].same_language, found[n].score))
        if found[best].verdict != SUPPORTED:
            return {}
        out.setdefault(best, found[best])
    return out if parts else {}


def written_in(passages: Sequence[Passage], languages: Sequence[str] | None) -> set[str]:
    """The languages an answer's statements can be in: its question's (``languages``) and its
    passages'. None (no question known): any, guessed freely (an empty set)."""
    if languages is None:
        return set()
    return {code for code in [*(p.language for p in passages), *languages] if code}


def _remarked(text: str, found: Sequence[Statement], kept: Sequence[list[int]]) -> str:
    """``text`` with each statement's markers replaced by its ``kept`` ones (statements whose
    markers are unchanged keep their text exactly as written)."""
    shown, pos = [], 0
    for st, markers in zip(found, kept):
        if markers != list(dict.fromkeys(st.numbers)):
            shown += [text[pos:st.start], st.lead + with_markers(st.text, markers)]
            pos = st.end
    shown.append(text[pos:])
    return "".join(shown).strip()


def with_markers(sentence: str, numbers: Sequence[int]) -> str:
    """``sentence`` with ``[n, m]`` placed before its final punctuation (no marker when ``numbers`` is empty)."""
    if not numbers:
        return sentence
    marker = f" [{', '.join(map(str, numbers))}]"
    m = re.search(r"[.!?…]+[\"'”’»)\]]*$", sentence)
    return sentence[:m.start()] + marker + sentence[m.start():] if m else sentence + marker


def drop_statements(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` without the statements at ``spans`` (their markers and list marks with them)."""
    out, pos = [], 0
    for start, end in sorted(spans):
        line_start = text.rfind("\n", 0, start) + 1
        if _LIST_ITEM.match(text[line_start:start]) or not text[line_start:start].strip():
            start = line_start  # the item or line goes whole, with its line break
            end += text[end:end + 1] == "\n"
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    joined = "".join(out)
    return re.sub(r"[ \t]{2,}", " ", re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", joined))).strip()


def drop_markers(text: str, pairs: set[tuple[str, int]]) -> str:
    """``text`` without the markers given as (statement text, marker number) pairs."""
    found = statements(text)
    return _remarked(text, found, [[n for n in dict.fromkeys(st.numbers) if (st.text, n) not in pairs]
                                   for st in found])


def citation(statement: str, p: Passage, result: Support, inferred: bool = False) -> Citation:
    """A Citation of passage ``p`` for ``statement``, its evidence span in document offsets."""
    start, end = p.start + result.start, p.start + result.end
    return Citation(marker=p.number, doc_id=p.doc_id, filename=p.filename, source=p.source, title=p.title,
                    chunk_id=p.chunk_id, start=start, end=end, quote=p.text[result.start:result.end],
                    statement=statement, verdict=result.verdict, score=result.score, inferred=inferred,
                    missing=list(result.missing))


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
        if self.sentinel_seen:
            return ""
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
        if open_at >= 0 and "]" not in self._held[open_at:] and re.fullmatch(r"\[[\d,;\s]*", self._held[open_at:]):
            # keep the space before the bracket too: an invalid marker takes it with it
            return open_at - 1 if open_at > 0 and self._held[open_at - 1].isspace() else open_at
        # a trailing space too: the next piece may open a marker, which takes the space with it
        return len(self._held) - 1 if self._held[-1:].isspace() else len(self._held)
