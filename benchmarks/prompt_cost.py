"""Prompt cost: prompt tokens and time to first token per preset, and what each retrieval/prompt
setting trades between accuracy and wait.

Every figure comes from the evaluation harness (vjassistant.evaluation) on the same seeded sample
of XQuAD English questions (dev split: the one the defaults were tuned on), in one store.

1. Presets: each installed preset answers the sample with the default settings, twice: "cold",
   with the KV cache cleared before every question (the whole prompt is read), and "warm", the
   questions asked one after another as in normal use (the fixed prefix, system rules and worked
   exchanges, is read once and reused).
2. Settings (the default preset, warm): variants of top_k (passages in the prompt) and
   passage_tokens (each passage cut to its best window of sentences; 0 = whole chunks) against
   the same questions: share of questions whose gold paragraph reached the prompt, F1, citation
   precision, prompt tokens and waits. The first row is the setting before the prompt work.

    python benchmarks/prompt_cost.py [--limit 30] [--presets ...] [--variants "top_k=4,passage_tokens=0;..."]
                                     [--update-readme]
"""
from __future__ import annotations

import argparse
import time

from common import installed_presets, median, publish, table

from vjassistant.config import DEFAULT_MODEL, Settings, parse_assignments
from vjassistant.evaluation import EvalConfig, load_eval_set
from vjassistant.evaluation.runner import Evaluator, QuestionResult, plan_runs, summarize
from vjassistant.prompts import fixed_messages

VARIANTS = ("top_k=4,passage_tokens=0;top_k=4,passage_tokens=120;top_k=3,passage_tokens=120;"
            "top_k=3,passage_tokens=80;top_k=2,passage_tokens=120;top_k=5,passage_tokens=120")


def run(ev: Evaluator, plan, settings: Settings, cold: bool) -> list[QuestionResult]:
    ev.settings = settings
    assistant = ev.assistant_for(plan)
    results = []
    for q in plan.questions:
        if cold:
            ev.chat_model()._llm.reset()  # type: ignore[attr-defined]  # llama.cpp: forget the cached prompt
        results.append(ev.evaluate(assistant, q))
    return results


def figures(results: list[QuestionResult]) -> dict[str, object]:
    m = {x.name: x for x in summarize(results, retrieval_only=False)}
    prompted = [r for r in results if r.prompt_tokens]

    def share(name: str) -> str:
        x = m[name]
        return f"{x.value:.2f} ({x.n})" if x.value is not None else f"– ({x.n})"
    return {"gold in prompt": share("gold in prompt"), "F1": round(m["F1"].value or 0.0, 1),
            "cit. P": share("citation precision"), "answered": share("answered (answerable)"),
            "prompt tokens": round(median([r.prompt_tokens for r in prompted])) if prompted else 0,
            "TTFT": median([r.first_token_s for r in results if r.first_token_s is not None]),
            "total": median([r.total_s for r in results if r.total_s is not None])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=30, help="questions (seeded sample of the dev split)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--presets", default="", help="comma-separated; default: every installed preset; 'none'")
    ap.add_argument("--variants", default=VARIANTS, help="settings variants, ';' between, ',' within")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="preset for the settings table")
    ap.add_argument("--update-readme", action="store_true")
    args = ap.parse_args()
    base = Settings.from_env()
    names = installed_presets(args.presets, base.models_dir)
    evalset = load_eval_set(["xquad-en"])
    (plan,) = plan_runs(evalset, EvalConfig(modes=["mono"], split="dev", limit=args.limit, seed=args.seed))
    preset_rows, variant_rows = [], []
    t0 = time.perf_counter()
    for name in names:
        with Evaluator(base.replace(model=name), progress=False) as ev:
            fixed = sum(ev.chat_model().count_tokens(m["content"]) for m in fixed_messages())
            cold, warm = figures(run(ev, plan, ev.settings, True)), figures(run(ev, plan, ev.settings, False))
            preset_rows.append([name, cold["prompt tokens"], fixed, cold["TTFT"], warm["TTFT"], warm["total"],
                                warm["F1"], warm["answered"], warm["cit. P"]])
            print(preset_rows[-1], flush=True)
    with Evaluator(base.replace(model=args.model), progress=False) as ev:
        for variant in args.variants.split(";"):
            changes = parse_assignments([v for v in variant.split(",") if v.strip()])
            f = figures(run(ev, plan, base.replace(model=args.model, **changes), False))
            variant_rows.append([", ".join(f"{k}={v}" for k, v in changes.items()), f["gold in prompt"], f["F1"],
                                 f["cit. P"], f["prompt tokens"], f["TTFT"], f["total"]])
            print(variant_rows[-1], flush=True)
    n = len(plan.questions)
    out = table(["preset", "prompt tokens p50", "of which fixed prefix", "TTFT s cold", "TTFT s warm",
                 "total s warm", "F1", "answered", "cit. P"], preset_rows)
    out += (f"\n\n{n} XQuAD English questions (dev split, seed {args.seed}), default settings, medians. Cold: KV cache "
            "cleared before each question, so the whole prompt is read; warm: questions in a row, the fixed prefix "
            "(system rules and worked exchanges) is read once and reused by llama.cpp.\n\n")
    out += table(["setting", "gold in prompt", "F1", "cit. P", "prompt tokens p50", "TTFT s p50", "total s p50"],
                 variant_rows)
    out += (f"\n\n{args.model}, the same {n} questions, warm. The first row is the retrieval setting before passages "
            f"were focused (whole chunks, 4 passages). (n) = questions (citations for cit. P) a figure rests on. "
            f"Run took {time.perf_counter() - t0:.0f} s.")
    publish("prompt-cost", out, args.update_readme)


if __name__ == "__main__":
    main()
