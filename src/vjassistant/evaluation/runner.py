"""Run an evaluation: plan the runs (modes), build each run's store in a temp dir, ask, score.

Every run gets its own Chroma store in a temporary folder, so the user's store is never
touched. Passage embeddings are memoised by text for the whole evaluation: runs that share
paragraphs (mono, cross, mixed and abstention stores all reuse them) embed each chunk once.
The chat model is loaded once and shared by every run, and only when answers are asked for.
"""
from __future__ import annotations

import hashlib
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..assistant import Answer, Assistant
from ..config import Settings
from ..embeddings import E5Embedder, Embedder
from ..errors import InputError
from ..llm import ChatModel
from ..store import ChunkStore
from .datasets import MODES, EvalDocument, EvalQuestion, EvalSet, in_split, sample
from .metrics import (
    Metric,
    contains_answer,
    exact_match,
    mean_metric,
    ratio_metric,
    strip_markers,
    time_metrics,
    token_f1,
)

DEPTH = 10  # ranks looked at for MRR; hit@k for k in HITS
HITS = (1, 3, 5)


@dataclass
class EvalConfig:
    modes: Sequence[str] = ()        # empty: every mode the set allows
    limit: int = 0                   # questions per run (0 = all)
    seed: int = 0
    split: str = "all"               # all / dev / test (see datasets.in_split)
    retrieval_only: bool = False
    withhold: float = 0.2            # share of articles left out of the store in abstention runs


@dataclass
class RunPlan:
    name: str
    documents: list[EvalDocument]
    questions: list[EvalQuestion]


@dataclass
class QuestionResult:
    id: str
    question: str
    language: str
    answerable: bool
    gold: list[str]
    retrieved: list[str]                  # document keys of the ranked passages, best first
    rank: int | None                      # 1-based rank of the first gold passage within DEPTH
    answer: str = ""
    raw: str = ""                         # the model's own words before citation checks
    abstained: bool | None = None
    reason: str = ""
    exact_match: float | None = None
    f1: float | None = None
    given: list[str] = field(default_factory=list)  # document keys of the passages in the prompt
    citations: list[dict[str, Any]] = field(default_factory=list)  # marker, key, valid
    first_token_s: float | None = None
    total_s: float | None = None
    prompt_tokens: int | None = None
    confidence: float | None = None       # the model's probability for its reply's first token


@dataclass
class RunResult:
    name: str
    documents: int
    chunks: int
    results: list[QuestionResult]
    metrics: list[Metric]

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "documents": self.documents, "chunks": self.chunks,
                "metrics": [m.to_dict() for m in self.metrics], "results": [asdict(r) for r in self.results]}


class CachedEmbedder:
    """Wraps an embedder and memoises passage vectors by text; with ``path``, across runs too.

    Embedding is most of an evaluation's set-up (XQuAD en+vi: ~1200 chunks, ~2 minutes on 2
    cores) and vectors depend only on the embedder and the text, so they are kept in one .npz
    per embedder, keyed by the text's sha1.
    """

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self.inner, self.name, self.dim, self.path = inner, inner.name, inner.dim, path
        self._cache: dict[str, np.ndarray] = {}
        self._dirty = False
        if path is not None and path.is_file():
            try:
                with np.load(path) as data:
                    self._cache = {k: data[k] for k in data.files}
            except (OSError, ValueError):  # a damaged cache is only a slower run
                self._cache = {}

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if k not in self._cache}
        if missing:
            self._cache.update(zip(missing, self.inner.embed_passages(list(missing.values()))))
            self._dirty = True
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, **self._cache)
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a cache
        self._dirty = False


def embedding_cache_path(embedder: Embedder) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "vjassistant" / "eval-embeddings" / f"{embedder.name}.npz"


# --- planning ---------------------------------------------------------------------------------
def plan_runs(evalset: EvalSet, config: EvalConfig) -> list[RunPlan]:
    """The runs each mode asks for, with their store's documents and their sampled questions."""
    own_files = any(d.path for d in evalset.documents)
    allowed = ("given",) if own_files else ("mono", "cross", "mixed", "abstain")
    modes = list(config.modes) or [m for m in allowed if (m not in ("cross", "mixed") or evalset.parallel)
                                   and not (m == "abstain" and config.retrieval_only)]
    for m in modes:
        if m not in MODES:
            raise InputError(f"Unknown mode {m!r}", f"choose from {', '.join(MODES)}")
        if m not in allowed:
            raise InputError(f"Mode {m!r} does not apply to {evalset.name}",
                             f"modes for this set: {', '.join(allowed)}")
        if m in ("cross", "mixed") and not evalset.parallel:
            raise InputError(f"Mode {m!r} needs parallel SQuAD files in two languages",
                             "pass both, e.g. xquad-en xquad-vi")
    if config.split not in ("all", "dev", "test"):
        raise InputError(f"Unknown split {config.split!r}", "choose all, dev or test")
    questions = [q for q in evalset.questions if in_split(q.group, config.split)]
    docs_in = {lang: [d for d in evalset.documents if d.language == lang] for lang in evalset.languages}
    qs_in = {lang: [q for q in questions if q.language == lang] for lang in evalset.languages}
    pick = lambda qs: sample(qs, config.limit, config.seed)  # noqa: E731
    plans: list[RunPlan] = []
    for mode in modes:
        if mode == "given":
            plans.append(RunPlan("given", list(evalset.documents), pick(questions)))
        elif mode == "mono":
            plans += [RunPlan(f"mono {lang}", docs_in[lang], pick(qs_in[lang])) for lang in evalset.languages]
        elif mode == "cross":
            plans += [RunPlan(f"cross {lq}→{ld}", docs_in[ld], pick(qs_in[lq]))
                      for lq in evalset.languages for ld in evalset.languages if lq != ld]
        elif mode == "mixed":
            plans.append(RunPlan("mixed " + "+".join(evalset.languages), list(evalset.documents), pick(questions)))
        else:
            plans += [_abstain_plan(lang, docs_in[lang], qs_in[lang], config) for lang in evalset.languages]
    return [p for p in plans if p.questions]


def _abstain_plan(lang: str, docs: list[EvalDocument], questions: list[EvalQuestion],
                  config: EvalConfig) -> RunPlan:
    """Whole articles are left out of the store (siblings of a withheld paragraph often hold
    its answer too); their questions must be declined. As many questions whose article stayed
    are asked too, so abstention precision and answer accuracy are measured on the same run."""
    groups = sorted({q.group for q in questions})
    count = max(1, round(config.withhold * len(groups))) if groups else 0
    withheld = set(random.Random(config.seed).sample(groups, count))
    unanswerable = [EvalQuestion(q.id, q.question, q.language, q.answers, frozenset(), False, q.group,
                                 q.other_answers) for q in questions if q.group in withheld]
    answerable = [q for q in questions if q.group not in withheld]
    half = config.limit // 2 if config.limit else len(unanswerable)
    chosen = sample(unanswerable, half, config.seed) + sample(answerable, max(1, half), config.seed)
    kept = [d for d in docs if d.group not in withheld]
    return RunPlan(f"abstain {lang}", kept, chosen)


# --- running ---------------------------------------------------------------------------------
class Evaluator:
    """Builds stores and asks questions with one embedder and one chat model for every run."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 chat_model: ChatModel | None = None, progress: bool = False, cache: bool = True) -> None:
        self.settings = settings or Settings.from_env()
        inner = embedder or E5Embedder(num_threads=self.settings.n_threads or None)
        self.embedder = CachedEmbedder(inner, embedding_cache_path(inner) if cache else None)
        self._chat_model = chat_model
        self.progress = progress
        self._tmp = tempfile.TemporaryDirectory(prefix="vja-eval-")
        self._key_of: dict[str, str] = {}
        self._stores: dict[tuple[Any, ...], ChunkStore] = {}

    def close(self) -> None:
        self.embedder.save()
        self._tmp.cleanup()

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, evalset: EvalSet, config: EvalConfig) -> list[RunResult]:
        return [self.run_plan(plan, config.retrieval_only) for plan in plan_runs(evalset, config)]

    def run_plan(self, plan: RunPlan, retrieval_only: bool = False) -> RunResult:
        from tqdm import tqdm

        assistant = self.assistant_for(plan, retrieval_only)
        results = []
        for q in tqdm(plan.questions, desc=plan.name, unit="q", disable=not self.progress, leave=False):
            results.append(self.evaluate(assistant, q, retrieval_only))
        return RunResult(plan.name, len(plan.documents), assistant.store.count(), results,
                         summarize(results, retrieval_only))

    def chat_model(self) -> ChatModel:
        """The model every run shares, loaded on first use (never for retrieval-only runs)."""
        if self._chat_model is None:
            self._chat_model = Assistant(self.settings, embedder=self.embedder).chat_model
        return self._chat_model

    def assistant_for(self, plan: RunPlan, retrieval_only: bool = False) -> Assistant:
        """An Assistant with the current settings over a store of the plan's documents. Stores are
        kept for the evaluation's lifetime: another run (or settings variant) over the same
        documents and chunking reuses the store instead of ingesting again."""
        root = Path(self._tmp.name)
        s = self.settings
        key = (frozenset((d.key, d.language) for d in plan.documents), s.chunk_tokens, s.chunk_overlap)
        store = self._stores.get(key)
        # SQuAD and JSONL sets measure retrieval mode (XQuAD is its regression check); the
        # conversational set runs both modes (chat_report.py).
        settings = s.replace(store_dir=root / f"store-{len(self._stores)}", chroma_url="", answer_mode="retrieval")
        assistant = Assistant(settings, embedder=self.embedder, store=store,
                              chat_model=None if retrieval_only else self.chat_model())
        if store is None:
            files = [self._materialize(d, root / "docs") for d in plan.documents]
            report = assistant.ingest(files, progress=self.progress)
            if report.failed:
                raise InputError(f"{len(report.failed)} evaluation document(s) could not be read, "
                                 f"e.g. {report.failed[0][0]}: {report.failed[0][1]}",
                                 "fix or remove them from --docs")
            self._stores[key] = assistant.store
        return assistant

    def _materialize(self, doc: EvalDocument, folder: Path) -> Path:
        """The document as a file: SQuAD paragraphs become Markdown with the article title as heading."""
        if doc.path is not None:
            path = doc.path
        else:
            path = folder / doc.language / f"{doc.key}.md"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"# {doc.title}\n\n{doc.text}\n", encoding="utf-8")
        self._key_of[str(path.resolve())] = doc.key
        return path

    def evaluate(self, assistant: Assistant, q: EvalQuestion, retrieval_only: bool = False) -> QuestionResult:
        ranked = [self._key_of.get(p.source, p.source) for p in assistant.retrieve(q.question, k=DEPTH)]
        rank = next((i for i, key in enumerate(ranked, 1) if key in q.gold), None)
        result = QuestionResult(q.id, q.question, q.language, q.answerable, sorted(q.gold), ranked, rank)
        if retrieval_only:
            return result
        t0 = time.perf_counter()
        answer: Answer = assistant.ask(q.question)
        result.total_s = time.perf_counter() - t0
        result.answer, result.abstained, result.reason = answer.text, answer.abstained, answer.reason
        result.raw = answer.raw_text
        result.first_token_s = answer.timings.get("first_token_s")
        result.prompt_tokens = answer.usage.get("prompt_tokens")
        result.confidence = answer.confidence
        if q.answerable and q.answers:
            predicted = "" if answer.abstained else strip_markers(answer.text)
            result.exact_match, result.f1 = exact_match(predicted, q.answers), token_f1(predicted, q.answers)
        if answer.model:  # the passages reached the model (not stopped by the relevance gate)
            result.given = [self._key_of.get(p.source, p.source) for p in answer.passages]
        texts = {p.chunk_id: p.text for p in answer.passages}
        # Each cited passage's retrieval signals, recorded so rules on citations can be weighed on the JSON.
        by_number = {p.number: p for p in answer.passages}
        best_dense = max((p.dense_similarity or 0.0 for p in answer.passages), default=0.0)
        for c in answer.citations:
            key = self._key_of.get(c.source, c.source)
            valid = key in q.gold or contains_answer(texts.get(c.chunk_id, c.quote), q.answers + q.other_answers)
            cited = by_number.get(c.marker)
            result.citations.append({
                "marker": c.marker, "key": key, "valid": valid, "verdict": c.verdict, "score": round(c.score, 4),
                "language": cited.language if cited else "",
                "dense_similarity": cited.dense_similarity if cited else None,
                "dense_margin": cited.dense_margin if cited else None,
                "term_coverage": cited.term_coverage if cited else None,
                "best_dense": best_dense})
        return result


def summarize(results: Sequence[QuestionResult], retrieval_only: bool) -> list[Metric]:
    """Every metric of one run, each with the number of questions (or citations) it rests on."""
    with_gold = [r for r in results if r.answerable and r.gold]
    ranks = [r.rank for r in with_gold]
    metrics = [ratio_metric(f"hit@{k}", sum(1 for x in ranks if x and x <= k), len(ranks)) for k in HITS]
    metrics.append(mean_metric("MRR", [1.0 / x if x else 0.0 for x in ranks]))
    if retrieval_only:
        return metrics
    scored = [r for r in results if r.f1 is not None]
    metrics += [mean_metric("EM", [r.exact_match or 0.0 for r in scored], "%", 100),
                mean_metric("F1", [r.f1 or 0.0 for r in scored], "%", 100)]
    answerable = [r for r in results if r.answerable]
    prompted = [r for r in answerable if r.gold and r.given]
    metrics.append(ratio_metric("gold in prompt", sum(1 for r in prompted if set(r.given) & set(r.gold)),
                                len(prompted)))
    unanswerable = [r for r in results if not r.answerable]
    abstained = [r for r in results if r.abstained]
    if unanswerable:
        right = sum(1 for r in unanswerable if r.abstained)
        metrics += [ratio_metric("abstention precision", right, len(abstained)),
                    ratio_metric("abstention recall", right, len(unanswerable))]
    metrics.append(ratio_metric("answered (answerable)", sum(1 for r in answerable if not r.abstained),
                                len(answerable)))
    answered = [r for r in results if not r.abstained]
    cites = [c for r in answered for c in r.citations]
    metrics += [ratio_metric("citation precision", sum(1 for c in cites if c["valid"]), len(cites)),
                ratio_metric("citation coverage", sum(1 for r in answered if any(c["valid"] for c in r.citations)),
                             len(answered))]
    metrics += time_metrics("TTFT", [r.first_token_s for r in results if r.first_token_s is not None])
    metrics += time_metrics("total", [r.total_s for r in results if r.total_s is not None])
    return metrics
