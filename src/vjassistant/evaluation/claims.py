"""A hand-written labelled set of claims about the bundled corpus, for the citation checker.

``datasets/chat/claims.jsonl``: each line a statement, the corpus file it is checked against, its
language, whether that file supports it, its ``kind`` and, for the question-aware kinds, the
question it answers. Kinds: ``copy`` and ``paraphrase`` (supported), ``cross`` (supported, another
language than the file's), and the contradictions a checker must refute while most words match:
``negation``, ``antonym``, ``quantity`` ("millions" for "thousands"), ``number``, ``name``, their
``cross_*`` versions, ``cross_added`` (a claim added in translation), and ``question`` (a bare
answer whose name is in the file but does not answer the question, or one that does). The set was
written while the contradiction cues (grounding/polarity.py) were built: its figures show what the cues
catch, not how they generalise; the XQuAD set (support_set.py) measures the rest.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CLAIMS = Path(__file__).resolve().parents[3] / "datasets" / "chat" / "claims.jsonl"


@dataclass(frozen=True)
class Claim:
    id: str
    kind: str
    language: str
    source: str
    statement: str
    supported: bool
    question: str = ""


def load_claims(path: Path = CLAIMS) -> list[Claim]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Claim(r["id"], r["kind"], r["language"], r["source"], r["statement"], bool(r["supported"]),
                  r.get("question", "")) for r in rows]
