"""Running the conversational set (chat.py) in each answer mode, and its report.

One temporary store holds the documents (the bundled corpus by default); every mode asks the
same questions over it with one shared model: ``collection`` (the documents as the prompt) and
``retrieval`` (the best passages). The whole-collection state is kept in the evaluation cache
folder, keyed by its exact tokens (prefix_state.py), so a second evaluation does not rebuild it.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..assistant import Assistant
from ..config import Settings
from ..documents import bundled_corpus, iter_files, load_document
from ..embeddings import E5Embedder, Embedder
from ..errors import InputError
from ..llm import ChatModel
from .chat import CHAT_SET, ChatQuestion, ChatResult, ask_all, by_kind, load_chat_set, summarize_chat
from .datasets import sample
from .metrics import Metric
from .report import metric_cell

CHAT_MODES = ("collection", "retrieval")
COLUMNS = ("correct", "correct en", "correct fr", "correct vi", "correct cross-lingual", "key-fact recall",
           "citation precision", "citation recall", "sentences cited", "language match", "abstention precision",
           "abstention recall", "TTFT p50", "TTFT p95", "total p50")
SHORT = {"correct cross-lingual": "correct cross", "key-fact recall": "facts", "citation precision": "cit. P",
         "citation recall": "cit. R", "sentences cited": "cited", "language match": "lang.",
         "abstention precision": "abst. P", "abstention recall": "abst. R", "TTFT p50": "TTFT p50 s",
         "TTFT p95": "TTFT p95 s", "total p50": "total p50 s"}


@dataclass
class ChatRun:
    mode: str
    results: list[ChatResult]
    metrics: list[Metric]

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)


@dataclass
class ChatReport:
    dataset: str
    model: str
    split: str
    runs: list[ChatRun]
    seconds: float
    settings: dict[str, Any]

    def to_markdown(self) -> str:
        present = [c for c in COLUMNS if any(r.metric(c) for r in self.runs)]
        header = ["mode", "questions"] + [SHORT.get(c, c) for c in present]
        lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
        for r in self.runs:
            lines.append("| " + " | ".join([r.mode, str(len(r.results))] + [metric_cell(r.metric(c))
                                                                            for c in present]) + " |")
        return "\n".join(lines) + "\n\n" + self.kind_table() + "\n\n" + self.caption()

    def kind_table(self) -> str:
        kinds = sorted({k for r in self.runs for k in by_kind(r.results)})
        lines = ["| mode | " + " | ".join(kinds) + " |", "| --- |" + " --- |" * len(kinds)]
        for r in self.runs:
            cells = by_kind(r.results)
            lines.append(f"| {r.mode} | " + " | ".join(metric_cell(cells.get(k)) for k in kinds) + " |")
        return "\n".join(lines)

    def caption(self) -> str:
        return (f"{self.dataset}, split {self.split}, model {self.model}. "
                "(n) is the number of questions a figure rests on (sentences for citation recall and sentences "
                "cited, citations for citation precision, answers for language match).")

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "model": self.model, "split": self.split, "seconds": self.seconds,
                "settings": self.settings,
                "runs": [{"mode": r.mode, "metrics": [m.to_dict() for m in r.metrics],
                          "results": [x.to_dict() for x in r.results]} for r in self.runs]}

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")


def eval_state_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "vjassistant" / "eval-state"


def evaluate_chat(path: str | Path = CHAT_SET, *, docs: Sequence[str | Path] = (), modes: Sequence[str] = (),
                  split: str = "all", limit: int = 0, seed: int = 0, settings: Settings | None = None,
                  embedder: Embedder | None = None, chat_model: ChatModel | None = None,
                  progress: bool = False, ids: Sequence[str] = ()) -> ChatReport:
    """Ask the set's questions (of ``split``, ``limit`` sampled with ``seed``, or the ``ids`` given) in
    each mode over a temporary store of ``docs`` (default: the bundled corpus)."""
    settings = settings or Settings.from_env()
    modes = list(modes) or list(CHAT_MODES)
    for m in modes:
        if m not in CHAT_MODES:
            raise InputError(f"Unknown mode {m!r} for a conversational set", f"choose from {', '.join(CHAT_MODES)}")
    if split not in ("all", "dev", "test"):
        raise InputError(f"Unknown split {split!r}", "choose all, dev or test")
    questions: list[ChatQuestion] = [q for q in load_chat_set(path) if split == "all" or q.split == split]
    if ids:
        unknown = set(ids) - {q.id for q in questions}
        if unknown:
            raise InputError(f"No question {sorted(unknown)[0]!r} in {Path(path).name} ({split})", "check the ids")
        questions = [q for q in questions if q.id in set(ids)]
    questions = sample(questions, limit, seed)  # type: ignore[arg-type]
    files, problems = iter_files(docs) if docs else (bundled_corpus(), [])
    if problems:
        raise InputError(f"Cannot use {problems[0][0]}: {problems[0][1]}", "check the --docs paths")
    languages = {load_document(f).filename: load_document(f).language for f in files}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vja-chat-eval-") as tmp:
        base = settings.replace(store_dir=Path(tmp) / "store", chroma_url="",
                                state_dir=settings.state_dir or eval_state_dir())
        first = Assistant(base, embedder=embedder or E5Embedder(num_threads=settings.n_threads or None),
                          chat_model=chat_model)
        report = first.ingest(files, progress=progress)
        if report.failed:
            raise InputError(f"Cannot read {report.failed[0][0]}: {report.failed[0][1]}", "fix or remove it")
        runs, model_name = [], ""
        for mode in modes:
            a = Assistant(base.replace(answer_mode=mode), embedder=first.embedder, store=first.store,
                          chat_model=first.chat_model)
            a.progress = first.progress if progress else None
            results = ask_all(a, questions, languages, progress)
            model_name = a.chat_model.name
            runs.append(ChatRun(mode, results, summarize_chat(results)))
    tunables = {k: getattr(settings, k) for k in ("top_k", "passage_tokens", "collection_budget", "temperature",
                                                  "max_tokens", "drop_unsupported", "min_similarity")}
    return ChatReport(Path(path).name, model_name, split, runs, time.perf_counter() - t0, tunables)
