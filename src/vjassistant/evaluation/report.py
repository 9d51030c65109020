"""An evaluation's report: a markdown table (one row per run) and the whole thing as JSON."""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InputError
from .metrics import Metric
from .runner import EvalConfig, QuestionResult, RunResult

# The settings that change what is measured, shown under every table.
TUNABLES = ("top_k", "passage_tokens", "candidates", "rrf_k", "per_document", "lexical_cross_weight",
            "chunk_tokens", "chunk_overlap", "min_similarity", "min_margin", "min_similarity_cross", "prompt_budget",
            "temperature")
COLUMNS = ("hit@1", "hit@3", "hit@5", "MRR", "gold in prompt", "EM", "F1", "abstention precision", "abstention recall",
           "answered (answerable)", "citation precision", "citation coverage", "TTFT p50", "TTFT p95", "total p50")
SHORT = {"abstention precision": "abst. P", "abstention recall": "abst. R", "answered (answerable)": "answered",
         "citation precision": "cit. P", "citation coverage": "cit. cov.", "TTFT p50": "TTFT p50 s",
         "TTFT p95": "TTFT p95 s", "total p50": "total p50 s"}


@dataclass
class EvalReport:
    dataset: str
    model: str
    config: EvalConfig
    settings: Settings
    runs: list[RunResult]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "model": self.model, "config": asdict(self.config),
                "settings": {k: getattr(self.settings, k) for k in TUNABLES}, "seconds": self.seconds,
                "runs": [r.to_dict() for r in self.runs]}

    def write_json(self, path: str | Path) -> None:
        """The full report, every question with its answer, citations and timings, as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def read_json(cls, path: str | Path) -> "EvalReport":
        """A report written by ``write_json``, to re-read its answers without asking them again.

        Settings not recorded in the file keep their defaults; fields this version does not
        know are ignored, fields it added since take their defaults."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            config = EvalConfig(**_known(EvalConfig, data["config"]))
            settings = Settings().replace(model=data["model"], **_known(Settings, data["settings"]))
            runs = [RunResult(r["name"], r["documents"], r["chunks"],
                              [QuestionResult(**_known(QuestionResult, q)) for q in r["results"]],
                              [Metric(**_known(Metric, m)) for m in r["metrics"]]) for r in data["runs"]]
            return cls(data["dataset"], data["model"], config, settings, runs, data["seconds"])
        except OSError as exc:
            raise InputError(f"Cannot read the report {path}: {exc.strerror}",
                             "give the path of a file written by `vjassistant eval --json`") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path} is not an evaluation report ({type(exc).__name__}: {exc})",
                             "give a file written by `vjassistant eval --json`") from exc

    def to_markdown(self) -> str:
        return markdown_table(self.runs) + "\n\n" + self.caption()

    def caption(self) -> str:
        c, s = self.config, self.settings
        tuned = ", ".join(f"{k}={getattr(s, k)}" for k in TUNABLES)
        sample = f"{c.limit} questions per run" if c.limit else "every question"
        return (f"{self.dataset}, model {self.model}, split {c.split}, {sample} (seed {c.seed}); {tuned}. "
                "(n) is the number of questions a figure rests on (citations, for citation precision).")


def _known(kind: type, values: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(kind)}
    return {k: v for k, v in values.items() if k in names}


def metric_cell(m: Metric | None) -> str:
    """A table cell: the figure (1 decimal for scores and seconds, 3 for shares) and its (n)."""
    if m is None:
        return ""
    if m.value is None or (isinstance(m.value, float) and math.isnan(m.value)):
        return f"– ({m.n})"
    value = f"{m.value:.1f}" if m.unit in ("%", "s") else f"{m.value:.3f}"
    return f"{value} ({m.n})"


def markdown_table(runs: Sequence[RunResult]) -> str:
    present = [c for c in COLUMNS if any(r.metric(c) for r in runs)]
    header = ["run", "docs", "chunks", "questions"] + [SHORT.get(c, c) for c in present]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for r in runs:
        cells = [r.name, str(r.documents), str(r.chunks), str(len(r.results))]
        cells += [metric_cell(r.metric(c)) for c in present]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
