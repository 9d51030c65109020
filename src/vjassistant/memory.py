"""Handing the heap memory an answer freed back to the operating system.

An answer allocates and frees tens of MB natively (llama.cpp's logits, the embedder's buffers,
Chroma's reads) from several threads. glibc keeps much of what was freed in its per-thread
arenas, so a long-running server's RSS crept up question after question; ``malloc_trim(0)``
after each answer returns it (docs/decisions.md#load). Elsewhere (musl, macOS) this is a no-op.
"""
from __future__ import annotations

import ctypes
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim`` from the symbols already loaded, or None (musl, macOS)."""
    return getattr(ctypes.CDLL(None), "malloc_trim", None)


def release_freed_memory() -> bool:
    """Return freed heap pages to the OS; False where the C library cannot (not glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
