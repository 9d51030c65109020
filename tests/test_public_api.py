"""The public surface: what ``import vjassistant`` offers, the protocols a user implements, the
shipped fakes, and the context errors carry."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import vjassistant
from vjassistant import ChatModel, DocumentError, Embedder, ModelError, StoreError
from vjassistant.documents import load_document
from vjassistant.models import resolve_model
from vjassistant.testing import FakeEmbedder, ScriptedModel


def test_everything_exported_is_importable_and_documented():
    for name in vjassistant.__all__:
        assert getattr(vjassistant, name).__doc__, name


def test_the_shipped_fakes_satisfy_the_protocols_a_user_implements():
    assert isinstance(FakeEmbedder(), Embedder)
    assert isinstance(ScriptedModel("x"), ChatModel)
    assert "".join(ScriptedModel("Hanoi [1].").stream([], max_tokens=9, temperature=0)) == "Hanoi [1]."


def test_importing_the_package_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = "import os, vjassistant; print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
    # the constructor that loads an OpenMP runtime sets it first
    code = ("import os; from vjassistant.embeddings import E5Embedder; E5Embedder(); "
            "print(os.environ['OMP_WAIT_POLICY'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"


def test_errors_carry_the_thing_they_are_about(tmp_path: Path):
    odd = tmp_path / "notes.xyz"
    odd.write_text("text")
    with pytest.raises(DocumentError) as caught:
        load_document(odd)
    assert caught.value.path == odd and caught.value.hint
    with pytest.raises(ModelError) as missing:
        resolve_model(str(tmp_path / "absent.gguf"), tmp_path)
    assert missing.value.path == tmp_path / "absent.gguf"
    assert StoreError("x", location="http://127.0.0.1:9").location == "http://127.0.0.1:9"


def test_settings_come_in_groups_and_keep_their_flat_names(monkeypatch):
    from vjassistant import Settings
    from vjassistant.config import GROUPS

    monkeypatch.setenv("VJA_TOP_K", "5")
    s = Settings.from_env(temperature=0.2)
    assert s.group("retrieval")["top_k"] == 5 and s.group("answer")["temperature"] == 0.2
    assert sum(len(s.group(g)) for g in GROUPS) == len(vars(s))  # every field is in exactly one group


def test_the_config_command_shows_the_settings_in_effect_and_hides_secrets(monkeypatch, capsys):
    from vjassistant.cli import main

    monkeypatch.setenv("VJA_LLM_API_KEY", "sk-secret")
    monkeypatch.setenv("VJA_TOP_K", "5")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "[retrieval]" in out and "  top_k = 5" in out and "llm_api_key = (set)" in out
    assert "sk-secret" not in out


def test_every_answer_hands_its_freed_memory_back(fake_assistant, monkeypatch, tmp_path: Path):
    """After each answer, declined or not, freed heap goes back to the OS (memory.py; on glibc)."""
    from vjassistant import assistant as assistant_module
    from vjassistant.memory import release_freed_memory

    assert release_freed_memory()  # glibc here, as on every Debian machine the app runs on
    calls: list[int] = []
    monkeypatch.setattr(assistant_module, "release_freed_memory", lambda: calls.append(1) or True)
    a = fake_assistant("Hanoi is the capital of Vietnam [1].")
    a.ask("What is the capital?")  # an empty store: declined before any model runs
    (tmp_path / "h.txt").write_text("Hanoi is the capital of Vietnam.", encoding="utf-8")
    a.ingest([tmp_path / "h.txt"])
    assert a.ask("What is the capital of Vietnam?").text
    assert calls == [1, 1]


_ARENAS = """
import ctypes, os, sys, tempfile, threading
from vjassistant.memory import limit_arenas
capped = limit_arenas(2) if sys.argv[1] == "cap" else None
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
libc.fopen.restype, libc.fclose.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
together = threading.Barrier(8)
def work():
    block = libc.malloc(4096)
    together.wait()  # eight threads holding memory at once: each takes an arena, up to the cap
    libc.free(block)
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
path = tempfile.mktemp()
out = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
with open(path) as info:
    print(capped, info.read().count("<heap nr="))
os.unlink(path)
"""


@pytest.mark.parametrize(("how", "env", "capped", "arenas"), [("free", {}, "None", range(3, 10)),
                                                                ("cap", {}, "True", [2]),
                                                                ("cap", {"MALLOC_ARENA_MAX": "3"}, "False", [3])])
def test_a_server_keeps_two_malloc_arenas_unless_the_user_set_it(how: str, env: dict[str, str], capped: str,
                                                                 arenas: range | list[int]) -> None:
    """limit_arenas (called by ui.launch) caps glibc's arenas, counted by malloc_info, for the threads
    made after it; a MALLOC_ARENA_MAX the user set is left to rule (docs/decisions.md#load)."""
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", _ARENAS, how], env={**base, **env}, capture_output=True,
                         text=True, check=True, timeout=60).stdout.split()
    assert out[0] == capped and int(out[1]) in arenas  # uncapped: one per thread, as many as glibc allows
