"""Answer and citation quality per preset, and retrieval over every question: the README tables.

1. Retrieval (no model): every XQuAD question (1190 per language) in every mode, hit@k and MRR.
2. Answers, per installed preset: the same seeded sample of the test split (the articles the
   defaults were not tuned on) in every mode: mono, cross-lingual, mixed store, and abstention
   (a fifth of the articles left out of the store; their questions must be declined).
3. Presets side by side: the figures that decide the default preset, pooled from the runs of
   table 2 (each cell weighted by the questions, or citations, behind it).
4. The English F1 target on a larger sample: the default preset, English questions over English
   paragraphs, --target-limit questions of the test split (default: all 578), with a bootstrap
   95% interval; at 40 questions one sample scored 57.6 and another 77.9 on the first 40 of 120.
5. Where the English F1 goes: the target run's questions by outcome (answered right, partly,
   wrong; declined, by which step), with the F1 points each outcome costs and, for a declined
   answer, what the model's own words would have scored.

XQuAD is the regression check of retrieval mode (evaluation.runner runs every set here in it);
the conversational set (benchmarks/chat_quality.py) measures the answers people want.

Both are `vjassistant eval` runs (vjassistant.evaluation.evaluate); the tables are its tables.
--reuse-json DIR reads a run recorded by --json-dir (DIR/<preset>.json, DIR/target.json) instead
of asking its questions again, when its settings and sample are the ones of this invocation:
table 3 pools runs, and a run of one part need not repeat the others.

    python benchmarks/quality.py [--limit 40] [--presets ...] [--split test] [--target-limit all]
                                 [--update-readme] [--json-dir DIR] [--reuse-json DIR]
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from common import installed_presets, publish, table, update_readme

from vjassistant.config import Settings
from vjassistant.evaluation import EvalConfig, EvalReport, EvalSet, QuestionResult, evaluate, load_eval_set
from vjassistant.evaluation.metrics import Metric, bootstrap_interval, strip_markers, token_f1
from vjassistant.evaluation.report import TUNABLES, markdown_table
from vjassistant.prompts import declines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="xquad-en,xquad-vi", help="comma-separated SQuAD files (parallel)")
    ap.add_argument("--limit", type=int, default=40, help="questions per run for the answer tables")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", default="test", choices=["all", "dev", "test"])
    ap.add_argument("--presets", default="", help="comma-separated; default: every installed preset; 'none'")
    ap.add_argument("--skip-retrieval", action="store_true")
    ap.add_argument("--target-limit", type=_limit, default="all",
                    help="questions of the first --sets file (English) for the F1 target table: a number, "
                         "'all' (the default) or 0 to skip it")
    ap.add_argument("--target-model", default="", help="preset for the F1 target table (default: the default)")
    ap.add_argument("--update-readme", action="store_true")
    ap.add_argument("--json-dir", type=Path, help="also write each preset's full report (every question) "
                                                   "as DIR/<preset>.json and the target run's as DIR/target.json, "
                                                   "to read the answers behind a figure")
    ap.add_argument("--reuse-json", type=Path, help="read the runs recorded in this --json-dir instead of "
                                                    "asking again (settings and sample must match)")
    args = ap.parse_args()
    settings, sets = Settings.from_env(), args.sets.split(",")
    names = installed_presets(args.presets, settings.models_dir)
    # The answer and preset tables in the README show every installed preset: a run of some of
    # them prints its tables but leaves those two README sections as they are.
    every = set(names) == set(installed_presets("", settings.models_dir))
    if not args.skip_retrieval:
        t0 = time.perf_counter()
        report = evaluate(sets, config=EvalConfig(retrieval_only=True), settings=settings)
        out = report.to_markdown() + f" Run took {time.perf_counter() - t0:.0f} s."
        publish("quality-retrieval", out, args.update_readme)
    sections, reports = [], {}
    for name in names:
        config = EvalConfig(limit=args.limit, seed=args.seed, split=args.split)
        report = reports[name] = _run(name, sets, config, settings.replace(model=name), args.reuse_json)
        sections.append(f"**{name}**\n\n{markdown_table(report.runs)}\n\n{report.caption()} "
                        f"Run took {report.seconds:.0f} s.")
        print(sections[-1], flush=True)
        if args.json_dir:
            args.json_dir.mkdir(parents=True, exist_ok=True)
            report.write_json(args.json_dir / f"{name}.json")
    if args.update_readme and sections and every:
        update_readme("quality-answers", "\n\n".join(sections))
    if reports:
        publish("quality-presets", preset_table(reports), args.update_readme and every)
    if args.target_limit is not None:
        config = EvalConfig(modes=["mono"], limit=args.target_limit, seed=args.seed, split=args.split)
        report = _run("target", sets[:1], config, settings.replace(model=args.target_model or settings.model),
                      args.reuse_json)
        publish("quality-target", target_table(report, F1_TARGET)
                + f" Run took {report.seconds:.0f} s.", args.update_readme)
        publish("quality-outcomes", outcome_table(report, load_eval_set(sets[:1])), args.update_readme)
        if args.json_dir:
            report.write_json(args.json_dir / "target.json")


def _run(name: str, sets: list[str], config: EvalConfig, settings: Settings, reuse: Path | None) -> EvalReport:
    """``evaluate``, or the run recorded as ``reuse/name.json`` when it was made the same way."""
    path = reuse / f"{name}.json" if reuse else None
    if path is None or not path.exists():
        return evaluate(sets, config=config, settings=settings)
    recorded = EvalReport.read_json(path)
    # A setting added since the run was recorded reads back as today's default: not the same run.
    written = json.loads(path.read_text(encoding="utf-8"))["settings"]
    differs = [f"{k} not recorded" for k in TUNABLES if k not in written]
    differs += [f"{k}={getattr(recorded.settings, k)} (now {getattr(settings, k)})"
                for k in ("model", *TUNABLES) if getattr(recorded.settings, k) != getattr(settings, k)]
    differs += [f"{f.name}={getattr(recorded.config, f.name)} (now {getattr(config, f.name)})"
                for f in fields(EvalConfig)
                if _listed(getattr(recorded.config, f.name)) != _listed(getattr(config, f.name))]
    dataset = load_eval_set(sets).name
    differs += [f"set {recorded.dataset} (now {dataset})"] if recorded.dataset != dataset else []
    if differs:
        raise SystemExit(f"{path} was recorded with other settings: {', '.join(differs)}; "
                         "ask again (leave out --reuse-json) or pass the settings it was made with")
    print(f"{name}: the answers recorded in {path}, not asked again", flush=True)
    return recorded


def _listed(value: object) -> object:
    return list(value) if isinstance(value, (list, tuple)) else value


def _limit(value: str) -> int | None:
    """``--target-limit``: "all" -> 0 (every question, as EvalConfig reads it), "0" -> None (skip)."""
    if value == "all":
        return 0
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of questions, 'all' or 0, not {value!r}")
    return int(value) or None


# (column, metric, runs pooled): runs are matched by the start of their name.
SUMMARY = (("F1 mono en", "F1", ("mono en",)), ("F1 mono vi", "F1", ("mono vi",)),
           ("F1 cross", "F1", ("cross",)), ("F1 mixed", "F1", ("mixed",)),
           ("answered", "answered (answerable)", ("mono", "cross", "mixed")),
           ("citation precision", "citation precision", ("mono", "cross", "mixed", "abstain")),
           ("abstention recall", "abstention recall", ("abstain",)),
           ("abstention precision", "abstention precision", ("abstain",)),
           ("TTFT p50 s, mono en", "TTFT p50", ("mono en",)))


def pooled(report: EvalReport, metric: str, prefixes: tuple[str, ...]) -> Metric | None:
    """One metric over several runs: their values weighted by the n each rests on."""
    parts = [m for r in report.runs if r.name.startswith(prefixes)
             for m in [r.metric(metric)] if m is not None and m.value is not None and m.n]
    if not parts:
        return None
    n = sum(m.n for m in parts)
    return Metric(metric, sum(m.value * m.n for m in parts) / n, n, parts[0].unit)  # type: ignore[operator]


def _cell(m: Metric | None) -> str:
    if m is None:
        return ""
    if m.value is None:
        return f"– ({m.n})"
    return (f"{m.value:.1f}" if m.unit in ("%", "s") else f"{m.value:.2f}") + f" ({m.n})"


def preset_table(reports: dict[str, EvalReport]) -> str:
    rows = [[name] + [_cell(pooled(report, metric, prefixes)) for _, metric, prefixes in SUMMARY]
            for name, report in reports.items()]
    first = next(iter(reports.values()))
    return (table(["preset"] + [c for c, _, _ in SUMMARY], rows)
            + f"\n\nPooled from the tables under [Evaluation](#evaluation) ({first.config.split} split, "
            f"{first.config.limit or 'every'} questions per run, seed {first.config.seed}); "
            "(n) is the number of questions (citations, for citation precision) behind each figure.")


F1_TARGET = 70.0


def target_table(report: EvalReport, target: float) -> str:
    """F1 of the first run (English over English) with its bootstrap interval, against ``target``."""
    run = report.runs[0]
    f1 = [100 * r.f1 for r in run.results if r.f1 is not None]
    lo, hi = bootstrap_interval(f1)
    verdict = "met" if lo >= target else "not met" if hi < target else f"undecided: the interval spans {target:g}"
    cells = [_cell(run.metric(name)) for name in ("F1", "EM", "answered (answerable)", "citation precision")]
    rows = [[run.name, report.model, cells[0], f"{lo:.1f}–{hi:.1f}", *cells[1:], verdict]]
    return (table(["run", "model", "F1", "F1 95% interval", "EM", "answered", "citation precision",
                   f"F1 ≥ {target:g}"], rows)
            + f"\n\n{report.caption()} Interval: percentile bootstrap of the mean F1 (5000 resamples of the "
            "questions, seed 0).")


# (outcome, test): each question counts under the first outcome it meets, in this order.
OUTCOMES: tuple[tuple[str, Callable[[QuestionResult], bool]], ...] = (
    ("answered, exact", lambda r: not r.abstained and r.f1 == 1.0),
    ("answered, partly right", lambda r: not r.abstained and bool(r.f1)),
    ("answered, wrong", lambda r: not r.abstained),
    ("declined before the model: no passage relevant enough", lambda r: not r.given),
    ("declined by the model (NOT_FOUND)", lambda r: declines(r.raw)),
    ("declined by the check: no statement supported", lambda r: True),
)


def outcome_table(report: EvalReport, eval_set: EvalSet) -> str:
    """The target run's questions by outcome: how many, the F1 points each outcome costs the
    run's F1, whether the gold passage was in the prompt (or, declined before the model was
    asked, among the top_k retrieved), and what a declined answer would have scored in the
    model's own words."""
    results = [r for r in report.runs[0].results if r.f1 is not None]
    answers = {q.id: q.answers for q in eval_set.questions}
    groups: dict[str, list[QuestionResult]] = {name: [] for name, _ in OUTCOMES}
    top_k = report.settings.top_k
    for r in results:
        groups[next(name for name, test in OUTCOMES if test(r))].append(r)
    rows = []
    for name, group in groups.items():
        lost = sum(1 - (r.f1 or 0.0) for r in group) / len(results) * 100
        gold_given = _ratio([bool(set(r.gold) & set(r.given)) if r.given else r.rank is not None and r.rank <= top_k
                             for r in group])
        own = [token_f1(strip_markers(r.raw), answers[r.id]) for r in group
               if r.abstained and not declines(r.raw)]
        rows.append([name, f"{len(group)} ({len(group) / len(results):.1%})", f"{lost:.1f}", gold_given,
                     f"{100 * sum(own) / len(own):.1f} ({len(own)}), {sum(f >= 0.5 for f in own)} of them right"
                     if own else "–"])
    scored = [100 * (r.f1 or 0.0) for r in results if not r.abstained]
    given = f"the answers given score {sum(scored) / len(scored):.1f} F1 ({len(scored)})" if scored else "none answered"
    return (table(["outcome", "questions", "F1 points lost",
                   f"gold passage in the prompt (declined before: in the top {top_k})",
                   "declined answer in the model's own words: F1, right (F1 ≥ 0.5)"], rows)
            + f"\n\n{report.model}, the target run above ({len(results)} questions of {report.dataset}, "
            f"{report.config.split} split): F1 is 100 minus the points lost; {given}. A question declined by "
            "several steps counts under the first listed.")


def _ratio(flags: list[bool]) -> str:
    return f"{sum(flags) / len(flags):.3f} ({len(flags)})" if flags else "– (0)"


if __name__ == "__main__":
    main()
