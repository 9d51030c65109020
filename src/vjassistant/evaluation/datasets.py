"""Evaluation sets: SQuAD-format files (XQuAD) and a JSONL of questions over your own files.

Both load into one ``EvalSet``: documents (each with a gold ``key``) and questions that name
the keys of the documents holding their answer. Parallel SQuAD files (XQuAD en/vi: same
articles, paragraphs and question ids) share keys, so a Vietnamese question's gold is the
English version of its paragraph too, which is what cross-lingual runs need.

JSONL format, one question per line::

    {"question": "...", "answers": ["..."], "sources": ["report.pdf"], "answerable": true}

``sources`` are file names or paths relative to the documents folder; ``answerable`` false
means the right output is to abstain; ``id`` and ``language`` are optional.
"""
from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..documents import iter_files
from ..errors import InputError
from ..language import detect_language

XQUAD_DIR = Path(__file__).resolve().parents[3] / "datasets" / "xquad"
# Short names for the bundled sets (a checkout's datasets/ folder).
BUNDLED = {"xquad-en": XQUAD_DIR / "xquad.en.json", "xquad-vi": XQUAD_DIR / "xquad.vi.json"}
# mono: each language over its own paragraphs; cross: questions over another language's
# paragraphs; mixed: every language in one store; abstain: questions whose article was left
# out; given: a JSONL set as written (its unanswerable questions test abstention).
MODES = ("mono", "cross", "mixed", "abstain", "given")


@dataclass(frozen=True)
class EvalDocument:
    """One document of the evaluation store: text to write (SQuAD) or an existing file (JSONL)."""

    key: str          # gold id; parallel versions in other languages share it
    language: str
    group: str        # the article it belongs to: withheld together in abstention runs
    title: str = ""
    text: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    language: str
    answers: tuple[str, ...]                    # gold answers in the question's language
    gold: frozenset[str]                        # keys of the documents that hold the answer
    answerable: bool = True
    group: str = ""
    other_answers: tuple[str, ...] = ()         # the same answers in parallel languages


@dataclass
class EvalSet:
    name: str
    documents: list[EvalDocument]
    questions: list[EvalQuestion]
    parallel: bool = False                      # several languages of the same paragraphs
    languages: list[str] = field(default_factory=list)


def load_eval_set(paths: Sequence[str | Path], docs: Sequence[str | Path] = ()) -> EvalSet:
    """SQuAD .json files (several = parallel languages), or one .jsonl plus its documents."""
    resolved = [BUNDLED.get(str(p), Path(p)).expanduser() for p in paths]
    if not resolved:
        raise InputError("No evaluation set given", "pass a SQuAD .json file, xquad-en / xquad-vi, or a .jsonl")
    for p in resolved:
        if not p.is_file():
            raise InputError(f"Evaluation set {p} does not exist", "check the path (bundled: xquad-en, xquad-vi)")
    jsonl = [p for p in resolved if p.suffix.lower() == ".jsonl"]
    if jsonl:
        if len(resolved) > 1:
            raise InputError("Give one .jsonl file at a time", "merge the question files into one")
        return load_jsonl(jsonl[0], docs)
    if docs:
        raise InputError("--docs is only for .jsonl question files",
                         "SQuAD files carry their own paragraphs; drop --docs")
    return load_squad(resolved)


# --- SQuAD ------------------------------------------------------------------------------------
def read_squad_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name} is not valid JSON: {exc}", "pass a SQuAD-format .json file") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise InputError(f"{path.name} has no 'data' list: not SQuAD format",
                         "SQuAD files hold data[].paragraphs[].{context, qas}")
    return data


def _language_of(path: Path, data: dict) -> str:
    """From the file name (xquad.vi.json) when it says, else detected from the first contexts."""
    m = re.search(r"[._-]([a-z]{2})\.json$", path.name.lower())
    if m:
        return m.group(1)
    sample = " ".join(p["context"] for a in data["data"][:2] for p in a.get("paragraphs", [])[:2])
    return detect_language(sample)


def _shape(data: dict) -> list[list[list[str]]]:
    return [[[str(q.get("id")) for q in p.get("qas", [])] for p in a.get("paragraphs", [])] for a in data["data"]]


def load_squad(paths: Sequence[Path]) -> EvalSet:
    loaded = [(p, read_squad_json(p)) for p in paths]
    languages = [_language_of(p, d) for p, d in loaded]
    if len(set(languages)) != len(languages):
        raise InputError(f"Two files have the same language ({', '.join(languages)})",
                         "pass one SQuAD file per language")
    # Parallel: the same articles, paragraphs and question ids in every file (XQuAD is).
    parallel = len(loaded) > 1 and all(_shape(d) == _shape(loaded[0][1]) for _, d in loaded)
    answers_by_id: dict[str, dict[str, tuple[str, ...]]] = {}
    docs: list[EvalDocument] = []
    questions: list[EvalQuestion] = []
    for (path, data), lang in zip(loaded, languages):
        prefix = "" if parallel or len(loaded) == 1 else f"{path.stem}:"
        for ai, article in enumerate(data["data"]):
            title = str(article.get("title", f"Article {ai}")).replace("_", " ")
            group = f"{prefix}{ai:03d}"
            for pi, para in enumerate(article.get("paragraphs", [])):
                key = f"{group}-{pi}"
                docs.append(EvalDocument(key=key, language=lang, group=group, title=title, text=para["context"]))
                for qa in para.get("qas", []):
                    answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a.get("text")))
                    qid = str(qa.get("id", f"{key}-{len(questions)}"))
                    answers_by_id.setdefault(qid, {})[lang] = answers
                    questions.append(EvalQuestion(id=qid, question=qa["question"], language=lang, answers=answers,
                                                  gold=frozenset({key}), group=group, answerable=bool(answers)))
    if parallel:  # every language's answers, for checking evidence written in another language
        questions = [_with_others(q, answers_by_id[q.id]) for q in questions]
    name = "+".join(p.name for p, _ in loaded)
    return EvalSet(name, docs, questions, parallel=parallel, languages=languages)


def _with_others(q: EvalQuestion, by_lang: dict[str, tuple[str, ...]]) -> EvalQuestion:
    others = tuple(a for lang, answers in by_lang.items() if lang != q.language for a in answers)
    return EvalQuestion(q.id, q.question, q.language, q.answers, q.gold, q.answerable, q.group, others)


# --- JSONL over the user's own documents --------------------------------------------------------
def load_jsonl(path: Path, docs: Sequence[str | Path]) -> EvalSet:
    if not docs:
        raise InputError(f"{path.name} needs the documents it asks about", "add --docs FOLDER (or files)")
    files, problems = iter_files(docs)
    if problems:
        raise InputError(f"Cannot use {problems[0][0]}: {problems[0][1]}", "check the --docs paths")
    roots = [Path(d).expanduser().resolve() for d in docs if Path(d).is_dir()]
    documents = [EvalDocument(key=_doc_key(f, roots), language="", group=_doc_key(f, roots), path=f.resolve())
                 for f in files]
    keys = {d.key for d in documents}
    by_name: dict[str, set[str]] = {}
    for d in documents:
        by_name.setdefault(d.path.name if d.path else d.key, set()).add(d.key)
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = str(row["question"]).strip()
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path.name} line {n} is not a question object ({exc})",
                             'each line needs at least {"question": ..., "answers": [...], "sources": [...]}') from exc
        gold = set()
        for source in row.get("sources", []):
            found = {source} & keys or by_name.get(Path(source).name, set())
            if not found:
                raise InputError(f"{path.name} line {n}: source {source!r} is not among the --docs files",
                                 "name a file under --docs (its path relative to the folder, or its name)")
            gold |= found
        answers = tuple(str(a) for a in row.get("answers", []))
        answerable = bool(row.get("answerable", True))
        questions.append(EvalQuestion(id=str(row.get("id", n)), question=text,
                                      language=row.get("language") or detect_language(text), answers=answers,
                                      gold=frozenset(gold), answerable=answerable,
                                      group=min(gold) if gold else f"q{n}"))
    if not questions:
        raise InputError(f"{path.name} holds no questions", "add one JSON object per line")
    return EvalSet(path.name, documents, questions, languages=sorted({q.language for q in questions}))


def _doc_key(file: Path, roots: Sequence[Path]) -> str:
    resolved = file.resolve()
    for root in roots:
        if resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    return file.name


# --- selecting questions ------------------------------------------------------------------------
def in_split(group: str, split: str) -> bool:
    """``dev`` = even-numbered articles, ``test`` = odd ones, ``all`` = both. Defaults are tuned
    on dev and reported on test, so the reported figures are not the ones tuned on."""
    if split == "all":
        return True
    digits = re.findall(r"\d+", group)
    number = int(digits[-1]) if digits else sum(map(ord, group))
    return (number % 2 == 0) == (split == "dev")


def sample(questions: Sequence[EvalQuestion], limit: int, seed: int) -> list[EvalQuestion]:
    """A seeded random sample of ``limit`` questions (all when ``limit`` is 0), in dataset order."""
    if not limit or limit >= len(questions):
        return list(questions)
    picked = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in picked]
