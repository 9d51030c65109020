"""The shared types every stage imports: the ``Passage`` a retriever finds, the ``Citation`` the
checker resolves, and what answering returns: the ``Answer``, its ``Trace`` of steps, and the
streaming ``Response``.

An Answer is built by a list of steps (steps.py); each step appends one ``TraceEntry`` saying
what it did: how long it took, which citations or sentences it removed and why, and, when it
declined the answer, the reason. ``Answer.timings`` holds only times (seconds), counts live in
``Answer.usage``, and a decline's reason is read off the trace. This module holds no logic of
answering itself.

    response = assistant.stream("Who chairs JETRO?")
    for piece in response:          # the text as the model writes it
        print(piece, end="")
    answer = response.answer        # the checked Answer (its text may differ: see ``revised``)
"""
from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .grounding.check import CitationReport
    from .store import StoredChunk

COLLECTION, RETRIEVAL = "collection", "retrieval"  # Answer.mode: which context answered


@dataclass
class Passage:
    """A retrieved chunk, its document's fields, offsets and retrieval scores."""

    chunk_id: str
    doc_id: str
    source: str
    filename: str
    title: str
    date: str
    language: str
    start: int
    end: int
    text: str
    score: float = 0.0                     # fused RRF score (higher is better)
    dense_similarity: float | None = None  # cosine similarity, None if not in dense top-n
    # similarity above the background: the last (``candidates``-th) dense result's similarity;
    # None when the store holds fewer chunks than that, so there is no background to compare
    dense_margin: float | None = None
    lexical_score: float | None = None     # BM25 score, None if not in lexical top-n
    term_coverage: float = 0.0             # share of the question's content words found here
    number: int = 0                        # its [n] in the prompt, set when the prompt is built

    @classmethod
    def from_stored(cls, chunk: StoredChunk) -> "Passage":
        """The passage of a chunk read back from the store (before any retrieval score)."""
        m = chunk.meta
        return cls(chunk_id=chunk.id, doc_id=str(m["doc_id"]), source=str(m.get("source", "")),
                   filename=str(m.get("filename", "")), title=str(m.get("title", "")),
                   date=str(m.get("date", "")), language=str(m.get("language", "")),
                   start=int(m["start"]), end=int(m["end"]), text=chunk.text)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    verdict: str        # supported / partial / unsupported; unverified: another language and no embedder
    score: float        # 0-1 support score (grounding/support.py)
    inferred: bool = False  # True when the model gave no marker and we attached it
    missing: list[str] = field(default_factory=list)  # statement numbers, names, words the passage lacks

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class TraceEntry:
    """What one step did to an answer."""

    step: str
    seconds: float = 0.0
    note: str = ""                                   # what it found or did, in a few words
    examined: int = 0                                # how many citations or sentences it looked at
    removed: list[dict[str, Any]] = field(default_factory=list)  # {"marker", "statement", "why"} per removal
    declined: str = ""                               # the reason, when this step declined the answer


@dataclass
class Answer:
    """What ``ask`` returns: the text to show, its citations and the evidence behind it."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    abstained: bool = False
    reason: str = ""
    raw_text: str = ""  # the model's own words, before markers were checked (empty if it never ran)
    uncited: list[str] = field(default_factory=list)  # answer sentences no passage supports
    check: CitationReport | None = None  # every statement's verdict, ALCE citation recall and precision
    language: str = "en"
    standalone_question: str = ""
    model: str = ""
    mode: str = ""  # "collection" (the documents themselves were the prompt) or "retrieval"; "" if neither ran
    # The probability the model gave its reply's first token (low: it hesitated over how to
    # begin); None when the model does not say.
    confidence: float | None = None
    revised: bool = False  # the checks changed the text after it streamed: show ``text``, not the stream
    timings: dict[str, float] = field(default_factory=dict)  # seconds only
    usage: dict[str, int] = field(default_factory=dict)      # prompt_tokens, completion_tokens
    trace: list[TraceEntry] = field(default_factory=list)

    def step(self, name: str) -> TraceEntry | None:
        """The trace entry of step ``name``, None when it did not run."""
        return next((e for e in self.trace if e.step == name), None)

    def removed(self) -> list[dict[str, Any]]:
        """Every citation or sentence the steps removed, each with its step and reason."""
        return [{"step": e.step, **r} for e in self.trace for r in e.removed]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["check"] = self.check.to_dict() if self.check is not None else None  # with "ok" and "unsupported"
        return data


class Response:
    """A streamed answer: iterate it for the text pieces as the model writes them; ``answer``
    is the checked Answer once the stream has ended (reading it runs the stream to its end).

    When the checks change the text (a citation moved or dropped, a sentence removed, or the
    whole answer declined), ``answer.revised`` is True and ``answer.text`` replaces what streamed.
    """

    def __init__(self, run: Generator[str, None, Answer]) -> None:
        self._run = run
        self._answer: Answer | None = None
        self._pieces: list[str] = []

    def __iter__(self) -> Iterator[str]:
        while self._answer is None:
            try:
                piece = next(self._run)
            except StopIteration as stop:
                self._answer = stop.value
                break
            self._pieces.append(piece)
            yield piece

    @property
    def answer(self) -> Answer:
        for _ in self:
            pass
        assert self._answer is not None
        return self._answer

    @property
    def streamed(self) -> str:
        """The text streamed so far."""
        return "".join(self._pieces)
