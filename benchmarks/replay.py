"""Replay recorded answers through today's code: what a change after generation does to the figures.

Everything after the model's reply (marker resolution, the citation check, the off-top and
question-names rules, the decline reasons) runs again on the replies recorded in an evaluation
report (`vjassistant eval --json`, `quality.py --json-dir`), over the same retrieval and prompt
passages, with each reply's recorded confidence; nothing is generated, so a run of hours
replays in minutes. Replayed on the code that recorded it, a report gives back every figure
exactly (the check that the replay is faithful); a change to retrieval or to the prompt makes the
recorded replies meaningless, and the replay says so by counting the questions with no recorded
reply or other passages in their prompt.

    python benchmarks/replay.py REPORT.json [--sets xquad-en,xquad-vi] [--json OUT.json]
"""
from __future__ import annotations

import argparse
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from common import table

from vjassistant.config import Settings
from vjassistant.evaluation import EvalReport, QuestionResult, evaluate
from vjassistant.evaluation.report import TUNABLES, metric_cell

QUESTION = re.compile(r"\nQuestion: (.*?)\n\n", re.S)  # prompts.answer_messages' last user message
METRICS = ("F1", "answered (answerable)", "citation precision", "abstention recall")
# recorded settings that apply to the reply: today's are used (VJA_* variables turn them off)
AFTER_GENERATION = {"min_confidence_off_top", "question_names"}


class RecordedModel:
    """A chat model that gives back the recorded reply (and confidence) to each question."""

    name = "replay"
    n_ctx = 0  # the passage budget is then the configured one, as with the recorded model's context

    def __init__(self, results: Sequence[QuestionResult]) -> None:
        self.replies = {r.question.strip(): r for r in results}
        self.confidence: float | None = None
        self.unknown = 0

    def stream(self, messages, *, max_tokens, temperature, stop=()) -> Iterator[str]:
        found = QUESTION.search(messages[-1]["content"])
        recorded = self.replies.get(found.group(1).strip()) if found else None
        if recorded is None or not recorded.raw:
            self.unknown += 1  # the recorded run never asked the model this (another prompt, or declined before)
            self.confidence = None
            yield "NOT_FOUND"
            return
        self.confidence = recorded.confidence
        yield recorded.raw

    def count_tokens(self, text: str) -> int:
        return int(len(text.split()) * 1.4)  # generous: three focused passages stay far under the budget


def replay(report: EvalReport, sets: list[str]) -> tuple[EvalReport, int]:
    """``report``'s runs asked again with their recorded replies; and how many questions could not
    be replayed faithfully: no recorded reply, or other passages in the prompt than recorded."""
    runs, unknown, seconds = [], 0, 0.0
    for mode in dict.fromkeys(run.name.split()[0] for run in report.runs):
        # One mode at a time: the same question is asked in several modes, with other replies.
        mine = [run for run in report.runs if run.name.split()[0] == mode]
        model = RecordedModel([r for run in mine for r in run.results])
        again = evaluate(sets, config=replace(report.config, modes=[mode]), settings=report.settings,
                         chat_model=model)
        runs += again.runs
        given = {(run.name, r.id): r.given for run in mine for r in run.results}
        moved = sum(given.get((run.name, r.id)) != r.given for run in again.runs for r in run.results)
        unknown += model.unknown + moved
        seconds += again.seconds
    return EvalReport(report.dataset, f"{report.model} (replayed)", report.config, report.settings, runs,
                      seconds), unknown


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", type=Path, help="a report written by `vjassistant eval --json` or quality.py")
    ap.add_argument("--sets", default="xquad-en,xquad-vi", help="the sets it was made on, comma-separated")
    ap.add_argument("--json", type=Path, help="write the replayed report here")
    args = ap.parse_args()
    recorded = EvalReport.read_json(args.report)
    recorded.settings = Settings.from_env().replace(
        **{k: getattr(recorded.settings, k) for k in TUNABLES if k not in AFTER_GENERATION})
    replayed, unknown = replay(recorded, args.sets.split(","))
    if args.json:
        replayed.write_json(args.json)
    rows = []
    for old, new in zip(recorded.runs, replayed.runs, strict=True):
        for name in METRICS:
            a, b = old.metric(name), new.metric(name)
            if a is not None and a.value is not None:
                rows.append([old.name, name, metric_cell(a), metric_cell(b)])
    print(table(["run", "metric", "recorded", "replayed with this code"], rows))
    print(f"\n{args.report}: {sum(len(r.results) for r in recorded.runs)} questions replayed in "
          f"{replayed.seconds:.0f} s; questions not replayed faithfully (no recorded reply, or other passages "
          f"in the prompt): {unknown} (0 when retrieval is that of the recorded run). Recorded settings are "
          "kept but those applied to the reply (off-top and question-names rules); those and the checks are "
          "today's.")


if __name__ == "__main__":
    main()
