"""Prompts: the grounded-answer prompt with numbered passages under a token budget, and
the follow-up rewriting prompt.

The system message and the worked exchanges after it are fixed text, identical for every
question, so a local model's KV cache for them is reused between questions; everything that
varies goes in the last user turn.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from .citations import MARKER
from .language import language_name
from .retrieval import Passage

NOT_FOUND_SENTINEL = "NOT_FOUND"

SYSTEM = (
    "You answer questions using only the numbered passages the user gives you.\n"
    "Rules:\n"
    "1. Use only facts stated in the passages. Never add outside knowledge.\n"
    "2. Answer as briefly as possible: usually a few words copied from a passage (a name, number, date or short "
    "phrase). Write a sentence only when a few words cannot answer.\n"
    "3. Right after the answer, write the number of the passage it comes from in square brackets, like [2].\n"
    f"4. If no passage answers the question, reply with exactly {NOT_FOUND_SENTINEL}.\n"
    "5. Answer in the language of the question, even when the passages are in another language."
)
# Short answers: XQuAD (30 English dev questions, qwen2.5-coder-1.5b) gave F1 29 with the
# earlier "one to three sentences" prompt, whose answers repeated the question around the fact.
# Rules alone were not enough for the small models (they answered "[1]" alone, cited "(1)",
# or wrote sentences), so three worked exchanges follow (two answers, one NOT_FOUND). They sit
# right after the fixed system message and never change, so with llama.cpp's prompt cache they
# cost prefill time once, not per question. Their facts are invented and far from any real corpus: an example inside the
# system message, tried earlier, made the 1.5B model mix its facts into real answers.
_EXAMPLE_PASSAGES = (
    "[1] Port Elda lighthouse\nThe lighthouse at Port Elda was built in 1887 by the engineer Maria Okafor. "
    "Its lamp can be seen from 30 kilometres away.\n\n"
    "[2] Port Elda market\nThe fish market opens at five in the morning and closes at noon."
)
# A further example answering a Vietnamese question with a translated answer changed nothing
# measurable (XQuAD dev, 30 Vietnamese questions over English passages: F1 21.0 with it, 20.6
# without), so the examples stay short and English. Teaching minimal spans ("noon" for "at noon", an
# added "electric [1]" example, "without repeating words of the question" in rule 2) traded F1 for
# EM: 69.8 vs 70.7 F1, 60.0 vs 56.7 EM (XQuAD English dev, 60 questions, 1.5B); it cut right answers
# short ("18" for "over the age of 18") as often as it trimmed long ones, and declined more.
# Replies that only repeat words of the question ("DECnet [1]" to "What is DECnet"; 17 of 578
# English test answers, 13 of them wrong) were sent back once to the 1.5B model, with the
# exchange so far and a request for the passage's words instead (2026-12-02, XQuAD dev, every
# mode, the 15 such replies of 280 questions). Told that its reply repeated the question, it
# answered NOT_FOUND all 15 times, so the retry was a decline that cost the right echoes (choice
# questions: F1 50.5 -> 47.7 mixed, 53.1 -> 48.1 abstain en) and raised no citation precision
# (the echoes cite the right passage). Asked without the reproach (two wordings), it repeated
# itself, answered NOT_FOUND or gave another wrong phrase ("1756" to "How long did the fighting
# last?"), never a right new answer. Nothing is done with such replies.
_EXAMPLES = (("Who built the lighthouse at Port Elda?", "Maria Okafor [1]"),
             ("When does the fish market close?", "at noon [2]"),
             ("How tall is the lighthouse?", NOT_FOUND_SENTINEL))


def _user_turn(body: str, question: str, language: str) -> str:
    # Written in the question's language instead, this instruction changed nothing measurable
    # (XQuAD dev, 30 Vietnamese questions over English passages: F1 21.0 vs 19.9; the 1.5B
    # model answers most of them in English either way). Asking the question before the passages
    # as well as after them cost F1: 52.8 vs 70.7 (XQuAD English dev, 60 questions, 1.5B), with
    # more NOT_FOUND replies and more answers the citation check refused.
    return (f"Passages:\n\n{body}\n\nQuestion: {question}\n\n"
            f"Answer in {language_name(language)}: the answer in a few words, then its passage number in square "
            "brackets.")


def declines(reply: str) -> bool:
    """Whether the model's reply is itself a decline: the sentinel first, or no words at all
    (empty, or nothing but citation markers)."""
    reply = reply.strip()
    return reply.startswith(NOT_FOUND_SENTINEL) or not MARKER.sub("", reply).strip()


def fixed_messages() -> list[dict[str, str]]:
    """The prefix every answer prompt starts with: system rules and the worked exchanges."""
    messages = [{"role": "system", "content": SYSTEM}]
    for question, reply in _EXAMPLES:
        messages += [{"role": "user", "content": _user_turn(_EXAMPLE_PASSAGES, question, "en")},
                     {"role": "assistant", "content": reply}]
    return messages


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
    return fixed_messages() + [{"role": "user", "content": _user_turn(body, question, language)}]


def rewrite_messages(question: str, history: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    convo = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in history)
    user = f"Conversation:\n{convo}\n\nLast question: {question}\n\nStandalone question:"
    return [{"role": "system", "content": REWRITE_SYSTEM}, {"role": "user", "content": user}]
