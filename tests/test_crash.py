"""Ingestion killed with SIGKILL at several moments, for real (a subprocess of the CLI): the store
still opens and answers, and the next ingestion finishes the job with exactly the chunks of a clean
run, none duplicated, none orphaned."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vjassistant import Assistant

pytestmark = pytest.mark.e2e

FILES = 40


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    for i in range(FILES):
        body = " ".join(f"Harbour {i} opened pier {j} in {1800 + 7 * i + j} for the ships of line {j}."
                        for j in range(60))
        (folder / f"harbour {i:02d}.txt").write_text(f"Harbour {i} log\n{body}", encoding="utf-8")
    return folder


def _ingest(store: Path, docs: Path, kill_after: int | None = None) -> int:
    """Run `vjassistant ingest`; with ``kill_after``, SIGKILL it once its bar shows that many files done."""
    proc = subprocess.Popen([sys.executable, "-m", "vjassistant.cli", "--store", str(store), "ingest", str(docs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "120"})
    assert proc.stderr is not None
    if kill_after is None:
        proc.communicate(timeout=600)  # its bar read to the end: a closed pipe would cut the run short
        return proc.returncode
    seen, deadline = b"", time.monotonic() + 600
    while time.monotonic() < deadline:
        piece = os.read(proc.stderr.fileno(), 4096)
        if not piece:
            break
        seen += piece
        done = [int(n) for n in re.findall(rb"Ingesting:.*?\| *(\d+)/\d+", seen)]
        if done and done[-1] >= kill_after:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.stderr.close()
    return proc.wait(timeout=600)


def _chunks(a: Assistant) -> dict[str, set[str]]:
    by_doc: dict[str, set[str]] = {}
    for c in a.store.all_chunks():
        by_doc.setdefault(str(c.meta["doc_id"]), set()).add(c.id)
    return by_doc


def test_ingestion_killed_mid_way_leaves_a_store_that_the_next_run_completes(real_assistant, tmp_path: Path) -> None:
    docs = _corpus(tmp_path / "docs")
    assert _ingest(tmp_path / "clean", docs) == 0
    crashed = tmp_path / "crashed"
    for moment in (3, 17, 31):  # files done when the kill comes
        assert _ingest(crashed, docs, kill_after=moment) == -signal.SIGKILL
        a = Assistant(real_assistant.settings.replace(store_dir=crashed), embedder=real_assistant.embedder,
                      chat_model=real_assistant.chat_model)
        assert a.store.count() > 0  # it opens, with what was written before the kill
        answer = a.ask("When did harbour 2 open pier 5?")
        assert answer.text  # and answers (or declines) as usual
    assert _ingest(crashed, docs) == 0
    settings = real_assistant.settings
    clean = Assistant(settings.replace(store_dir=tmp_path / "clean"), embedder=real_assistant.embedder)
    done = Assistant(settings.replace(store_dir=crashed), embedder=real_assistant.embedder)
    assert _chunks(done) == _chunks(clean)  # the same chunk ids, document by document: no duplicate, no orphan
    assert len(done.documents()) == FILES == len({d.doc_id for d in done.store.document_texts()})
    again = done.ingest([docs])
    assert len(again.unchanged) == FILES and again.chunks == 0
