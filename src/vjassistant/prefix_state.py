"""The llama.cpp state of a fixed prompt prefix, saved to disk and restored at start-up.

Reading the bundled corpus into the 1.5B model takes minutes on 2 cores; restoring the saved
state takes well under a second. A state file is named by its key: a digest of the model
file's hash, the llama-cpp-python version, the context size and the prefix's exact tokens (so
the documents, the prompt's wording and every setting that shapes the prompt are in it). A
state is only ever restored for the very tokens it was computed from; anything else, a
changed document included, misses and is rebuilt.

Each ``<key>.state`` (llama.cpp's own session format, holding the tokens too) has a
``<key>.json`` beside it with its size and BLAKE2b digest, checked before loading: a truncated
or corrupt file is reported as such and rebuilt, never loaded. Both are written to a temporary
name and moved into place, so a crash leaves no half-written state under a real name.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_BLOCK = 1 << 22


@dataclass(frozen=True)
class StateFile:
    folder: Path
    key: str

    @property
    def path(self) -> Path:
        return self.folder / f"{self.key}.state"

    @property
    def meta(self) -> Path:
        return self.folder / f"{self.key}.json"


def state_key(model_id: str, runtime: str, n_ctx: int, tokens: Sequence[int]) -> str:
    h = hashlib.sha256(f"{model_id}\n{runtime}\n{n_ctx}\n".encode())
    h.update(",".join(map(str, tokens)).encode())
    return f"{model_id[:12]}-{h.hexdigest()[:32]}"


def digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=20)
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def problem(state: StateFile) -> str:
    """Why the saved state cannot be used ("" when it can; "missing" when there is none)."""
    if not state.path.is_file() or not state.meta.is_file():
        return "missing"
    try:
        meta = json.loads(state.meta.read_text(encoding="utf-8"))
        size, expected = int(meta["size"]), str(meta["blake2b"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"its description {state.meta.name} is unreadable"
    actual = state.path.stat().st_size
    if actual != size:
        return f"it is truncated or altered ({actual} bytes, {size} expected)"
    if digest(state.path) != expected:
        return "its checksum does not match (the file is corrupt)"
    return ""


def finish(state: StateFile, written: Path, tokens: int, extra: dict[str, object]) -> None:
    """Move a freshly written state file into place with its description, then drop the older
    states of the same model in that folder (a state is only ever valid for one collection)."""
    meta = {"size": written.stat().st_size, "blake2b": digest(written), "tokens": tokens, **extra}
    tmp_meta = state.meta.with_suffix(".json.tmp")
    tmp_meta.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    os.replace(written, state.path)
    os.replace(tmp_meta, state.meta)
    prefix = state.key.split("-", 1)[0] + "-"
    for old in state.folder.glob(f"{prefix}*"):
        if not old.name.startswith(state.key):
            old.unlink(missing_ok=True)


def discard(state: StateFile) -> None:
    state.path.unlink(missing_ok=True)
    state.meta.unlink(missing_ok=True)
