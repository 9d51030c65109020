"""Handing the heap memory an answer freed back to the operating system.

An answer allocates and frees tens of MB natively (llama.cpp's logits, the embedder's buffers,
Chroma's reads) from several threads. glibc keeps much of what was freed in its per-thread
arenas, so a long-running server's RSS crept up question after question; ``malloc_trim(0)``
after each answer returns it (docs/decisions.md#load). Elsewhere (musl, macOS) this is a no-op.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> bool:
    """Return freed heap pages to the OS; False where the C library cannot (not glibc)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
