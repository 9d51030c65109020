"""The scale-out engines, for real: a Chroma server (`chroma run`) instead of the embedded
store, and llama-cpp-python's OpenAI-compatible server instead of the in-process model."""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from vjassistant import Assistant, LLMServerError, Settings
from vjassistant.llm import OpenAICompatibleModel

from .conftest import free_port, model_file

pytestmark = pytest.mark.e2e


def start(cmd: list[str], url: str, timeout: float = 120.0) -> subprocess.Popen:
    # Logs go to a file: an unread pipe fills up and blocks a chatty server.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    proc.log = log  # type: ignore[attr-defined]  # what the server printed, for tests that read it
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{cmd[0]} exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            httpx.get(url, timeout=2)
            return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"{cmd} did not answer on {url} within {timeout}s")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = start([str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma")), "--host", "127.0.0.1",
                  "--port", str(port)], f"http://127.0.0.1:{port}/api/v2/heartbeat")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def llm_server():
    port = free_port()
    proc = start([sys.executable, "-m", "llama_cpp.server", "--model", str(model_file()), "--host", "127.0.0.1",
                  "--port", str(port), "--n_ctx", "2048"], f"http://127.0.0.1:{port}/v1/models")
    yield f"http://127.0.0.1:{port}", proc
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def llm_url(llm_server):
    return llm_server[0]


def server_log(proc: subprocess.Popen) -> str:
    proc.log.seek(0)  # type: ignore[attr-defined]
    return proc.log.read().decode(errors="replace")  # type: ignore[attr-defined]


def test_the_llm_server_caches_the_whole_collection_prompt(llm_server, real_assistant, tmp_path):
    """Whole-collection mode behind --llm-url: every prompt starts with the same documents, so
    llama-cpp-python's server reads them once and then only each question (its log says how many
    prompt tokens it reused); vLLM and llama.cpp's server cache a shared prefix the same way."""
    url, proc = llm_server
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bridge.txt").write_text("Harbour report\nThe harbour bridge opened in 1932 after eight years of work. "
                                     "Its engineer was Maria Okafor.", encoding="utf-8")
    (docs / "market.txt").write_text("Market report\nThe fish market opens at five and closes at noon.",
                                     encoding="utf-8")
    a = Assistant(Settings.from_env(store_dir=tmp_path / "store", llm_url=url, n_ctx=2048, max_tokens=16,
                                    temperature=0.0), embedder=real_assistant.embedder)
    a.ingest([docs])
    assert a.prepare().how == "server"
    first = a.ask("When did the harbour bridge open?")
    seen = len(server_log(proc))
    second = a.ask("When does the fish market close?")
    assert first.mode == second.mode == "collection"
    hits = re.findall(r"(\d+) prefix-match hit, remaining (\d+) prompt tokens", server_log(proc)[seen:])
    assert hits, server_log(proc)[seen:][-2000:]
    reused, fresh = map(int, hits[0])
    documents = sum(a.chat_model.count_tokens(m["content"]) for m in a.collection().messages)
    assert reused > documents * 0.8 and fresh < reused / 3, (reused, fresh, documents)


def test_chroma_server_store(chroma_url, tmp_path):
    doc = tmp_path / "office.txt"
    doc.write_text("The JETRO office in Hanoi opened in 1993 and supports Japanese investors.", encoding="utf-8")
    a = Assistant(Settings.from_env(chroma_url=chroma_url, collection="server-test"))
    assert len(a.ingest([doc]).added) == 1
    assert len(a.ingest([doc]).unchanged) == 1
    hits = a.retrieve("When did the JETRO office open?", k=1)
    assert hits and hits[0].filename == "office.txt"
    assert a.info()["store"] == chroma_url


def test_openai_compatible_llm_server(llm_url, real_assistant):
    a = Assistant(real_assistant.settings.replace(llm_url=llm_url, n_ctx=2048), embedder=real_assistant.embedder,
                  store=real_assistant.store)
    assert a.collection() is None  # the bundled corpus does not fit the server's 2,048 tokens
    response = a.stream("When was the cooperation agreement between NIC and JETRO signed?")
    pieces = list(response)
    answer = response.answer
    assert answer.model == "server" and answer.mode == "retrieval"
    assert answer.abstained or answer.citations
    assert len(pieces) > 1 or answer.abstained


def test_the_llm_server_reports_the_confidence_the_local_model_does(llm_url, real_assistant):
    """Answer.confidence through the server (its streamed log-probabilities) agrees with the same
    GGUF in-process (llama.cpp's logits), greedy on the same messages."""
    messages = [{"role": "user", "content": "What is the capital of Vietnam? Answer in one word."}]
    server, local = OpenAICompatibleModel(llm_url), real_assistant.chat_model
    said = "".join(server.stream(messages, max_tokens=8, temperature=0.0))
    assert said.split()[0] == "".join(local.stream(messages, max_tokens=8, temperature=0.0)).split()[0]
    assert server.confidence is not None and 0 < server.confidence <= 1 and local.confidence is not None
    assert abs(server.confidence - local.confidence) < 0.05, (server.confidence, local.confidence)


def test_unreachable_llm_server_is_a_clear_error():
    model = OpenAICompatibleModel(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(LLMServerError) as err:
        list(model.stream([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0))
    assert "VJA_LLM_URL" in err.value.hint
