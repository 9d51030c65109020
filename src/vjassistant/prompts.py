"""Prompts: the whole-collection prompt (the documents, numbered, as a fixed prefix), the
retrieval prompt with numbered passages under a token budget, and the follow-up rewriting prompt.

The system message and the worked exchanges after it are fixed text, identical for every
question, so a local model's KV cache for them is reused between questions; everything that
varies goes in the last user turn.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from .answer import Passage
from .grounding.citations import MARKER
from .language import language_name

NOT_FOUND_SENTINEL = "NOT_FOUND"

SYSTEM = (
    "You answer questions using only the numbered passages the user gives you.\n"
    "Rules:\n"
    "1. Use only facts stated in the passages. Never add outside knowledge.\n"
    "2. Answer in one to five full sentences, or a short list. When the question asks for one fact, the first "
    "sentence states it directly.\n"
    "3. End every sentence with the number of the passage it comes from in square brackets, like [2].\n"
    f"4. If no passage answers the question, reply with exactly {NOT_FOUND_SENTINEL}.\n"
    "5. Answer in the language of the question, even when the passages are in another language."
)
# Worked exchanges after the system message: rules alone were not enough for the small models
# (they answered "[1]" alone or cited "(1)"). They never change, so llama.cpp's prompt cache
# reads them once. Their facts are invented and far from any real corpus: an example inside the
# system message made the 1.5B model mix its facts into real answers (docs/decisions.md#prompts).
_EXAMPLE_PASSAGES = (
    "[1] Port Elda lighthouse\nThe lighthouse at Port Elda was built in 1887 by the engineer Maria Okafor. "
    "Its lamp can be seen from 30 kilometres away.\n\n"
    "[2] Port Elda market\nThe fish market opens at five in the morning and closes at noon."
)
_EXAMPLES = (("Who built the lighthouse at Port Elda?", "The lighthouse at Port Elda was built by Maria Okafor [1]."),
             ("When does the fish market close?", "The fish market closes at noon [2]."),
             ("How tall is the lighthouse?", NOT_FOUND_SENTINEL))


def _user_turn(body: str, question: str, language: str) -> str:
    return (f"Passages:\n\n{body}\n\nQuestion: {question}\n\n"
            f"Answer in {language_name(language)}, in full sentences, each ending with its passage number in square "
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


# Bump when the collection prompt's wording changes: a saved llama.cpp state is keyed by it.
COLLECTION_PROMPT_VERSION = "collection-2"

COLLECTION_INTRO = "You answer questions using only the numbered documents below."
# The rules come after the documents, right before the question: read before 3,000 tokens of
# documents they were mostly forgotten (see docs/decisions.md#collection-prompt).
COLLECTION_RULES = (
    "Rules for every answer:\n"
    "1. Use only facts stated in the documents above. Never add outside knowledge.\n"
    "2. Answer in one to five full sentences, or a short list. When the question asks for one fact, the first "
    "sentence states it directly, as a whole sentence, not a bare name or number.\n"
    "3. End every sentence with the number of the document it comes from in square brackets, like [2].\n"
    f"4. If the documents do not answer the question, reply with exactly {NOT_FOUND_SENTINEL}.\n"
    "5. Write in the language of the question (English, French or Vietnamese), even when the documents are in "
    "another language.\n"
    "Example: to \"Who opened the office?\" answer \"The office was opened by Maria Okafor in 2019 [2].\""
)


def format_document(p: Passage) -> str:
    details = ", ".join(x for x in (p.date, language_name(p.language) if p.language else "") if x)
    return f"[{p.number}] {p.title}" + (f" ({details})" if details else "") + f"\n{p.text.strip()}"


def collection_prefix(documents: Sequence[Passage]) -> list[dict[str, str]]:
    """The fixed start of every whole-collection prompt: the rules, then every document numbered."""
    body = "\n\n".join(format_document(p) for p in documents)
    return [{"role": "system", "content": f"{COLLECTION_INTRO}\n\nDocuments:\n\n{body}\n\n{COLLECTION_RULES}"}]


def collection_messages(prefix: Sequence[dict[str, str]], question: str, history: Sequence[tuple[str, str]],
                        language: str) -> list[dict[str, str]]:
    """The prefix, the conversation so far as turns, then the question (the only part that varies)."""
    turns = [m for q, a in history for m in ({"role": "user", "content": q}, {"role": "assistant", "content": a})]
    return [*prefix, *turns, {"role": "user", "content": question}]


# Asked in the answer's own language: asked in English, the 1.5B model wrote English again.
RESTATE = {
    "en": "Write that answer again in English, as full sentences, not a bare name or number. "
          "End every sentence with its {unit} number in square brackets.",
    "fr": "Réécris cette réponse en français, en phrases complètes, pas seulement un nom ou un nombre. "
          "Termine chaque phrase par le numéro de son {unit} entre crochets.",
    "vi": "Hãy viết lại câu trả lời đó bằng tiếng Việt, thành câu đầy đủ, không chỉ một tên hay một con số. "
          "Kết thúc mỗi câu bằng số {unit} trong ngoặc vuông.",
}
UNITS = {"en": ("document", "passage"), "fr": ("document", "passage"), "vi": ("tài liệu", "đoạn văn")}


def restate_messages(messages: Sequence[dict[str, str]], reply: str, language: str, documents: bool
                     ) -> list[dict[str, str]]:
    """The conversation that gave ``reply``, then one more turn asking for it again as full sentences in
    ``language`` (English for a language we have no wording in); markers name documents or passages."""
    code = language if language in RESTATE else "en"
    ask = RESTATE[code].format(unit=UNITS[code][0 if documents else 1])
    if code != language:
        ask = ask.replace("in English", f"in {language_name(language)}")
    return [*messages, {"role": "assistant", "content": reply}, {"role": "user", "content": ask}]


def query_translation_messages(question: str, language: str) -> list[dict[str, str]]:
    """A prompt of its own: the question into ``language``, for retrieval across languages."""
    rule = (f"Translate the user's question into {language_name(language)}. Keep names and numbers as they are. "
            "Reply with the translated question only.")
    return [{"role": "system", "content": rule}, {"role": "user", "content": question}]


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
