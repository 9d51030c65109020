"""Citation checker accuracy on the labelled XQuAD support set, beside two baselines.

The set (``vjassistant.evaluation.support_set``): answer sentences, short answers and
question+answer claims against their own paragraph (supported) and against the closest other
paragraph of the article, with a changed number, a swapped name or a wrong answer (not
supported), in English, Vietnamese and across the two. Thresholds are chosen on the dev
split (even articles, ``--calibrate`` re-runs the search); every figure is on the test split.

Compared in the same run, on the same examples:
- lexical only: the checker without the embedder (across languages it cannot say "supported");
- embedder only: statement-to-sentence cosine, the threshold chosen on dev;
- the checker (defaults in ``support.Thresholds``).
A prediction counts as positive when the verdict is "supported"; balanced accuracy is the mean
of the recall on supported and on unsupported examples.

    python benchmarks/citation_check.py [--limit N] [--calibrate] [--update-readme]
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import statistics
import time
from collections.abc import Sequence

import numpy as np
from common import publish, table

from vjassistant.embeddings import E5Embedder
from vjassistant.evaluation.datasets import in_split
from vjassistant.evaluation.support_set import KINDS, SupportExample, build_support_set
from vjassistant.grounding.support import DEFAULT_THRESHOLDS, SUPPORTED, Support, SupportChecker, Thresholds

PAIRS = [("en", "en"), ("vi", "vi"), ("en", "vi"), ("vi", "en")]


def balanced_accuracy(pred: np.ndarray, gold: np.ndarray) -> float:
    pos, neg = gold, ~gold
    if not pos.any() or not neg.any():
        return float("nan")
    return float(((pred & pos).sum() / pos.sum() + (~pred & neg).sum() / neg.sum()) / 2)


def features(examples: Sequence[SupportExample], checker: SupportChecker) -> tuple[list[Support], list[float]]:
    out, times = [], []
    for e in examples:
        t0 = time.perf_counter()
        out.append(checker.support(e.statement, e.passage, statement_language=e.statement_language,
                                   passage_language=e.passage_language))
        times.append(time.perf_counter() - t0)
    return out, times


def predictions(results: Sequence[Support], thresholds: Thresholds) -> tuple[np.ndarray, np.ndarray]:
    """(supported?, score) per example under ``thresholds``, re-judging the stored signals."""
    judge = SupportChecker(thresholds=thresholds).judge
    judged = [judge(dataclasses.replace(r)) for r in results]
    return np.array([j.verdict == SUPPORTED for j in judged]), np.array([j.score for j in judged])


def best_cut(scores: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """The score threshold (predict supported at >= it) with the best balanced accuracy, and that accuracy."""
    cuts = np.unique(np.round(scores, 3))
    pos, neg = np.sort(scores[gold]), np.sort(scores[~gold])
    if not len(cuts) or not len(pos) or not len(neg):
        return 0.5, float("nan")
    tpr = 1 - np.searchsorted(pos, cuts, side="left") / len(pos)   # positives at or above each cut
    tnr = np.searchsorted(neg, cuts, side="left") / len(neg)       # negatives below it
    i = int(np.argmax((tpr + tnr) / 2))
    return float(cuts[i]), float((tpr[i] + tnr[i]) / 2)


def calibrate(results: Sequence[Support], gold: np.ndarray) -> tuple[Thresholds, float]:
    """Grid search on the dev examples given, in two stages: the signal weights and the supported
    threshold on the same-language examples, then the cross-language cosine shift at that threshold."""
    same = np.array([r.same_language for r in results])
    best: tuple[float, Thresholds] = (-1.0, DEFAULT_THRESHOLDS)
    grid = itertools.product(np.arange(0.76, 0.87, 0.01), (0.03, 0.05, 0.07, 0.10), (0.0, 0.1, 0.2, 0.3, 0.5),
                             (2.0, 4.0, 8.0))
    same_results = [r for r, s in zip(results, same) if s]
    for low, width, weight, power in grid:
        th = dataclasses.replace(DEFAULT_THRESHOLDS, semantic_low=round(float(low), 2),
                                 semantic_high=round(float(low + width), 2), semantic_weight=weight,
                                 name_power=power, supported=0.0)
        _, scores = predictions(same_results, th)
        cut, acc = best_cut(scores, gold[same])
        if acc > best[0]:
            best = (acc, dataclasses.replace(th, supported=round(cut, 3)))
    th = best[1]
    cross_results = [r for r, s in zip(results, same) if not s]
    if cross_results:
        shifts = [(balanced_accuracy(predictions(cross_results, dataclasses.replace(th, cross_shift=shift))[0],
                                     gold[~same]), shift) for shift in np.arange(-0.02, 0.045, 0.005)]
        th = dataclasses.replace(th, cross_shift=round(float(max(shifts)[1]), 3))
    # "partial" is not calibrated (the set has no partial label): half the supported threshold.
    th = dataclasses.replace(th, partial=round(th.supported / 2, 3))
    return th, balanced_accuracy(predictions(results, th)[0], gold)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="examples per split, sampled with --seed (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calibrate", action="store_true", help="search the thresholds on dev and print them")
    ap.add_argument("--timed", type=int, default=50, help="test examples per language pair timed with empty caches")
    ap.add_argument("--update-readme", action="store_true")
    args = ap.parse_args(argv)

    examples = build_support_set(seed=args.seed)
    splits = {s: [e for e in examples if in_split(e.group, s)] for s in ("dev", "test")}
    if args.limit:
        splits = {s: random.Random(args.seed).sample(xs, min(args.limit, len(xs))) for s, xs in splits.items()}
    embedder = E5Embedder()
    semantic = SupportChecker(embedder, cache_size=20000)
    lexical = SupportChecker(None, cache_size=20000)
    res = {s: features(xs, semantic) for s, xs in splits.items()}
    lex_test, lex_times = features(splits["test"], lexical)
    gold = {s: np.array([e.supported for e in xs]) for s, xs in splits.items()}

    thresholds = DEFAULT_THRESHOLDS
    if args.calibrate:
        thresholds, dev_acc = calibrate(res["dev"][0], gold["dev"])
        print(f"calibrated on {len(splits['dev'])} dev examples (balanced accuracy {dev_acc:.3f}):\n  {thresholds}")
        print(f"  defaults in support.py:\n  {DEFAULT_THRESHOLDS}")
    cos_dev = np.array([-1.0 if r.semantic is None else r.semantic for r in res["dev"][0]])  # None: no words
    cos_cut, _ = best_cut(cos_dev, gold["dev"])

    test, test_gold = splits["test"], gold["test"]
    ours, _ = predictions(res["test"][0], thresholds)
    lex, _ = predictions(lex_test, thresholds)
    cos = np.array([-1.0 if r.semantic is None else r.semantic for r in res["test"][0]]) >= cos_cut
    # Time with empty caches: every check embeds its statement and its passage's sentences anew.
    cold = {pair: [features([e], SupportChecker(embedder))[1][0]
                   for e in [e for e in test if (e.statement_language, e.passage_language) == pair][:args.timed]]
            for pair in PAIRS}
    rows = []
    for s_lang, p_lang in [*PAIRS, (None, None)]:
        mask = np.array([(s_lang is None or (e.statement_language, e.passage_language) == (s_lang, p_lang))
                         for e in test])
        if not mask.any():
            continue
        times = cold[(s_lang, p_lang)] if s_lang else [t for ts in cold.values() for t in ts]
        rows.append([f"{s_lang} → {p_lang}" if s_lang else "all", int(mask.sum()),
                     f"{balanced_accuracy(ours[mask], test_gold[mask]):.3f}",
                     f"{balanced_accuracy(lex[mask], test_gold[mask]):.3f}",
                     f"{balanced_accuracy(cos[mask], test_gold[mask]):.3f}",
                     f"{statistics.median(times) * 1000:.0f}" if times else "–"])
    body = table(["statement → passage", "examples", "balanced accuracy", "lexical only", "embedder only",
                  "check p50 ms"], rows)
    kind_rows = []
    for kind in KINDS:
        mask = np.array([e.kind == kind for e in test])
        if mask.any():
            label = "supported" if test_gold[mask][0] else "not supported"
            kind_rows.append([kind, label, int(mask.sum()), f"{(ours[mask] == test_gold[mask]).mean():.3f}",
                              f"{(lex[mask] == test_gold[mask]).mean():.3f}",
                              f"{(cos[mask] == test_gold[mask]).mean():.3f}"])
    body += "\n\n" + table(["kind", "label", "examples", "accuracy", "lexical only", "embedder only"], kind_rows)
    body += (f"\n\nTest split (odd XQuAD articles), {len(test)} examples; thresholds chosen on the dev split "
             f"({len(splits['dev'])} examples): supported at score >= {thresholds.supported}, embedder-only "
             f"baseline at cosine >= {cos_cut:.3f}. Check time: one statement against one passage with empty "
             f"caches, so the statement and every passage sentence are embedded (median of {args.timed} per "
             f"pair, 2 cores; lexical only: {statistics.median(lex_times) * 1000:.1f} ms). In an answer the "
             f"sentences are already embedded by focus and shared across statements. "
             f"`python benchmarks/citation_check.py --update-readme`")
    body += "\n\n" + claims_table(embedder, thresholds, cos_cut)
    publish("citation-check", body, args.update_readme)


def claims_table(embedder, thresholds: Thresholds, cos_cut: float) -> str:
    """The hand-written corpus claims (evaluation/claims.py) by kind: the checker as answering runs it
    (bare answers as question+answer claims, names other languages write alike required), beside
    the checker without the embedder and the embedder alone."""
    from vjassistant.documents import bundled_corpus, load_document
    from vjassistant.evaluation.claims import load_claims
    from vjassistant.grounding.citations import claim

    docs = {d.filename: d for d in map(load_document, bundled_corpus())}
    checkers = {"ours": SupportChecker(embedder, thresholds), "lexical": SupportChecker(None, thresholds)}
    by_kind: dict[str, list[tuple[bool, bool, bool]]] = {}
    for c in load_claims():
        doc, said = docs[c.source], claim(c.statement, c.question or None)
        others = [d.text for d in docs.values() if d.language != c.language]
        got = {}
        for name, checker in checkers.items():
            r = checker.support(said, doc.text, statement_language=c.language, passage_language=doc.language,
                                portable=checker.portable_names(said, others))
            got[name] = r
        cosine = (got["ours"].semantic or -1.0) >= cos_cut
        by_kind.setdefault(c.kind, []).append(((got["ours"].verdict == SUPPORTED) == c.supported,
                                              (got["lexical"].verdict == SUPPORTED) == c.supported,
                                              cosine == c.supported))
    rows = [[kind, len(v), *(f"{sum(x[i] for x in v) / len(v):.3f}" for i in range(3))] for kind, v in by_kind.items()]
    everything = [x for v in by_kind.values() for x in v]
    rows.append(["all", len(everything), *(f"{sum(x[i] for x in everything) / len(everything):.3f}"
                                           for i in range(3))])
    return (table(["corpus claims: kind", "examples", "accuracy", "lexical only", "embedder only"], rows)
            + "\n\nThe hand-written claims about the bundled corpus (datasets/chat/claims.jsonl), each against "
              "the whole report it names. Written while the contradiction cues were built, so these figures show "
              "what the cues catch; the XQuAD tables above measure what they cost.")


if __name__ == "__main__":
    main()
