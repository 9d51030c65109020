"""Helpers shared by the benchmark scripts: presets, medians, markdown tables, README sections."""
from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from pathlib import Path

from vjassistant.models import PRESETS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS_DIR = ROOT / "docs"

QUESTIONS = [
    "When was the cooperation agreement between NIC and JETRO signed?",
    "Qui a signé le protocole d'accord sur l'innovation le 1er mai ?",
    "JETRO được thành lập năm nào?",
    "What did Kishida say about cooperation possibilities between Japan and Vietnam?",
]


def installed_presets(names: str, models_dir: Path) -> list[str]:
    """A --presets value (comma-separated; empty: every preset; 'none': none) -> those whose
    model file is in ``models_dir``, in preset order."""
    wanted = [n for n in names.split(",") if n and n != "none"] if names else list(PRESETS)
    unknown = [n for n in wanted if n not in PRESETS]
    if unknown:
        raise SystemExit(f"unknown preset {', '.join(unknown)}: choose from {', '.join(PRESETS)}")
    return [n for n in wanted if (models_dir / PRESETS[n].filename).is_file()]


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def update_readme(section: str, body: str) -> None:
    """Replace the text between <!-- bench:SECTION --> and <!-- /bench:SECTION --> in every
    document that carries those markers (README.md and docs/*.md)."""
    pattern = re.compile(rf"(<!-- bench:{section} -->\n).*?(<!-- /bench:{section} -->)", re.S)
    found = False
    for doc in [README, *sorted(DOCS_DIR.glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        if pattern.search(text):
            found = True
            doc.write_text(pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text),
                           encoding="utf-8")
    if not found:
        raise SystemExit(f"no document has <!-- bench:{section} --> markers (README.md, docs/*.md)")


def chat_questions(n: int, split: str = "dev") -> list[str]:
    """The first ``n`` answerable questions without history of the conversational set's ``split``."""
    from vjassistant.evaluation.chat import load_chat_set

    return [q.question for q in load_chat_set() if q.split == split and q.answerable and not q.history][:n]


def publish(section: str, body: str, update: bool) -> None:
    """Print a benchmark's table and, with ``update``, write it into the documents that show it."""
    print(body, flush=True)
    if update:
        update_readme(section, body)
