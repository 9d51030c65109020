"""Evaluation harness: retrieval, answer, abstention and citation quality on SQuAD-format
sets (XQuAD English and Vietnamese are bundled) or a JSONL of questions over your own files.

    from vjassistant.evaluation import EvalConfig, evaluate
    report = evaluate(["xquad-en", "xquad-vi"], config=EvalConfig(modes=["mono"], limit=50))
    print(report.to_markdown())

``vjassistant eval`` is the command-line face of ``evaluate``.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from ..config import Settings
from ..embeddings import Embedder
from ..llm import ChatModel
from .datasets import EvalDocument, EvalQuestion, EvalSet, load_eval_set
from .report import EvalReport
from .runner import EvalConfig, Evaluator, QuestionResult, RunResult

__all__ = ["EvalConfig", "EvalDocument", "EvalQuestion", "EvalReport", "EvalSet", "Evaluator", "QuestionResult",
           "RunResult", "evaluate", "load_eval_set"]


def evaluate(paths: Sequence[str | Path], *, docs: Sequence[str | Path] = (), config: EvalConfig | None = None,
             settings: Settings | None = None, embedder: Embedder | None = None,
             chat_model: ChatModel | None = None, progress: bool = False, cache: bool = True) -> EvalReport:
    """Load the set, run every planned run in temporary stores, and return the report.

    ``cache`` keeps passage embeddings between evaluations (see runner.CachedEmbedder)."""
    config = config or EvalConfig()
    settings = settings or Settings.from_env()
    evalset = load_eval_set(paths, docs)
    t0 = time.perf_counter()
    with Evaluator(settings, embedder=embedder, chat_model=chat_model, progress=progress,
                   cache=cache) as evaluator:
        runs = evaluator.run(evalset, config)
        model = "(retrieval only)" if config.retrieval_only else evaluator.chat_model().name
    return EvalReport(evalset.name, model, config, settings, runs, time.perf_counter() - t0)
