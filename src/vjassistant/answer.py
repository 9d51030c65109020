"""What answering returns: the ``Answer``, its ``Trace`` of steps, and the streaming ``Response``.

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

from .citations import Citation
from .retrieval import Passage

if TYPE_CHECKING:  # pragma: no cover
    from .check import CitationReport

COLLECTION, RETRIEVAL = "collection", "retrieval"  # Answer.mode: which context answered


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
