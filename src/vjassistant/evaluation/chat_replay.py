"""Replaying recorded answers of the conversational set through the checks, with other settings.

A run of ``evaluate_chat`` records each answer's raw model text, its confidence and the passages
(or whole documents) the model was given. ``replay`` rebuilds each Answer from that record and
runs today's steps (steps.check_steps) under the settings given, without generating again; in
retrieval mode the relevance gate is judged again on the recorded passages (no step asks the
model). The figures a replay gives are those the same answers would have scored: a setting
that changes the prompt or the passages cannot be replayed (run the set again).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..answer import Answer, Passage
from ..assistant import Assistant
from ..config import Settings
from ..documents import bundled_corpus, load_document
from ..embeddings import Embedder
from ..language import NOT_FOUND, detect_language, say
from ..retrieval import RelevanceRule
from ..steps import StepContext, check_steps, run_steps
from .chat import ChatQuestion, ChatResult, load_chat_set, score


def recorded(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def replay(run: dict[str, Any], settings: Settings, *, embedder: Embedder | None = None,
           questions: Sequence[ChatQuestion] | None = None, files: Sequence[Path] = ()) -> list[ChatResult]:
    """The results one recorded run (a "runs" entry of a ChatReport JSON) would give under ``settings``."""
    by_id = {q.id: q for q in (questions or load_chat_set())}
    files = list(files) or bundled_corpus()
    languages = {load_document(f).filename: load_document(f).language for f in files}
    helper = Assistant(settings, embedder=embedder)
    gate = RelevanceRule(settings.min_similarity, settings.min_margin, settings.min_similarity_cross)
    known = {f.name for f in fields(Passage)}
    out = []
    for r in run["results"]:
        q = by_id[r["id"]]
        passages = [Passage(**{k: v for k, v in p.items() if k in known}) for p in r.get("passages", [])]
        answer = Answer(question=q.question, text="", language=detect_language(q.question),
                        standalone_question=r.get("standalone") or q.question, mode=r["mode"], passages=passages,
                        raw_text=r.get("raw", ""), confidence=r.get("confidence"))
        relevant, why = (True, "") if r["mode"] != "retrieval" else gate.judge(passages, answer.language)
        if not passages or (not r.get("raw") and r.get("abstained")) or not relevant:
            answer.abstained, answer.text = True, say(NOT_FOUND, answer.language)
            answer.reason = r.get("reason", "") if relevant else why
        else:
            ctx = StepContext(settings, helper.checker)
            declined = run_steps(check_steps(settings), answer, ctx)
            if declined is not None:
                answer.abstained, answer.reason = True, declined.declined
                answer.text, answer.citations = say(NOT_FOUND, answer.language), []
        result = score(q, answer, languages, r.get("total_s") or 0.0)
        result.first_token_s = r.get("first_token_s")
        out.append(result)
    return out
