"""Rendering a checked Answer as chat HTML: verdict badges, marked sentences, sources with evidence.

[n] badges are coloured by the checker's verdict on that citation for that sentence;
unsupported and partly supported sentences are marked; a "Sources" section has one
``<details>`` per cited passage showing the passage with its evidence spans in ``<mark>``,
each verdict, score and the words the passage lacks, then the check's citation recall and
precision. Nothing is judged here: the verdicts come from ``Answer.check`` (or, without one,
from the citations). Gradio runs no script in chat messages, so a badge is a plain link to
its passage (``#id``): following a fragment into a closed ``<details>`` opens it, in the
browser itself. Everything from documents or the model is HTML-escaped.
"""
from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

from .answer import Citation
from .errors import VJAError
from .grounding.check import UNCITED, CitationReport
from .grounding.citations import MARKER, PARTIAL, SUPPORTED, UNSUPPORTED, UNVERIFIED, statements
from .language import language_name

if TYPE_CHECKING:  # pragma: no cover
    from .answer import Passage
    from .assistant import Answer

SOURCES_START = '\n\n<div class="vja-sources">'


_MARKER_RUN = re.compile(f"(?:{MARKER.pattern})+")


def badges(text: str, badge: Callable[[int], str] | None = None) -> str:
    """Escape ``text`` and show each [n] marker as a small badge (``badge(n)``; plain by default).

    A run of markers ("[1] [1, 2]") becomes one badge per distinct number.
    """
    def run(m: re.Match[str]) -> str:
        numbers = dict.fromkeys(int(n) for n in re.findall(r"\d+", m.group(0)))
        return "".join(badge(n) if badge else f'<sup class="vja-cite">{n}</sup>' for n in numbers)
    return _MARKER_RUN.sub(run, html.escape(text, quote=False))


def _badge(n: int, c: Citation | None, anchor: str = "") -> str:
    """Badge [n] coloured by the verdict on citation ``c``; a link to the passage's entry when ``anchor``."""
    label = f'<a href="#{anchor}-at">{n}</a>' if anchor else str(n)
    if c is None:  # not judged (no check, or the text is still streaming)
        return f'<sup class="vja-cite">{label}</sup>'
    tip = f"[{n}] {c.verdict} · score {c.score:.2f}" + (f" · not in the passage: {', '.join(c.missing)}"
                                                        if c.missing else "")
    return (f'<sup class="vja-cite vja-{html.escape(c.verdict)}" '
            f'title="{html.escape(tip + (" · click to show the passage" if anchor else ""))}">{label}</sup>')


def _fix(exc: VJAError) -> str:
    return f'<br><span class="vja-muted">fix: {html.escape(exc.hint)}</span>' if exc.hint else ""


def format_error(exc: VJAError) -> str:
    """A VJAError as a chat message: what happened, then the fix."""
    return f"⚠️ **{html.escape(exc.message)}**{_fix(exc)}"


def error_html(exc: VJAError) -> str:
    """A VJAError as an HTML status line (the documents panel): what happened, then the fix."""
    return f'<p class="vja-error">⚠️ <b>{html.escape(exc.message)}</b>{_fix(exc)}</p>'


class _Span(NamedTuple):
    """One answer sentence to render: its span in the text, the verdict on it, its citations by marker."""

    start: int
    end: int
    verdict: str | None  # None: not judged (no check, cited sentence): no mark
    score: float
    cites: dict[int, Citation]


# How a sentence is marked: CSS class, label shown after it.
_FLAGS = {UNSUPPORTED: ("vja-unsupported", "not supported by the sources"),
          UNCITED: ("vja-unsupported", "not supported by the sources"),
          PARTIAL: ("vja-partly", "partly supported")}
_RANK = {SUPPORTED: 0, UNVERIFIED: 1, PARTIAL: 2, UNSUPPORTED: 3}  # a passage's badge shows its worst verdict


def _spans(answer: Answer) -> list[_Span]:
    """The sentences with their verdicts: from ``answer.check`` or, without it, the citations' statements."""
    if answer.check is not None:
        return [_Span(s.start, s.end, s.verdict, s.score, {c.marker: c for c in s.citations})
                for s in answer.check.statements]
    judged = {(c.statement, c.marker): c for c in answer.citations}
    return [_Span(s.start, s.end, None if s.numbers else UNCITED, 0.0,
                  {n: judged[s.text, n] for n in s.numbers if (s.text, n) in judged}) for s in statements(answer.text)]


def _judged(answer: Answer) -> list[Citation]:
    """Every (sentence, passage) judgement, in answer order: the check's when there is one."""
    if answer.check is not None:
        return [c for s in answer.check.statements for c in s.citations]
    return list(answer.citations)


def format_answer(answer: Answer, documents: Mapping[str, str] | None = None) -> str:
    """The final chat message: the answer with verdict badges, its Sources, and the check's figures.

    ``documents`` (doc_id -> whole text) shows each cited source as its whole document with the
    evidence marked, instead of the passage the model read; a badge links to its first evidence span."""
    if answer.abstained:
        return (f'{html.escape(answer.text)}<br><span class="vja-muted">why: {html.escape(answer.reason)}</span>'
                f"{answer_meta(answer)}")
    # Ids are page-wide and every answer has a passage [1]: a per-answer key keeps each badge on its own answer.
    key = hashlib.sha1(f"{answer.question}\0{answer.text}\0{answer.timings.get('total_s', '')}".encode()).hexdigest()
    anchor = f"vja-{key[:10]}-{{}}".format
    by_marker: dict[int, list[Citation]] = {}
    for c in _judged(answer):
        by_marker.setdefault(c.marker, []).append(c)
    passages = {p.number: _whole(p, documents) for p in answer.passages}
    entries = [_source(n, cites, passages.get(n), anchor(n)) for n, cites in sorted(by_marker.items())]
    others = [p for p in answer.passages if p.number not in by_marker]
    footer = _footer(answer.check) if answer.check is not None else ""
    return (f"{_marked_text(answer.text, _spans(answer), lambda n: anchor(n) if n in by_marker else '')}"
            f"{SOURCES_START}<h4>Sources</h4>{''.join(entries)}{_uncited(others)}{footer}{answer_meta(answer)}</div>")


def _whole(p: Passage, documents: Mapping[str, str] | None) -> Passage:
    """``p`` widened to its whole document when ``documents`` holds that document's text."""
    text = (documents or {}).get(p.doc_id)
    return replace(p, text=text, start=0, end=len(text)) if text else p


def _uncited(passages: Sequence[Passage]) -> str:
    """The passages the model was given but no sentence cites, behind a toggle."""
    if not passages:
        return ""
    rows = "".join(f"<li>[{p.number}] <b>{html.escape(p.title or p.filename)}</b> "
                   f'<span class="vja-meta">· <code>{html.escape(p.filename)}</code> · '
                   f"{html.escape(_cut(p.text))}</span></li>" for p in passages)
    return (f'<details class="vja-uncited"><summary class="vja-meta">{len(passages)} more '
            f'{"source" if len(passages) == 1 else "sources"} given to the model, not cited</summary>'
            f'<ul class="vja-notes">{rows}</ul></details>')


def _cut(text: str, size: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[:size].rsplit(" ", 1)[0] + "…"


def answer_meta(answer: Answer) -> str:
    """Which model answered, in which mode, how long it took, and whether the check changed what streamed."""
    t = answer.timings
    mode = {"collection": "the whole collection", "retrieval": "retrieved passages"}.get(answer.mode, "")
    who = f"{answer.model} answered" if answer.model else "answered"
    parts = [f"{who} from {mode}"] if mode else []
    shown = (("retrieve_s", "retrieval"), ("first_token_s", "first token"), ("total_s", "total"))
    parts += [f"{label} {t[key]:.1f} s" for key, label in shown if key in t]
    if answer.revised:
        parts.append("the check revised the streamed text" if not answer.abstained else
                     "the streamed text was withdrawn")
    return f'<div class="vja-meta vja-timings">{html.escape("; ".join(parts))}</div>' if parts else ""


def _source(marker: int, cites: list[Citation], p: Passage | None, anchor: str) -> str:
    """One Sources entry: a summary line with the passage's badge, then the passage with its evidence marked."""
    first, worst = cites[0], max(cites, key=lambda c: _RANK.get(c.verdict, 0))
    meta = [f"<code>{html.escape(first.filename)}</code>"]
    if p is not None and p.date:
        meta.append(html.escape(p.date))
    if p is not None and p.language:
        meta.append(html.escape(language_name(p.language)))
    if p is not None:
        meta.append(f"chars {p.start}–{p.end}" + (" (whole document)" if p.start == 0 and p.end > 0 else ""))
    notes, seen = [], set()
    for c in cites:
        if (c.statement, c.start, c.end) in seen:
            continue
        seen.add((c.statement, c.start, c.end))
        lacks = f" · not in the passage: {html.escape(', '.join(c.missing))}" if c.missing else ""
        notes.append(f'<li><b class="vja-verdict">{html.escape(c.verdict)}</b> · score {c.score:.2f} · '
                     f"chars {c.start}–{c.end} · for “{html.escape(' '.join(c.statement.split()))}”{lacks}</li>")
    return (f"<details><summary>{_badge(marker, worst)} <b>{html.escape(first.title or first.filename)}</b> "
            f'<span class="vja-meta">· {" · ".join(meta)}</span></summary>'
            f'<blockquote class="vja-passage" id="{anchor}">{_evidence(p, cites, anchor)}</blockquote>'
            f'<ul class="vja-notes">{"".join(notes)}</ul></details>')


def _evidence(p: Passage | None, cites: Sequence[Citation], anchor: str = "") -> str:
    """The passage, escaped, with every evidence span in ``<mark>`` (overlapping spans merged).

    A span is marked only where the passage really holds the quote; without the passage the
    quotes alone are shown. Line breaks become ``<br>``: a blank line would end the HTML block
    in Gradio's Markdown and the rest of the passage would be read as Markdown.
    """
    if p is None:
        start = f'<span id="{anchor}-at"></span>' if anchor else ""
        return start + _lines("<br>".join(dict.fromkeys(f"<mark>{html.escape(c.quote.strip())}</mark>"
                                                        for c in cites if c.quote)))
    spans = sorted((c.start - p.start, c.end - p.start) for c in cites
                   if p.start <= c.start < c.end <= p.end and p.text[c.start - p.start:c.end - p.start] == c.quote)
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for i, (s, e) in enumerate(merged):  # the first span has an id: a badge scrolls the document to it
        mark = f'<mark id="{anchor}-at">' if anchor and i == 0 else "<mark>"
        out.append(f"{html.escape(p.text[pos:s])}{mark}{html.escape(p.text[s:e])}</mark>")
        pos = e
    out.append(html.escape(p.text[pos:]))
    start = "" if merged or not anchor else f'<span id="{anchor}-at"></span>'
    return start + _lines("".join(out).strip())


def _lines(shown: str) -> str:
    return re.sub(r"[ \t]*\r?\n[ \t]*", "<br>", shown)


def _footer(check: CitationReport) -> str:
    """The check's figures: how many sentences their citations support, ALCE recall and precision."""
    n, ok = len(check.statements), sum(s.verdict == SUPPORTED for s in check.statements)
    unverified = sum(s.verdict == UNVERIFIED for s in check.statements)
    extra = f" · {unverified} unverified (another language)" if unverified else ""
    return (f'<p class="vja-meta vja-check">Citations checked: {ok}/{n} statements supported{extra} · '
            f"recall {check.citation_recall:.2f} · precision {check.citation_precision:.2f}</p>")


def _marked_text(text: str, spans: Sequence[_Span], anchor: Callable[[int], str]) -> str:
    """The answer with verdict badges; unsupported, uncited and partly supported sentences visibly marked."""
    out, pos = [], 0
    for sp in spans:
        out.append(badges(text[pos:sp.start]))
        piece = badges(text[sp.start:sp.end], lambda n, sp=sp: _badge(n, sp.cites.get(n), anchor(n)))
        if sp.verdict in _FLAGS:
            cls, label = _FLAGS[sp.verdict]
            tip = "no citation: " + label if sp.verdict == UNCITED else f"{label} (score {sp.score:.2f})"
            flag = "vja-flag vja-partly-flag" if sp.verdict == PARTIAL else "vja-flag"
            piece = (f'<span class="{cls}" title="{html.escape(tip)}">{piece}</span>'
                     f'<span class="{flag}"> ({label})</span>')
        out.append(piece)
        pos = sp.end
    out.append(badges(text[pos:]))
    return "".join(out)
