"""Prompts: the grounded-answer prompt with numbered passages under a token budget, and
the follow-up rewriting prompt.

The system message is fixed text, identical for every question, so a local model's KV
cache for it is reused between questions; everything that varies goes in the user turn.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from .language import language_name
from .retrieval import Passage

NOT_FOUND_SENTINEL = "NOT_FOUND"

SYSTEM = (
    "You answer questions using only the numbered passages the user gives you.\n"
    "Rules:\n"
    "1. Use only facts stated in the passages. Never add outside knowledge.\n"
    "2. End every sentence with the number of the passage it comes from, in square brackets, like [1] or [2].\n"
    "3. Be brief: one to three sentences.\n"
    f"4. If the passages do not contain the answer, reply with exactly {NOT_FOUND_SENTINEL} and nothing else.\n"
    "5. Write the answer in the language the user asks for, even when the passages are in another language."
)

# A worked example in the system prompt was tried and dropped: the 1.5B model then mixed the
# example's facts with the real passages (it answered "May 1" for the 2020 agreement).

REWRITE_SYSTEM = (
    "Rewrite the user's last question as one standalone question that can be understood without "
    "the conversation. Replace pronouns with the names they refer to. Keep its language. "
    "Reply with the question only."
)


def select_passages(passages: Sequence[Passage], budget: int, count: Callable[[str], int]) -> list[Passage]:
    """Passages in rank order while their tokens fit ``budget``; numbers them 1..n."""
    chosen: list[Passage] = []
    used = 0
    for p in passages:
        cost = count(format_passage(p, 0)) + 2
        if used + cost > budget:
            continue
        chosen.append(p)
        used += cost
    for i, p in enumerate(chosen, 1):
        p.number = i
    return chosen


def format_passage(p: Passage, number: int) -> str:
    head = f"[{number}] {p.title}" + (f" ({p.date})" if p.date else "")
    return f"{head}\n{p.text}"


def answer_messages(question: str, passages: Sequence[Passage], language: str) -> list[dict[str, str]]:
    body = "\n\n".join(format_passage(p, p.number) for p in passages)
    user = (f"Passages:\n\n{body}\n\nQuestion: {question}\n\n"
            f"Answer in {language_name(language)}. End every sentence with the number of its passage, like [1].")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def rewrite_messages(question: str, history: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    convo = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in history)
    user = f"Conversation:\n{convo}\n\nLast question: {question}\n\nStandalone question:"
    return [{"role": "system", "content": REWRITE_SYSTEM}, {"role": "user", "content": user}]
