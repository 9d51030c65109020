"""Handing the heap memory an answer freed back to the operating system.

An answer allocates and frees tens of MB natively (llama.cpp's logits, the embedder's buffers,
Chroma's reads) from several threads. glibc keeps much of what was freed in its per-thread
arenas, so a long-running server's RSS crept up question after question; ``malloc_trim(0)``
after each answer returns most of it. A server also caps glibc at two arenas (``limit_arenas``):
each request thread otherwise took an arena of its own, and with the trim alone the server's RSS
still crept up (docs/decisions.md#load). Elsewhere (musl, macOS) both are no-ops.
"""
from __future__ import annotations

import ctypes
import os
from functools import lru_cache
from typing import Any

_M_ARENA_MAX = -8  # glibc's malloc.h


@lru_cache(maxsize=2)
def _libc(name: str) -> Any:
    """A glibc function from the symbols already loaded, or None (musl, macOS)."""
    return getattr(ctypes.CDLL(None), name, None)


def release_freed_memory() -> bool:
    """Return freed heap pages to the OS; False where the C library cannot (not glibc)."""
    trim = _libc("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True


def limit_arenas(count: int = 2) -> bool:
    """Let glibc keep at most ``count`` malloc arenas. Call it before the process starts threads:
    glibc fixes its limit for good once it has made eight arenas (``vjassistant serve`` had, by the
    time the UI was launched). A MALLOC_ARENA_MAX the user set wins; False where nothing was
    changed (set by the user, or not glibc)."""
    mallopt = _libc("mallopt")
    if mallopt is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(mallopt(_M_ARENA_MAX, count))
