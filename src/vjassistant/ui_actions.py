"""What the browser UI does, as plain functions of an Assistant: no Gradio here.

Chat (``respond``: the conversation as Gradio message dicts, streamed, then the checked answer),
documents (upload, list, remove, re-ingest), exports and the first screen. ui.py wires these to
components; tests call them directly. Uploaded files are copied into ``settings.uploads``
under a name made safe here: a browser's file name is never used as a path.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .documents import SUPPORTED_SUFFIXES
from .errors import InputError, ModelError, VJAError
from .language import LANGUAGE_NAMES
from .models import list_models
from .render import SOURCES_START, badges, error_html, format_answer, format_error

if TYPE_CHECKING:  # pragma: no cover
    from .answer import Answer
    from .assistant import Assistant

Progress = Callable[[float, str], None]  # (share done 0..1, what)
Messages = list[dict[str, Any]]

ANSWER_LANGUAGES = {"auto": None, "English": "en", "French": "fr", "Vietnamese": "vi"}
SEARCHING = '<span class="vja-muted">Searching your documents…</span>'
TABLE_HEADERS = ["title", "file", "lang", "chunks", "date", "added"]
# Without widths the wrapped titles took the panel's whole width and hid the other columns; the
# two dates get room for one line each.
TABLE_WIDTHS = ["24%", "21%", "9%", "12%", "17%", "17%"]


def _quiet(share: float, what: str) -> None:
    pass


# --- chat -------------------------------------------------------------------------------------
def _text(content: Any) -> str:
    """Plain text of one Gradio message content (a str, a text part, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "") if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return "\n".join(t for t in (_text(c) for c in content) if t)
    return str(getattr(content, "text", "") or "")


def _plain_answer(shown: str) -> str:
    """What the model should see of an earlier reply: the answer without sources or HTML."""
    body = shown.split(SOURCES_START, 1)[0]
    body = re.sub(r'\s?<sup class="vja-cite[^"]*"[^>]*>.*?</sup>|<span class="vja-flag[^"]*">.*?</span>', "", body)
    return html.unescape(re.sub(r"<[^>]+>", "", body)).strip()


def history_pairs(history: Sequence[Any]) -> list[tuple[str, str]]:
    """Gradio chat history (message dicts, or old-style [user, bot] pairs) as (question, answer) pairs."""
    pairs: list[tuple[str, str]] = []
    user: str | None = None
    for item in history:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append((_text(item[0]), _plain_answer(_text(item[1]))))
            continue
        role = item.get("role") if isinstance(item, dict) else getattr(item, "role", "")
        text = _text(item.get("content") if isinstance(item, dict) else getattr(item, "content", ""))
        if role == "user":
            user = text
        elif role == "assistant" and user is not None:
            pairs.append((user, _plain_answer(text)))
            user = None
    return pairs


def preparing(assistant: Assistant, every: float = 0.5) -> Iterator[str]:
    """While the whole-collection prompt is read into the model (after the documents changed:
    minutes for a large collection), say how far it has got; nothing when it is ready at once."""

    state: dict[str, Any] = {"done": 0, "total": 0}

    def report(_what: str, done: int, total: int) -> None:
        state.update(done=done, total=total)

    def work() -> None:
        try:
            assistant.prepare(report)
        except BaseException as exc:  # re-raised in the chat's own thread
            state["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(every)
        if worker.is_alive() and state["total"]:
            share = state["done"] / state["total"]
            yield (f'<span class="vja-muted">Reading the documents into the model (once, after they change): '
                   f'{share:.0%} of {state["total"]} tokens…</span>')
    if "error" in state:
        raise state["error"]


def answer_language(choice: str | None) -> str | None:
    """The ISO code for a choice of the language menu; None for "auto" (the question's language)."""
    if not choice or choice == "auto":
        return None
    if choice in ANSWER_LANGUAGES:
        return ANSWER_LANGUAGES[choice]
    if choice in LANGUAGE_NAMES:
        return choice
    raise InputError(f"Unknown answer language {choice!r}", f"choose one of {', '.join(ANSWER_LANGUAGES)}")


def respond(assistant: Assistant, message: str, history: Messages, language: str | None = None
            ) -> Iterator[tuple[Messages, Answer | None]]:
    """The conversation with ``message`` and its answer appended, as the answer streams; the last
    item carries the checked Answer (None when the question failed: the message says why)."""
    pairs = history_pairs(history)
    shown: Messages = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": SEARCHING}]
    yield shown, None
    try:
        for note in preparing(assistant):
            shown[-1] = {"role": "assistant", "content": note}
            yield shown, None
        response = assistant.stream(message, history=pairs, language=language)
        text = ""
        for piece in response:
            text += piece
            shown[-1] = {"role": "assistant", "content": badges(text)}
            yield shown, None
        answer = response.answer
        shown[-1] = {"role": "assistant", "content": format_answer(answer, cited_documents(assistant, answer))}
        yield shown, answer
    except VJAError as exc:
        shown[-1] = {"role": "assistant", "content": format_error(exc)}
        yield shown, None
    except Exception as exc:  # never a stack trace in the page; the server log keeps it
        import logging

        logging.getLogger("vjassistant").exception("answering failed")
        shown[-1] = {"role": "assistant", "content": format_error(VJAError(
            f"Answering failed: {type(exc).__name__}: {exc}", "try again; if it keeps failing, see the server log"))}
        yield shown, None


def cited_documents(assistant: Assistant, answer: Answer) -> dict[str, str]:
    """doc_id -> whole text for each document the answer cites, to show it around its evidence."""
    out: dict[str, str] = {}
    for doc_id in dict.fromkeys(c.doc_id for c in answer.citations):
        try:
            out[doc_id] = assistant.store.document_text(doc_id)
        except VJAError:
            continue  # removed meanwhile: the passage is shown instead
    return out


# --- exports ----------------------------------------------------------------------------------
def answer_markdown(answer: Answer) -> str:
    """The answer with its citations and evidence, as Markdown."""
    lines = [f"# {answer.question}", "", answer.text, ""]
    if answer.abstained:
        lines += [f"_Declined: {answer.reason}_", ""]
    passages = {p.number: p for p in answer.passages}
    if answer.citations:
        lines += ["## Sources", ""]
    for c in answer.citations:
        p = passages.get(c.marker)
        where = ", ".join(x for x in (p.date if p else "", LANGUAGE_NAMES.get(p.language, "") if p else "") if x)
        lines += [f"- **[{c.marker}] {c.title or c.filename}** (`{c.filename}`{', ' + where if where else ''}), "
                  f"{c.verdict}, score {c.score:.2f}, characters {c.start}–{c.end}, for “{c.statement}”",
                  "", f"  > {' '.join(c.quote.split())}", ""]
    mode = {"collection": "the whole collection", "retrieval": "retrieved passages"}.get(answer.mode, "")
    lines.append(f"_Answered by {answer.model or 'the model'} from {mode or 'the documents'}._")
    return "\n".join(lines) + "\n"


def export_answer(answer: Answer, folder: Path) -> tuple[Path, Path]:
    """Write the answer as Markdown and as JSON into ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = "answer-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    md, js = folder / f"{stem}.md", folder / f"{stem}.json"
    md.write_text(answer_markdown(answer), encoding="utf-8")
    js.write_text(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return md, js


# --- documents --------------------------------------------------------------------------------
def safe_name(name: str) -> str:
    """An uploaded file's name made safe to use inside our folder: the last part of any path,
    letters, digits, spaces, '.', '_' and '-' only, no leading dot, at most 120 characters."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", str(name or ""))[-1])
    base = re.sub(r"[^\w.\- ]", "_", base)
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = suffix.strip(" ")[:16]
    stem = re.sub(r"\.{2,}", ".", stem).strip(" .")[:120 - len(suffix) - 1].strip(" .") or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def _unique(folder: Path, name: str, source: Path) -> Path:
    """``folder/name``, or ``name-2``, ``name-3``... when a different file already has that name."""
    target, n = folder / name, 1
    stem, suffix = Path(name).stem, Path(name).suffix
    while target.exists() and target.read_bytes() != source.read_bytes():
        n += 1
        target = folder / f"{stem}-{n}{suffix}"
    return target


def store_uploads(files: Sequence[str | Path], folder: Path, max_bytes: int
                  ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Copy uploaded files into ``folder`` under safe names; (stored paths, [(name, why refused)])."""
    folder.mkdir(parents=True, exist_ok=True)
    kept, refused = [], []
    for f in files:
        path = Path(str(f))
        name = safe_name(path.name)
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            refused.append((name, f"unsupported type; use one of {', '.join(sorted(SUPPORTED_SUFFIXES))}"))
            continue
        if not path.is_file():
            refused.append((name, "the upload did not arrive; try again"))
            continue
        size = path.stat().st_size
        if size > max_bytes:
            refused.append((name, f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit "
                                  "(raise VJA_MAX_UPLOAD_MB, or ingest it with the CLI)"))
            continue
        target = _unique(folder, name, path)
        if not target.exists():
            shutil.copyfile(path, target)
        kept.append(target)
    return kept, refused


def ingest_uploads(assistant: Assistant, files: Sequence[str | Path], progress: Progress = _quiet) -> str:
    """Store and ingest uploaded files, then make the collection ready again; an HTML report."""
    s = assistant.settings
    paths, refused = store_uploads(files, s.uploads, s.max_upload_mb * 1_000_000)
    return ingest_paths(assistant, paths, progress, refused)


def ingest_paths(assistant: Assistant, paths: Sequence[Path], progress: Progress = _quiet,
                 refused: Sequence[tuple[str, str]] = ()) -> str:
    """Ingest ``paths`` one by one with progress, then rebuild the collection state; an HTML report."""
    done: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    failed = list(refused)
    for i, path in enumerate(paths):
        progress(i / max(len(paths), 1) * 0.5, f"Ingesting {path.name}")
        report = assistant.ingest([path])
        for key in done:
            done[key] += [Path(x).name for x in getattr(report, key)]
        failed += [(Path(p).name, why) for p, why in report.failed]
        done["unchanged"] += [f"{Path(p).name} (already stored as {Path(first).name})"
                              for p, first in report.duplicates]
        done["unchanged"] += [f"{Path(p).name} (moved from {Path(old).name})" for p, old in report.moved]
        for p, _ in report.duplicates:  # an upload of a stored text: our copy of it is not needed
            if Path(p).resolve().parent == assistant.settings.uploads.resolve():
                Path(p).unlink(missing_ok=True)
    note = prepare(assistant, progress) if any(done[k] for k in ("added", "updated")) else ""
    progress(1.0, "Done")
    parts = [f"{k} {', '.join(map(html.escape, v))}" for k, v in done.items() if v]
    out = f'<p class="vja-ok">{"; ".join(parts)}</p>' if parts else ""
    out += "".join(f'<p class="vja-error">⚠️ <b>{html.escape(n)}</b>: {html.escape(why)}</p>' for n, why in failed)
    return (out + note) or '<p class="vja-muted">No file given.</p>'


def prepare(assistant: Assistant, progress: Progress = _quiet) -> str:
    """Read the changed collection into the model now, with progress, rather than at the next question.
    The documents are stored either way: a model that cannot be loaded yet is an HTML note naming
    the fix, not a failed upload (the same message comes back at the first question)."""
    def report(_what: str, done: int, total: int) -> None:
        progress(0.5 + 0.5 * done / max(total, 1), f"Reading the documents into the model: {done}/{total} tokens")
    try:
        assistant.prepare(report)
    except ModelError as exc:
        return error_html(exc)
    return ""


def remove_documents(assistant: Assistant, doc_ids: Sequence[str], progress: Progress = _quiet) -> str:
    """Delete documents by id (and the copy of an uploaded file), then rebuild the collection state;
    an HTML report. Files elsewhere on disk are the user's and stay."""
    if not doc_ids:
        return '<p class="vja-muted">Select the documents to delete first.</p>'
    docs = {d["doc_id"]: d for d in assistant.documents()}
    uploads = assistant.settings.uploads.resolve()
    gone = []
    for doc_id in (i for i in doc_ids if i in docs):
        assistant.remove(doc_id)
        gone.append(docs[doc_id]["filename"])
        source = Path(docs[doc_id]["source"]).resolve()
        if source.parent == uploads:
            source.unlink(missing_ok=True)
    if not gone:
        return '<p class="vja-muted">Those documents were already gone.</p>'
    return f'<p class="vja-ok">deleted {", ".join(map(html.escape, gone))}</p>' + prepare(assistant, progress)


def reingest_documents(assistant: Assistant, doc_ids: Sequence[str], progress: Progress = _quiet) -> str:
    """Read the selected documents again from their files (a changed file replaces its chunks)."""
    if not doc_ids:
        return '<p class="vja-muted">Select the documents to re-ingest first.</p>'
    docs = {d["doc_id"]: d for d in assistant.documents()}
    paths, refused = [], []
    for d in (docs[i] for i in doc_ids if i in docs):
        source = Path(d["source"])
        if source.is_file():
            paths.append(source)
        else:
            refused.append((d["filename"], f"its file {source} is gone; upload it again"))
    return ingest_paths(assistant, paths, progress, refused)


def documents_view(assistant: Assistant) -> tuple[list[list[Any]], list[tuple[str, str]], str]:
    """The collection read once, as table rows (title, file, language, chunks, date, day added) and
    menu choices (label, doc_id); with an unreadable store, none of either and the error as HTML."""
    try:
        docs = assistant.documents()
    except VJAError as exc:
        return [], [], error_html(exc)
    rows = [[d.get("title") or d["filename"], d["filename"], str(d.get("language", "")).upper(),
             d.get("chunks", 0), d.get("date") or "", str(d.get("added") or "")[:10]] for d in docs]
    choices = [(f"{d['filename']} · {d.get('title') or ''}"[:90], d["doc_id"]) for d in docs]
    return rows, choices, ""


def pulled_models(assistant: Assistant) -> list[str]:
    """The model presets (and stray GGUF files) that are on disk, the configured one first."""
    s = assistant.settings
    if s.llm_url:
        return [s.model]
    assert s.models_dir is not None
    names = [m.name for m in list_models(s.models_dir) if m.installed]
    return sorted(names, key=lambda n: n != s.model) or [s.model]


def welcome(assistant: Assistant, examples: Sequence[str]) -> str:
    """The first screen: what the assistant knows (a line per document) and example questions,
    or, with no documents, how to add some."""
    try:
        docs = assistant.store.document_texts()
    except VJAError as exc:
        return f'<div class="vja-welcome">{error_html(exc)}</div>'
    if not docs:
        return ('<div class="vja-welcome"><h3>No documents yet</h3><p>Upload txt, md, html or pdf files in the '
                "<b>Documents</b> panel (or run <code>vjassistant ingest PATH</code>), then ask about them.</p></div>")
    items = "".join(f"<li><b>{html.escape(d.meta.get('title') or d.meta.get('filename', ''))}</b> "
                    f'<span class="vja-meta">{html.escape(_summary(d.text, d.meta.get("title", "")))}</span></li>'
                    for d in docs)
    asks = "".join(f"<li>{html.escape(q)}</li>" for q in examples)
    plural = "s" if len(docs) != 1 else ""
    return (f'<div class="vja-welcome"><h3>I can answer from {len(docs)} document{plural}</h3><ul>{items}</ul>'
            f'<p class="vja-meta">Try, in English, French or Vietnamese:</p><ul>{asks}</ul></div>')


def _summary(text: str, title: str, size: int = 140) -> str:
    """A one-line summary of a document: its first sentence that is not its title, cut to ``size``."""
    from .chunking import sentence_spans

    core = title.rstrip("…").strip()
    for s, e in sentence_spans(text):
        sentence = " ".join(text[s:e].split())
        if len(sentence.split()) >= 6 and not (core and sentence.startswith(core)):
            return sentence if len(sentence) <= size else sentence[:size].rsplit(" ", 1)[0] + "…"
    return ""
