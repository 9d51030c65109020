"""Scoring: SQuAD exact match and token F1, retrieval ranks, abstention and citation counts.

Answer normalisation follows the official SQuAD v1.1 script (lower case, punctuation and the
English articles a/an/the removed, whitespace collapsed), with one change: punctuation is
every Unicode punctuation character, not only ASCII, so Vietnamese and French quotes and
dashes are removed too (as MLQA's script does).
"""
from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..grounding.citations import MARKER

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return " ".join(_ARTICLES.sub(" ", text).split())


def strip_markers(text: str) -> str:
    return MARKER.sub("", text).strip()


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def token_f1(prediction: str, golds: Iterable[str]) -> float:
    """The best SQuAD token F1 of ``prediction`` against any gold answer (0..1)."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        ref = normalize_answer(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
        elif not pred and not ref:
            best = 1.0
    return best


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether a normalised gold answer occurs in the normalised ``text`` (on word boundaries)."""
    norm = f" {normalize_answer(text)} "
    return any(a and f" {a} " in norm for a in (normalize_answer(x) for x in answers))


@dataclass
class Metric:
    """A figure and the number of questions (or citations) it rests on."""

    name: str
    value: float | None
    n: int
    unit: str = ""          # "" for a 0..1 share, "s" for seconds, "%" for 0..100 scores

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "value": self.value, "n": self.n, "unit": self.unit}


def mean_metric(name: str, values: Sequence[float], unit: str = "", scale: float = 1.0) -> Metric:
    return Metric(name, statistics.fmean(values) * scale if values else None, len(values), unit)


def ratio_metric(name: str, hits: int, total: int) -> Metric:
    return Metric(name, hits / total if total else None, total)


def bootstrap_interval(values: Sequence[float], level: float = 0.95, rounds: int = 5000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``: how far the figure could move
    with another sample of as many questions."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return float("nan"), float("nan")
    means = np.random.default_rng(seed).choice(data, size=(rounds, data.size), replace=True).mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation, as numpy's default."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def time_metrics(name: str, values: Sequence[float]) -> list[Metric]:
    return [Metric(f"{name} p50", percentile(values, 50) if values else None, len(values), "s"),
            Metric(f"{name} p95", percentile(values, 95) if values else None, len(values), "s")]
