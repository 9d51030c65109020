"""Fakes for testing code built on vjassistant: an instant embedder and a scripted chat model.

They implement the public protocols (``Embedder``, ``ChatModel``), so an ``Assistant`` built on
them runs the real store, retrieval and citation checking without loading a model::

    from vjassistant import Assistant
    from vjassistant.testing import FakeEmbedder, ScriptedModel
    a = Assistant(store_dir=tmp, embedder=FakeEmbedder(), chat_model=ScriptedModel("Hanoi [1]."))

They say nothing about answer quality: end-to-end tests use the real embedder and a real model.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence

import numpy as np

from .llm import Message

__all__ = ["FakeEmbedder", "ScriptedModel"]


class FakeEmbedder:
    """Bag-of-words hashing embedder: deterministic, instant, similar texts get similar vectors."""

    name = "fake-bow"
    dim = 64

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in re.findall(r"\w+", text.casefold()):
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


class ScriptedModel:
    """A chat model that replies with fixed text, streamed a few characters at a time: ``reply`` first,
    then each of ``then`` in turn (the last one again once they run out). ``calls`` keeps the
    messages of every call."""

    name = "scripted"
    n_ctx = 4096

    def __init__(self, reply: str = "", then: Sequence[str] = ()) -> None:
        self.reply = reply
        self.then = list(then)
        self.calls: list[list[Message]] = []

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               stop: Sequence[str] = ()) -> Iterator[str]:
        replies = [self.reply, *self.then]
        text = replies[min(len(self.calls), len(replies) - 1)]
        self.calls.append(list(messages))
        for i in range(0, len(text), 3):
            yield text[i:i + 3]

    def count_tokens(self, text: str) -> int:
        return len(text.split())
