"""Answer and citation quality per preset, and retrieval over every question: the README tables.

1. Retrieval (no model): every XQuAD question (1190 per language) in every mode, hit@k and MRR.
2. Answers, per installed preset: the same seeded sample of the test split (the articles the
   defaults were not tuned on) in every mode: mono, cross-lingual, mixed store, and abstention
   (a fifth of the articles left out of the store; their questions must be declined).

Both are `vjassistant eval` runs (vjassistant.evaluation.evaluate); the tables are its tables.

    python benchmarks/quality.py [--limit 40] [--presets ...] [--split test] [--update-readme]
"""
from __future__ import annotations

import argparse
import time

from common import update_readme

from vjassistant.config import Settings
from vjassistant.evaluation import EvalConfig, evaluate
from vjassistant.evaluation.report import markdown_table
from vjassistant.models import PRESETS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="xquad-en,xquad-vi", help="comma-separated SQuAD files (parallel)")
    ap.add_argument("--limit", type=int, default=40, help="questions per run for the answer tables")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", default="test", choices=["all", "dev", "test"])
    ap.add_argument("--presets", default="", help="comma-separated; default: every installed preset; 'none'")
    ap.add_argument("--skip-retrieval", action="store_true")
    ap.add_argument("--update-readme", action="store_true")
    args = ap.parse_args()
    settings, sets = Settings.from_env(), args.sets.split(",")
    names = [n for n in (args.presets.split(",") if args.presets else PRESETS)
             if n != "none" and (settings.models_dir / PRESETS[n].filename).is_file()]
    if not args.skip_retrieval:
        t0 = time.perf_counter()
        report = evaluate(sets, config=EvalConfig(retrieval_only=True), settings=settings)
        out = report.to_markdown() + f" Run took {time.perf_counter() - t0:.0f} s."
        print(out, flush=True)
        if args.update_readme:
            update_readme("quality-retrieval", out)
    sections = []
    for name in names:
        t0 = time.perf_counter()
        config = EvalConfig(limit=args.limit, seed=args.seed, split=args.split)
        report = evaluate(sets, config=config, settings=settings.replace(model=name))
        sections.append(f"**{name}**\n\n{markdown_table(report.runs)}\n\n{report.caption()} "
                        f"Run took {time.perf_counter() - t0:.0f} s.")
        print(sections[-1], flush=True)
    if args.update_readme and sections:
        update_readme("quality-answers", "\n\n".join(sections))


if __name__ == "__main__":
    main()
