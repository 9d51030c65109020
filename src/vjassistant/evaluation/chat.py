"""The conversational set: questions people ask of the bundled corpus, scored by key facts.

``datasets/chat/questions.jsonl`` holds one question per line::

    {"id": "fr-09", "split": "dev", "language": "fr", "kind": "list", "question": "...",
     "history": [["earlier question", "earlier answer"]], "answerable": true,
     "sources": ["000_….txt"], "facts": [["conseil"], ["lien", "connect"]], "needed": 2}

``facts`` are the key facts an answer must state, each a list of accepted variants; ``needed``
how many of them make the answer complete; ``sources`` the files holding the answer (a citation
of any other file is not valid); ``language`` is also the language the answer must be in.
Unanswerable questions (on-topic but not in the documents, or off-topic) must be declined.

A variant matches on word boundaries in the answer with markers removed, both sides without
case, accents or punctuation; it may run on into a longer word ("startup" matches "startups")
unless it ends with a digit ("39" does not match "390").

Scores per question (``ChatResult``) and the figures over a run (``summarize_chat``), each with
its n. What is left out here: the runs' stores (runner.Evaluator builds them) and SQuAD sets.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..answer import Answer
from ..errors import InputError
from ..grounding.citations import MARKER, statements
from ..grounding.support import SUPPORTED, UNVERIFIED
from ..grounding.textnorm import unaccented
from ..language import detect_language
from .metrics import Metric, mean_metric, ratio_metric, time_metrics

CHAT_SET = Path(__file__).resolve().parents[3] / "datasets" / "chat" / "questions.jsonl"
LANGUAGES = ("en", "fr", "vi")
_FIELDS = ("id", "split", "language", "kind", "question", "history", "answerable", "sources", "facts", "needed")


@dataclass(frozen=True)
class ChatQuestion:
    id: str
    language: str
    kind: str
    question: str
    split: str = "dev"
    history: tuple[tuple[str, str], ...] = ()
    answerable: bool = True
    sources: frozenset[str] = frozenset()
    facts: tuple[tuple[str, ...], ...] = ()
    needed: int = 0


def load_chat_set(path: str | Path = CHAT_SET) -> list[ChatQuestion]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"Question set {path} does not exist", "check the path (bundled: chat)")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = ChatQuestion(id=str(row["id"]), language=str(row["language"]), kind=str(row["kind"]),
                             question=str(row["question"]), split=str(row.get("split", "dev")),
                             history=tuple((str(a), str(b)) for a, b in row.get("history", [])),
                             answerable=bool(row.get("answerable", True)),
                             sources=frozenset(map(str, row.get("sources", []))),
                             facts=tuple(tuple(map(str, f)) for f in row.get("facts", [])),
                             needed=int(row.get("needed", len(row.get("facts", [])))))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path.name} line {n} is not a question ({exc})",
                             f"each line is a JSON object with {', '.join(_FIELDS)}") from exc
        if q.answerable and not (q.sources and q.facts and 0 < q.needed <= len(q.facts)):
            raise InputError(f"{path.name} line {n} ({q.id}): an answerable question needs sources, facts and "
                             "0 < needed <= len(facts)", "fix the line")
        out.append(q)
    if not out:
        raise InputError(f"{path.name} holds no questions", "add one JSON object per line")
    return out


def folded(text: str) -> str:
    """Lower case, no accents (đ as d), punctuation as spaces, whitespace collapsed."""
    plain = unaccented(MARKER.sub(" ", text)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def fact_found(variants: Sequence[str], text: str) -> bool:
    hay = folded(text)
    for v in variants:
        needle = folded(v)
        if needle and re.search(rf"(?<!\w){re.escape(needle)}" + (r"(?!\d)" if needle[-1].isdigit() else ""), hay):
            return True
    return False


@dataclass
class ChatResult:
    id: str
    language: str
    kind: str
    cross: bool                # no gold source is in the question's language
    answerable: bool
    question: str
    answer: str = ""
    abstained: bool = False
    reason: str = ""
    mode: str = ""
    facts: list[bool] = field(default_factory=list)
    needed: int = 0
    language_ok: bool | None = None  # answered in the question's language (None: declined)
    sentences: int = 0
    cited_sentences: int = 0         # sentences carrying at least one citation
    valid_sentences: int = 0         # sentences with a valid citation (gold source, supported)
    citations: list[dict[str, Any]] = field(default_factory=list)  # marker, file, gold, verdict, valid
    first_token_s: float | None = None
    total_s: float | None = None
    removed: list[dict[str, Any]] = field(default_factory=list)  # what the steps removed (Answer.removed)
    raw: str = ""                    # the model's own words, to replay the checks on (benchmarks/decline_rules.py)
    confidence: float | None = None  # the model's probability for its reply's first token
    standalone: str = ""             # the question as retrieval searched it (a follow-up rewritten)
    passages: list[dict[str, Any]] = field(default_factory=list)  # what the model was given, with its scores

    @property
    def complete(self) -> bool:
        return sum(self.facts) >= self.needed

    @property
    def correct(self) -> bool:
        """Answered, with the needed key facts, in the question's language; or rightly declined."""
        if not self.answerable:
            return self.abstained
        return not self.abstained and self.complete and bool(self.language_ok)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "correct": self.correct}


def is_cross(q: ChatQuestion, source_languages: dict[str, str]) -> bool:
    """Whether ``q`` is cross-lingual: none of its gold sources is in its language."""
    return q.answerable and q.language not in {source_languages.get(s, "") for s in q.sources}


def score(q: ChatQuestion, answer: Answer, source_languages: dict[str, str], seconds: float) -> ChatResult:
    r = ChatResult(q.id, q.language, q.kind, is_cross(q, source_languages), q.answerable, q.question,
                   answer=answer.text, abstained=answer.abstained, reason=answer.reason, mode=answer.mode,
                   needed=q.needed, first_token_s=answer.timings.get("first_token_s"), total_s=seconds,
                   removed=answer.removed(), raw=answer.raw_text, confidence=answer.confidence,
                   standalone=answer.standalone_question,
                   passages=[asdict(p) for p in answer.passages])
    if answer.abstained:
        return r
    r.facts = [fact_found(f, answer.text) for f in q.facts]
    plain = MARKER.sub("", answer.text)
    r.language_ok = detect_language(plain, default="", among=LANGUAGES) == q.language
    found = statements(answer.text)
    r.sentences = len(found)
    by_statement: dict[str, list[dict[str, Any]]] = {}
    for c in answer.citations:
        gold = c.filename in q.sources
        valid = gold and c.verdict in (SUPPORTED, UNVERIFIED)
        row = {"marker": c.marker, "file": c.filename, "gold": gold, "verdict": c.verdict,
               "score": round(c.score, 3), "valid": valid, "statement": c.statement}
        r.citations.append(row)
        by_statement.setdefault(c.statement, []).append(row)
    for st in found:
        cites = by_statement.get(st.text, [])
        r.cited_sentences += bool(st.numbers)
        r.valid_sentences += any(c["valid"] for c in cites)
    return r


def ask_all(assistant: Any, questions: Sequence[ChatQuestion], source_languages: dict[str, str],
            progress: bool = False) -> list[ChatResult]:
    from tqdm import tqdm

    out = []
    for q in tqdm(questions, desc="questions", unit="q", disable=not progress, leave=False):
        t0 = time.perf_counter()
        answer = assistant.ask(q.question, list(q.history))
        out.append(score(q, answer, source_languages, time.perf_counter() - t0))
    return out


def summarize_chat(results: Sequence[ChatResult]) -> list[Metric]:
    """Every figure of one run, each with the number of questions (sentences, citations) it rests on."""
    answerable = [r for r in results if r.answerable]
    metrics = [ratio_metric("correct", sum(r.correct for r in results), len(results))]
    for lang in LANGUAGES:
        group = [r for r in results if r.language == lang]
        metrics.append(ratio_metric(f"correct {lang}", sum(r.correct for r in group), len(group)))
    cross = [r for r in results if r.cross]
    metrics.append(ratio_metric("correct cross-lingual", sum(r.correct for r in cross), len(cross)))
    answered = [r for r in answerable if not r.abstained]
    metrics.append(ratio_metric("answered (answerable)", len(answered), len(answerable)))
    metrics.append(mean_metric("key-fact recall", [sum(r.facts) / len(r.facts) if r.facts else 0.0
                                                   for r in answerable]))
    cites = [c for r in results if not r.abstained for c in r.citations]
    metrics.append(ratio_metric("citation precision", sum(c["valid"] for c in cites), len(cites)))
    said = [r for r in results if not r.abstained]
    sentences = sum(r.sentences for r in said)
    metrics.append(ratio_metric("citation recall", sum(r.valid_sentences for r in said), sentences))
    metrics.append(ratio_metric("sentences cited", sum(r.cited_sentences for r in said), sentences))
    metrics.append(ratio_metric("language match", sum(bool(r.language_ok) for r in said), len(said)))
    unanswerable = [r for r in results if not r.answerable]
    declined = [r for r in results if r.abstained]
    right = sum(1 for r in unanswerable if r.abstained)
    metrics += [ratio_metric("abstention precision", right, len(declined)),
                ratio_metric("abstention recall", right, len(unanswerable))]
    metrics += time_metrics("TTFT", [r.first_token_s for r in results if r.first_token_s is not None])
    metrics += time_metrics("total", [r.total_s for r in results if r.total_s is not None])
    return metrics


def by_kind(results: Sequence[ChatResult]) -> dict[str, Metric]:
    kinds = sorted({r.kind for r in results})
    return {k: ratio_metric(k, sum(r.correct for r in results if r.kind == k), sum(r.kind == k for r in results))
            for k in kinds}
