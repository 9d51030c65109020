"""Every rule that declines an answer or removes a citation, measured on the conversational set.

The set's --split (dev by default: rules are kept or dropped on dev) is asked once per mode with
every optional rule off and the relevance gate open, so every question reaches the model; each
rule is then replayed on those same recorded answers (evaluation/chat_replay.py), alone, and all
the defaults together. A rule earns its place when it raises correct answers, or raises citation
precision or abstention recall without costing more correct answers than it saves.

    python benchmarks/decline_rules.py [--split dev] [--json-dir DIR] [--reuse DIR] [--update-docs]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from common import publish, table

from vjassistant.config import Settings
from vjassistant.evaluation.chat import summarize_chat
from vjassistant.evaluation.chat_replay import recorded, replay
from vjassistant.evaluation.chat_report import evaluate_chat
from vjassistant.evaluation.report import metric_cell

OPEN_GATE = {"min_similarity": 0.0, "min_margin": -1.0, "min_similarity_cross": 0.0}
ALL_OFF = {"drop_unsupported": False}
# Each rule alone on top of ALL_OFF (the gate: only in retrieval mode, where it exists). The rules
# measured and deleted since (off-top, names, verify, confidence floor, translate, the asked-for
# number or date) and their figures: docs/decisions.md#decline-rules.
RULES = {
    "none": {},
    "relevance gate": {"gate": True},
    "drop unsupported sentences": {"drop_unsupported": True},
}
SHOWN = ("correct", "correct cross-lingual", "citation precision", "sentences cited", "abstention recall",
         "answered (answerable)", "language match")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, default=0, help="questions sampled from the split (0: all)")
    ap.add_argument("--modes", default="collection,retrieval")
    ap.add_argument("--json-dir", help="write the recorded runs here")
    ap.add_argument("--reuse", help="a folder with the recorded runs of an earlier call (rules.json)")
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    defaults = Settings.from_env()
    base = defaults.replace(**ALL_OFF, **OPEN_GATE)
    if args.reuse:
        record = recorded(Path(args.reuse) / "rules.json")
    else:
        report = evaluate_chat(modes=args.modes.split(","), split=args.split, settings=base, progress=True,
                              limit=args.limit)
        record = report.to_dict()
        if args.json_dir:
            Path(args.json_dir).mkdir(parents=True, exist_ok=True)
            report.write_json(Path(args.json_dir) / "rules.json")
    rows = []
    for run in record["runs"]:
        variants = {**RULES, "defaults (kept rules)": "defaults"}
        for name, change in variants.items():
            if run["mode"] != "retrieval" and change not in ("defaults",) and "gate" in change:
                continue
            if change == "defaults":
                settings = defaults
            else:
                settings = base.replace(**{k: v for k, v in change.items() if k != "gate"})
                if "gate" in change:
                    settings = settings.replace(min_similarity=defaults.min_similarity, min_margin=defaults.min_margin,
                                                min_similarity_cross=defaults.min_similarity_cross)
            results = replay(run, settings)
            metrics = {m.name: m for m in summarize_chat(results)}
            stopped = [r for r in results if r.reason.startswith("no passage")]
            rows.append([run["mode"], name, *(metric_cell(metrics.get(k)) for k in SHOWN),
                         f"{len(stopped)} ({sum(not r.answerable for r in stopped)} unanswerable)"])
    out = table(["mode", "rule (alone)", *SHOWN, "declined before the model ran"], rows)
    out += (f"\n\nConversational set, {args.split} split, model {record['model']}: each mode asked once with every "
            "optional rule off and the relevance gate open, then each rule replayed alone on the same answers "
            "(the last row: the defaults together). `python benchmarks/decline_rules.py --update-docs`")
    publish("decline-rules", out, args.update_docs)


if __name__ == "__main__":
    main()
