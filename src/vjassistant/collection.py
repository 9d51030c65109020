"""Whole-collection answering: when the stored documents fit a token budget, they themselves,
numbered, are the fixed start of every prompt.

The model then reads whole documents rather than a few retrieved cuts (lists, reasons and
summaries are complete), and the start of the prompt is the same for every question, so its
llama.cpp state is computed once and kept on disk (llm.LlamaCppModel.prepare); a server
(llama.cpp's, vLLM) caches the same prefix itself. ``Collection`` is what one store revision
gives: the documents as numbered passages, the prefix messages, and a digest of them. Deciding
the mode and building the prompt live here; the state file and the model call do not.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from .answer import Passage
from .llm import ChatModel, Message
from .prompts import collection_prefix
from .store import ChunkStore, StoredDocument

# Tokens left after the collection for the conversation so far, the question and the answer's
# own text are reserved out of the model's context (see ``fits``).
QUESTION_ROOM = 640


@dataclass(frozen=True)
class Collection:
    """The stored documents as one prompt start, at one store revision."""

    revision: int
    documents: tuple[Passage, ...]  # one per document, its whole text, numbered 1..n in prompt order
    messages: tuple[Message, ...]   # the fixed prefix: the rules and the numbered documents
    digest: str                     # sha256 of the prefix messages: changes with any document or rule

    def tokens(self, model: ChatModel) -> int:
        return sum(model.count_tokens(m["content"]) for m in self.messages)


def document_passages(stored: Sequence[StoredDocument]) -> list[Passage]:
    """Each stored document as one passage spanning its whole text, numbered in order."""
    out = []
    for i, d in enumerate(stored, 1):
        m = d.meta
        out.append(Passage(chunk_id=f"{d.doc_id}:all", doc_id=d.doc_id, source=str(m.get("source", "")),
                           filename=str(m.get("filename", "")), title=str(m.get("title", "")),
                           date=str(m.get("date", "")), language=str(m.get("language", "")), start=0,
                           end=len(d.text), text=d.text, number=i))
    return out


def load_collection(store: ChunkStore) -> Collection:
    """The collection as the store holds it now."""
    revision = store.revision
    documents = tuple(document_passages(store.document_texts()))
    messages = tuple(collection_prefix(documents))
    digest = hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode("utf-8")).hexdigest()
    return Collection(revision, documents, messages, digest)


def fits(collection: Collection, model: ChatModel, budget: int, max_tokens: int) -> bool:
    """Whether the collection is within ``budget`` tokens and, with room for a question and its
    answer, within the model's context (unknown for a server: the budget alone decides)."""
    if not collection.documents or budget <= 0:
        return False
    tokens = collection.tokens(model)
    return tokens <= budget and (not model.n_ctx or tokens + max_tokens + QUESTION_ROOM <= model.n_ctx)
