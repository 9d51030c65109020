"""The checks an answer goes through after the model wrote it: a list of steps built from Settings.

Each step looks at the answer, may change its citations or text, and returns one TraceEntry
saying what it did; a step that declines sets ``TraceEntry.declined`` and the steps after it
do not run. ``check_steps(settings)`` is the list, in order: read it to know what an answer
went through. A new rule is one more class here and one line in that list.

Steps never call the retriever, the model or rebuild the prompt: they work on ``Answer.passages``
(the passages, or whole documents, the model was given). The model's own decline is judged
before any citation is. Rules measured and deleted (the off-top, names and verify rules, the
confidence floor, translation): docs/decisions.md#decline-rules.
"""
from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .answer import Answer, Citation, TraceEntry
from .config import Settings
from .grounding.check import UNCITED, check_statements
from .grounding.citations import MARKER, drop_statements, resolve, statements
from .grounding.support import SUPPORTED, UNSUPPORTED, UNVERIFIED, SupportChecker
from .grounding.textnorm import simple
from .language import detect_language
from .prompts import NOT_FOUND_SENTINEL, declines


@dataclass
class StepContext:
    """What the steps may use besides the answer."""

    settings: Settings
    checker: SupportChecker
    sentinel_seen: bool = False  # the stream filter saw the model's NOT_FOUND


class Step(Protocol):
    name: str

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry: ...


def supported(answer: Answer) -> bool:
    """Whether any statement of the answer stands supported (or unverifiable) after its check."""
    return answer.check is not None and any(st.verdict in (SUPPORTED, UNVERIFIED) for st in answer.check.statements)


def in_its_language(answer: Answer) -> bool:
    """Whether the answer's text (markers aside) reads as the question's language: a bare number
    ("39 [5]") has no language, and a bare name is guessed among the question's and passages' languages."""
    among = {answer.language, *(p.language for p in answer.passages if p.language)}
    return detect_language(MARKER.sub("", answer.text), default="", among=among) == answer.language


def recheck(answer: Answer, ctx: StepContext) -> None:
    answer.check = check_statements(answer.text, answer.passages, ctx.checker, (answer.language,),
                                    answer.standalone_question)


class ModelDeclined:
    """The model's own decline: NOT_FOUND first, or a reply with no words at all."""

    name = "model"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        if ctx.sentinel_seen or declines(answer.raw_text):
            where = "documents" if answer.mode == "collection" else "passages"
            return TraceEntry(self.name, declined=f"the model found no answer in the {where}")
        return TraceEntry(self.name, note="answered")


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
        note += "" if supported(answer) else "; no statement supported"
        return TraceEntry(self.name, note=note, removed=dropped)


class DropRepeats:
    """Remove a sentence that repeats an earlier one word for word, with its citations: small
    models loop through list items ("Đập thêm ... [3]" nine times); a repeat adds nothing."""

    name = "repeats"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        assert answer.check is not None
        seen: set[str] = set()
        again = []
        for st in answer.check.statements:
            key = " ".join(re.findall(r"\w+", simple(st.text)))
            if key in seen:
                again.append(st)
            seen.add(key)
        if not again:
            return TraceEntry(self.name, note="no sentence repeated")
        answer.text = drop_statements(answer.text, [(st.start, st.end) for st in again])
        firsts: dict[tuple[str, int], Citation] = {}
        for c in answer.citations:
            firsts.setdefault((c.statement, c.marker), c)
        answer.citations = list(firsts.values())
        recheck(answer, ctx)
        return TraceEntry(self.name, removed=[{"marker": 0, "statement": st.text, "why": "a repeat"} for st in again])


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


class RequireSupport:
    """Decline an answer left with no supported statement."""

    name = "support"

    def run(self, answer: Answer, ctx: StepContext) -> TraceEntry:
        if supported(answer):
            return TraceEntry(self.name, note="supported")
        where = "the documents" if answer.mode == "collection" else "a passage"
        return TraceEntry(self.name, declined=f"no statement of the answer is supported by {where}")


def check_steps(settings: Settings) -> list[Step]:
    """The steps every answer goes through after generation, in order, as ``settings`` asks."""
    steps: list[Step] = [ModelDeclined(), Citations(), DropRepeats()]
    if settings.drop_unsupported:
        steps.append(DropUnsupported())
    steps.append(RequireSupport())
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
