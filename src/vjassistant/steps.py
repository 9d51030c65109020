"""The checks an answer goes through after the model wrote it: a list of steps built from Settings.

Each step looks at the answer, may change its citations or text, and returns one TraceEntry
saying what it did; a step that declines sets ``TraceEntry.declined`` and the steps after it
do not run. ``check_steps(settings)`` is the list, in order: read it to know what an answer
went through. A new rule is one more class here and one line in that list.

Steps never call the retriever or rebuild the prompt: they work on ``Answer.passages`` (the
passages, or whole documents, the model was given). What the model itself said first (its
decline, its confidence) is judged before any citation is.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .answer import Answer, TraceEntry
from .asks import asks_for, gives
from .check import UNCITED, check_statements
from .citations import Citation, drop_markers, drop_statements, resolve, statements
from .config import Settings
from .embeddings import Embedder
from .language import detect_language
from .llm import ChatModel, Judge
from .names import question_names
from .prompts import NOT_FOUND_SENTINEL, declines
from .store import ChunkStore
from .support import SUPPORTED, UNSUPPORTED, UNVERIFIED, SupportChecker
from .translate import needs_translation, translate_answer
from .verify import distances, judge, off_top, unnamed


@dataclass
class StepContext:
    """What the steps may use besides the answer: the collaborators of the Assistant that asked."""

    settings: Settings
    checker: SupportChecker
    embedder: Embedder      # for sentence embeddings (shares the checker's cache)
    store: ChunkStore
    model: ChatModel
    query_vector: np.ndarray | None = None
    sentinel_seen: bool = False  # the stream filter saw the model's NOT_FOUND


class Step(Protocol):
    name: str

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry: ...


def supported(answer: Answer) -> bool:
    """Whether any statement of the answer stands supported (or unverifiable) after its check."""
    return answer.check is not None and any(st.verdict in (SUPPORTED, UNVERIFIED) for st in answer.check.statements)


def remove_citations(answer: Answer, ctx: StepContext, removed: Sequence[Citation], why: str) -> list[dict[str, Any]]:
    """Take ``removed`` out of the answer's text and citations, re-check it; the trace records."""
    if not removed:
        return []
    answer.text = drop_markers(answer.text, {(c.statement, c.marker) for c in removed})
    answer.citations = [c for c in answer.citations if all(c is not r for r in removed)]
    recheck(answer, ctx)
    return [{"marker": c.marker, "statement": c.statement, "why": why} for c in removed]


def recheck(answer: Answer, ctx: StepContext) -> None:
    answer.check = check_statements(answer.text, answer.passages, ctx.checker, (answer.language,),
                                    answer.standalone_question)


UNSUPPORTED_NOTE = "; no statement supported"  # how the Citations step notes an answer it left unsupported


class ModelDeclined:
    """The model's own decline: NOT_FOUND first, or a reply with no words at all."""

    name = "model"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        if ctx.sentinel_seen or declines(answer.raw_text):
            where = "documents" if answer.mode == "collection" else "passages"
            return TraceEntry(self.name, declined=f"the model found no answer in the {where}")
        return TraceEntry(self.name, note="answered")


@dataclass
class ConfidenceFloor:
    """Decline an answer whose first token the model gave a probability under ``floor``."""

    floor: float
    name = "confidence"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        if answer.confidence is not None and answer.confidence < self.floor:
            return TraceEntry(self.name, declined=f"the model was unsure of its answer (confidence "
                                                  f"{answer.confidence:.2f}, under VJA_MIN_CONFIDENCE {self.floor})")
        return TraceEntry(self.name, note="confident enough" if answer.confidence is not None else "no confidence")


class Citations:
    """Resolve the markers (drop invalid ones, move misplaced ones, add missing ones) and check
    every statement against its cited passages (citations.resolve, check.check_statements)."""

    name = "citations"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        written = {st.text: list(dict.fromkeys(st.numbers)) for st in statements(answer.raw_text)}
        text = answer.raw_text.replace(NOT_FOUND_SENTINEL, "").strip()
        answer.text, answer.citations = resolve(text, answer.passages, ctx.checker, (answer.language,),
                                                answer.standalone_question)
        recheck(answer, ctx)
        kept = {(c.statement, c.marker) for c in answer.citations}
        dropped = [{"marker": n, "statement": st, "why": "the passage does not say it"}
                   for st, numbers in written.items() for n in numbers if (st, n) not in kept]
        added = sum(c.inferred for c in answer.citations)
        note = f"{len(answer.citations)} citation(s), {added} added"
        note += "" if supported(answer) else UNSUPPORTED_NOTE
        return TraceEntry(self.name, note=note, removed=dropped)


class AnswerKind:
    """Decline an answer that gives no number (or date) when the question asks for one (asks.py):
    "How much money ...?" is not answered by the agreement's aims, however well cited."""

    name = "asks"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        kind = asks_for(answer.standalone_question)
        if gives(kind, answer.text):
            return TraceEntry(self.name, note=f"asks for {kind}")
        return TraceEntry(self.name, declined=f"the question asks for a {kind} and the answer gives none")


class DropUnsupported:
    """Remove the sentences no document supports (a number, date or name that no source holds
    makes a sentence unsupported: support.py); decline when they were most of the answer."""

    name = "unsupported"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        assert answer.check is not None
        bad = [st for st in answer.check.statements if st.verdict in (UNSUPPORTED, UNCITED)]
        if not bad:
            return TraceEntry(self.name, note="every sentence supported")
        if len(bad) == len(answer.check.statements):  # nothing stands: RequireSupport says why
            return TraceEntry(self.name, note="no sentence supported")
        removed = [{"marker": 0, "statement": st.text, "why": _unsupported_why(st)} for st in bad]
        if 2 * len(bad) > len(answer.check.statements):
            return TraceEntry(self.name, removed=removed,
                              declined=f"{len(bad)} of the answer's {len(answer.check.statements)} sentences "
                                       "are in no document")
        answer.text = drop_statements(answer.text, [(st.start, st.end) for st in bad])
        gone = {st.text for st in bad}
        answer.citations = [c for c in answer.citations if c.statement not in gone]
        recheck(answer, ctx)
        return TraceEntry(self.name, removed=removed)


def _unsupported_why(st: Any) -> str:
    missing = sorted({m for c in st.citations for m in c.missing})
    return "no document supports it" + (f" (missing: {', '.join(missing[:5])})" if missing else "")


class OffTop:
    """In an answer the model was unsure of (confidence under ``floor``), remove citations of
    passages further from the question than the closest passage given (verify.off_top)."""

    name = "off-top"

    def __init__(self, floor: float) -> None:
        self.floor = floor

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        if answer.confidence is None or answer.confidence >= self.floor or not answer.citations:
            return TraceEntry(self.name, note="not unsure" if answer.citations else "no citations")
        why = (f"the model was unsure of its answer (confidence {answer.confidence:.2f}, under "
               f"VJA_MIN_CONFIDENCE_OFF_TOP {self.floor}) and the passages that supported it are further "
               "from the question than the closest one")
        return TraceEntry(self.name, removed=remove_citations(answer, ctx, off_top(answer.citations, answer.passages),
                                                              why))


class QuestionNames:
    """Remove citations of passages in the question's language whose document names none of the
    question's names while another document given in that language does (verify.unnamed)."""

    name = "names"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        if not answer.citations:
            return TraceEntry(self.name, note="no citations")
        question = answer.standalone_question
        if question != answer.question and detect_language(question, answer.language) != answer.language:
            question = answer.question  # a rewrite in another language would name things otherwise
        names = question_names(question)
        if not names:
            return TraceEntry(self.name, note="the question names nothing")
        documents = {p.doc_id: ctx.store.document_text(p.doc_id) for p in answer.passages
                     if p.language == answer.language}
        found = unnamed(names, answer.citations, answer.passages, documents, answer.language)
        why = (f"the passages that supported it name none of the question's names ({', '.join(names.shown)}) "
               "while another passage given does (VJA_QUESTION_NAMES)")
        return TraceEntry(self.name, removed=remove_citations(answer, ctx, found, why))


@dataclass
class Verify:
    """Ask the model whether a cited passage answers the question, when the evidence stands more
    than ``gap`` from where the question points; a "yes" under ``min_yes`` removes it (verify.py)."""

    gap: float
    min_yes: float
    name = "verify"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        if not answer.citations or not isinstance(ctx.model, Judge):
            return TraceEntry(self.name, note="nothing to ask")
        gaps = distances(answer.standalone_question, answer.citations, answer.passages, ctx.embedder,
                         ctx.query_vector)
        verdicts = judge(ctx.model, answer.standalone_question, answer.citations, answer.passages, gaps, self.gap)
        refuted = [v.citation for v in verdicts if v.refutes(self.min_yes)]
        why = "the model judged that the passage it cited does not answer the question"
        return TraceEntry(self.name, note=f"asked about {len(verdicts)}", examined=len(verdicts),
                          removed=remove_citations(answer, ctx, refuted, why))


class RequireSupport:
    """Decline an answer left with no supported statement; the reason names what left it so."""

    name = "support"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        if supported(answer):
            return TraceEntry(self.name, note="supported")
        first = answer.step(Citations.name)
        if first is not None and first.note.endswith(UNSUPPORTED_NOTE):
            return TraceEntry(self.name, declined="no statement of the answer is supported by a passage")
        whys = list(dict.fromkeys(r["why"] for e in answer.trace if e.step not in (Citations.name, DropUnsupported.name)
                                  for r in e.removed))
        return TraceEntry(self.name, declined="; ".join(whys) or "no statement of the answer is left supported "
                                                                  "by a passage")


class Translate:
    """Put a checked answer written in its passages' language into the question's (translate.py)."""

    name = "translate"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        assert answer.check is not None  # steps after Citations always leave a check
        if not needs_translation(answer.text, answer.language, [p.language for p in answer.passages]):
            return TraceEntry(self.name, note="already in the question's language")
        done = translate_answer(ctx.model, answer.text, answer.language, answer.check, answer.passages, ctx.checker,
                                max_tokens=ctx.settings.max_tokens)
        if done is None:
            return TraceEntry(self.name, note="translation refused: it changed what the passages bear out")
        answer.original_text, (answer.text, answer.check) = answer.text, done
        answer.citations = [c for st in answer.check.statements for c in st.citations]
        return TraceEntry(self.name, note="translated")


def check_steps(settings: Settings) -> list[Step]:
    """The steps every answer goes through after generation, in order, as ``settings`` asks."""
    steps: list[Step] = [ModelDeclined()]
    if settings.min_confidence:
        steps.append(ConfidenceFloor(settings.min_confidence))
    steps.append(Citations())
    if settings.min_confidence_off_top:
        steps.append(OffTop(settings.min_confidence_off_top))
    if settings.question_names:
        steps.append(QuestionNames())
    if settings.verify_min_yes:
        steps.append(Verify(settings.verify_gap, settings.verify_min_yes))
    if settings.drop_unsupported:
        steps.append(DropUnsupported())
    steps.append(RequireSupport())
    if settings.require_asked_kind:
        steps.append(AnswerKind())
    if settings.translate_answers:
        steps.append(Translate())
    return steps


def run_steps(steps: Sequence[Step], answer: Answer, ctx: StepContext) -> TraceEntry | None:
    """Run ``steps`` in order on ``answer``, each timed into the trace; the entry that declined, if any."""
    for step in steps:
        t0 = time.perf_counter()
        entry = step.run(answer, ctx)
        entry.seconds = time.perf_counter() - t0
        answer.trace.append(entry)
        if entry.declined:
            return entry
    return None
