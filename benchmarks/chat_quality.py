"""The conversational set in both answer modes, with the targets the default preset is held to.

Asks every question of --split (test by default: the rules and prompts were chosen on dev) in
whole-collection and retrieval mode (vjassistant.evaluation.chat_report), then prints the figures
per mode, correct answers by kind, and each correctness target beside its measured figure.

    python benchmarks/chat_quality.py [--split test] [--json FILE] [--reuse-json FILE] [--update-docs]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import publish, table

from vjassistant.evaluation.chat import ChatResult, summarize_chat
from vjassistant.evaluation.chat_report import ChatReport, ChatRun, evaluate_chat
from vjassistant.evaluation.report import metric_cell

# (figure, target, at least or at most)
TARGETS = [("correct", 0.90), ("correct en", 0.85), ("correct fr", 0.85), ("correct vi", 0.85),
           ("correct cross-lingual", 0.85), ("citation precision", 0.95), ("sentences cited", 0.95),
           ("language match", 0.95), ("abstention recall", 0.90)]


def read(path: Path) -> ChatReport:
    data = json.loads(path.read_text(encoding="utf-8"))
    runs = []
    for r in data["runs"]:
        results = []
        for x in r["results"]:
            x = {k: v for k, v in x.items() if k != "correct"}
            results.append(ChatResult(**x))
        runs.append(ChatRun(r["mode"], results, summarize_chat(results)))
    return ChatReport(data["dataset"], data["model"], data["split"], runs, data["seconds"], data["settings"])


def targets(report: ChatReport) -> str:
    rows = []
    for run in report.runs:
        for name, goal in TARGETS:
            m = run.metric(name)
            verdict = "–" if m is None or m.value is None else ("met" if m.value >= goal else "not met")
            rows.append([run.mode, name, f">= {goal}", metric_cell(m), verdict])
    return table(["mode", "target", "goal", "measured (n)", "verdict"], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=0, help="questions sampled from the split (0: all)")
    ap.add_argument("--modes", default="collection,retrieval")
    ap.add_argument("--json", help="also write the whole report (every answer) here")
    ap.add_argument("--reuse-json", help="print the tables of a report written by --json instead of asking again")
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    if args.reuse_json:
        report = read(Path(args.reuse_json))
    else:
        report = evaluate_chat(modes=args.modes.split(","), split=args.split, progress=True, limit=args.limit)
        if args.json:
            report.write_json(args.json)
    kinds = report.kind_table()
    head = report.to_markdown().split("\n\n")[0]
    publish("chat-quality", head + "\n\n" + targets(report) + "\n\n" + report.caption()
            + f" `python benchmarks/chat_quality.py --split {report.split} --update-docs`", args.update_docs)
    publish("chat-headline", head + "\n\n" + report.caption(), args.update_docs)
    publish("chat-kinds", kinds + "\n\nCorrect answers by kind of question, same runs.", args.update_docs)


if __name__ == "__main__":
    main()
