"""Check the citations of any text: per statement, per citation, and ALCE recall / precision.

``check_citations(text, passages)`` takes text with [n] markers (an answer of ours, or
anyone's) and the passages the markers number (Passages, file paths, or plain strings) and
says, for each statement, whether its citations support it. Nothing is rewritten here:
that is ``citations.resolve``'s job when answering; this is the audit.

ALCE-style figures (Gao et al., 2023), with support.py's verdicts standing in for the NLI
model: citation recall is the share of statements fully supported by their citations
together; a citation is precise when its statement is supported and the citation is needed
(it supports the statement alone, or the others do not without it); citation precision is
the share of precise citations. A statement without a marker counts against recall.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..answer import Citation, Passage
from ..embeddings import Embedder
from ..errors import InputError
from ..language import detect_language
from .citations import citation, claim, clauses, square_markers, statements, written_in
from .support import PARTIAL, SUPPORTED, UNSUPPORTED, UNVERIFIED, SupportChecker

UNCITED = "uncited"  # a statement with no marker (or only markers that point at no passage)


@dataclass
class StatementCheck:
    """One statement of the text: its span in the text, its markers and the verdict on them."""

    text: str
    start: int
    end: int
    markers: list[int]
    verdict: str                 # supported / partial / unsupported / unverified / uncited
    score: float                 # support by all its cited passages together
    citations: list[Citation] = field(default_factory=list)  # each valid marker judged alone
    invalid_markers: list[int] = field(default_factory=list)  # markers that point at no passage
    precise: list[int] = field(default_factory=list)          # markers that are needed and supportive


@dataclass
class CitationReport:
    """The whole check: every statement, ALCE citation recall and precision."""

    statements: list[StatementCheck]
    citation_recall: float
    citation_precision: float
    citations: int

    @property
    def unsupported(self) -> list[StatementCheck]:
        """Statements not supported by their citations (unsupported, uncited, or only partly)."""
        return [s for s in self.statements if s.verdict in (UNSUPPORTED, UNCITED, PARTIAL)]

    @property
    def ok(self) -> bool:
        """True when every statement is supported (or unverified: another language, no embedder)."""
        return all(s.verdict in (SUPPORTED, UNVERIFIED) and not s.invalid_markers for s in self.statements)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "citation_recall": self.citation_recall, "citation_precision": self.citation_precision,
                "citations": self.citations, "unsupported": [s.text for s in self.unsupported],
                "statements": [asdict(s) for s in self.statements]}


def check_statements(text: str, passages: Sequence[Passage], checker: SupportChecker,
                     languages: Sequence[str] | None = None, question: str | None = None) -> CitationReport:
    """The report for ``text`` against numbered ``passages`` (``Passage.number`` is its marker).

    Given ``languages`` (the question's), a statement is taken to be in one of them or of the
    passages' languages (citations.written_in); otherwise its language is guessed freely. Given the
    ``question``, a bare answer is judged as a claim with it (citations.claim), as when answering."""
    by_number = {p.number: p for p in passages}
    among = written_in(passages, languages)
    text = square_markers(text, set(by_number))
    out: list[StatementCheck] = []
    total = precise_total = supported = 0
    for st in statements(text):
        markers = list(dict.fromkeys(st.numbers))
        valid = [n for n in markers if n in by_number]
        check = StatementCheck(text=st.text, start=st.start, end=st.end, markers=markers, verdict=UNCITED,
                               score=0.0, invalid_markers=[n for n in markers if n not in by_number])
        total += len(markers)
        if valid:
            said = claim(st.text, question)
            language = detect_language(said, default=by_number[valid[0]].language or "en", among=among)
            portable = checker.portable_names(said, [p.text for p in passages if p.language != language])
            alone = {n: checker.support(said, by_number[n].text, statement_language=language,
                                        passage_language=by_number[n].language or None, portable=portable)
                     for n in valid}
            check.citations = [citation(st.text, by_number[n], alone[n]) for n in valid]
            best = max(alone.values(), key=lambda a: (a.verdict == SUPPORTED, a.score))
            shared = _shared_language([by_number[n] for n in valid])
            if len(valid) > 1 and shared and best.verdict != SUPPORTED:  # together they may say it all
                joint = checker.support(said, "\n".join(by_number[n].text for n in valid),
                                        statement_language=language, passage_language=shared, portable=portable)
                best = joint if joint.score > best.score else best
            if best.verdict != SUPPORTED and len(valid) > 1 and (parts := clauses(said)):
                each = [max((checker.support(part, by_number[n].text, statement_language=language,
                                             passage_language=by_number[n].language or None, portable=portable)
                             for n in valid), key=lambda r: (r.verdict == SUPPORTED, r.score)) for part in parts]
                if all(r.verdict == SUPPORTED for r in each):  # each clause stands in one of the cited passages
                    best = min(each, key=lambda r: r.score)
            check.verdict, check.score = best.verdict, best.score
            if check.verdict in (SUPPORTED, UNVERIFIED):
                check.precise = [n for n in valid if _needed(said, n, valid, alone, by_number, checker, language)]
        supported += check.verdict == SUPPORTED
        precise_total += len(check.precise)
        out.append(check)
    return CitationReport(out, citation_recall=round(supported / len(out), 4) if out else 1.0,
                          citation_precision=round(precise_total / total, 4) if total else 1.0, citations=total)


def _shared_language(ps: Sequence[Passage]) -> str | None:
    languages = {p.language for p in ps}
    return languages.pop() if len(languages) == 1 else None


def _needed(statement: str, n: int, valid: list[int], alone: dict, by_number: dict[int, Passage],
            checker: SupportChecker, language: str) -> bool:
    """ALCE: a citation is irrelevant when it does not support the statement alone and the
    other citations support it without it."""
    if alone[n].verdict in (SUPPORTED, UNVERIFIED) or len(valid) == 1:
        return alone[n].verdict in (SUPPORTED, UNVERIFIED)
    rest = [by_number[m] for m in valid if m != n]
    without = checker.support(statement, "\n".join(p.text for p in rest), statement_language=language,
                              passage_language=_shared_language(rest))
    return without.verdict != SUPPORTED


def as_passages(sources: Sequence[Passage | str | os.PathLike[str]]) -> list[Passage]:
    """Numbered passages from Passages (their own number kept when set), files (Path, or a str
    naming an existing file: loaded like ingestion does) or plain strings (the text itself)."""
    from ..documents import load_document, not_a_file

    out: list[Passage] = []
    for i, src in enumerate(sources, start=1):
        if isinstance(src, Passage):
            out.append(src if src.number else Passage(**{**asdict(src), "number": i}))
            continue
        if isinstance(src, os.PathLike) or (isinstance(src, str) and _names_a_file(src)):
            path = Path(src).expanduser()
            if why := not_a_file(path):
                raise InputError(f"Source {path} {why}", "check the path of each source file")
            doc = load_document(path)
            out.append(Passage(chunk_id=f"{doc.id}:all", doc_id=doc.id, source=doc.source, filename=doc.filename,
                               title=doc.title, date=doc.date, language=doc.language, start=0, end=len(doc.text),
                               text=doc.text, number=i))
            continue
        if not isinstance(src, str):
            raise InputError(f"Source {i} is a {type(src).__name__}", "pass Passages, file paths or strings")
        out.append(Passage(chunk_id=f"text-{i}", doc_id=f"text-{i}", source="", filename=f"passage {i}", title="",
                           date="", language=detect_language(src[:600]), start=0, end=len(src), text=src, number=i))
    return out


def _names_a_file(text: str) -> bool:
    try:
        return "\n" not in text and len(text) < 4096 and Path(text).expanduser().is_file()
    except OSError:  # a name too long for the file system: it is text
        return False


def check_citations(text: str, passages: Sequence[Passage | str | os.PathLike[str]], *,
                    embedder: Embedder | None = None, semantic: bool = True,
                    checker: SupportChecker | None = None, languages: Sequence[str] | None = None) -> CitationReport:
    """Check every [n] citation in ``text`` against ``passages`` (marker n = the n-th source).

    The multilingual embedder is loaded when ``semantic`` (default) and none is given; without
    it, a statement cited to a passage in another language is ``unverified``. ``languages``: the
    question's language when known (an answer JSON gives it), as ``check_statements`` takes it;
    without it each statement's language is guessed freely.
    """
    if not text or not text.strip():
        raise InputError("The text to check is empty", "pass text with [n] citation markers")
    numbered = as_passages(passages)
    if checker is None:
        if embedder is None and semantic:
            from ..embeddings import E5Embedder

            embedder = E5Embedder()
        checker = SupportChecker(embedder if semantic else None)
    return check_statements(text, numbered, checker, languages)


def passage_from_json(item: Any, i: int, where: str = "the answer") -> Passage:
    """A Passage from one entry of an answer's "passages": unknown keys dropped, missing ones defaulted."""
    item = {"text": item} if isinstance(item, str) else item
    if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
        raise InputError(f"passage {i} in {where} has no \"text\"", "each passage needs its text")
    defaults = {"chunk_id": f"passage-{i}", "doc_id": f"passage-{i}", "source": "", "filename": f"passage {i}",
                "title": "", "date": "", "language": "", "start": 0, "end": len(item["text"])}
    known = {f.name for f in fields(Passage)}
    try:
        p = Passage(**{**defaults, **{k: v for k, v in item.items() if k in known and v is not None}})
        p.start, p.end, p.number = int(p.start), int(p.end), int(p.number)
    except (TypeError, ValueError) as exc:
        raise InputError(f"passage {i} in {where} is malformed ({exc})", "use the JSON of `vjassistant ask --json`")
    if not p.language:
        p.language = detect_language(p.text[:600])
    return p


_SYMBOLS = {"supported": "✓", "partial": "~", "unsupported": "✗", "unverified": "?", "uncited": "–"}


def format_report(report: CitationReport, text: str, numbers: Sequence[int], where: str = "",
                  failed: bool = False) -> str:
    """The per-statement report: verdict, markers, each citation's evidence and what it lacks.

    With ``where`` (the text's file) each statement starts with file:line, as compilers print it,
    so editors and CI logs link to it."""
    lines: list[str] = []
    valid = ", ".join(map(str, sorted(numbers))) or "none"
    for s in report.statements:
        line = f"{where}:{text.count(chr(10), 0, s.start) + 1}: " if where else ""
        markers = f"[{', '.join(map(str, s.markers))}] " if s.markers else ""
        lines.append(f"{line}{_SYMBOLS.get(s.verdict, '?')} {s.verdict} {s.score:.2f}  {markers}{_short(s.text, 200)}")
        for c in s.citations:
            lines.append(f"    [{c.marker}] {c.verdict} {c.score:.2f}  {c.filename} chars {c.start}–{c.end}"
                         + (f"  \"{_short(c.quote, 120)}\"" if c.quote else ""))
            if c.missing:
                lines.append(f"        missing: {', '.join(c.missing)}")
        for n in s.invalid_markers:
            lines.append(f"    [{n}] points at no source (sources: {valid})")
        if not s.markers:
            lines.append("    no citation marker")
    counts = {v: sum(s.verdict == v for s in report.statements) for v in _SYMBOLS}
    bad = sum(len(s.invalid_markers) for s in report.statements)
    lines += [""] if lines else []
    lines.append((", ".join(f"{k} {v}" for k, v in counts.items() if v) or "no statements (no sentence in the text)")
                 + f"; {report.citations} citation(s)" + (f", {bad} pointing at no source" if bad else ""))
    verdict = "FAIL" if failed else "OK" + (f" ({counts['unverified']} unverified: --strict fails on them)"
                                            if counts["unverified"] else "")
    lines.append(f"citation recall {report.citation_recall:.3f}, citation precision "
                 f"{report.citation_precision:.3f} (ALCE)  {verdict}")
    return "\n".join(lines)


def _short(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"
