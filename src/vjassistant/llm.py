"""Chat models: the ChatModel protocol, local llama.cpp, and any OpenAI-compatible server.

Both stream text pieces from a list of chat messages. The local model applies the chat
template stored in the GGUF file, and llama-cpp-python keeps the KV cache of the last
prompt, so a second question that shares the fixed prefix skips re-reading it; ``prepare``
evaluates such a prefix once and keeps its state on disk (prefix_state.py). A server caches
shared prefixes itself. Nothing here decides what to ask: prompts.py builds the messages.
"""
from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from . import prefix_state
from .errors import LLMServerError, ModelError
from .openmp import passive_wait

log = logging.getLogger("vjassistant")

Message = dict[str, str]


@runtime_checkable
class ChatModel(Protocol):
    """Streams a reply. A model that can also sets ``confidence`` once a stream ends, as seen by the
    thread that read it: the probability it gave the reply's first token (how sure it was of how
    to begin), None when unknown; the assistant reads it with ``getattr`` (custom models may leave
    it out)."""

    name: str
    n_ctx: int  # context window in tokens; 0 when unknown (a server)

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               stop: Sequence[str] = ()) -> Iterator[str]: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass
class PrefixStatus:
    """How ``prepare`` made a prompt prefix ready: "warm" (already evaluated), "restored" (from its
    saved state), "built" (evaluated now, and saved when a folder was given), or "server" (a
    server caches prefixes itself)."""

    how: str
    tokens: int = 0
    seconds: float = 0.0
    warning: str = ""  # why a saved state could not be used, when there was one
    path: str = ""     # the state file, when there is one


@runtime_checkable
class PrefixCaching(Protocol):
    """A chat model that can evaluate a fixed prompt start once and keep it for the prompts that follow."""

    def prepare(self, messages: Sequence[Message], folder: Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> PrefixStatus: ...


_END = object()  # the end of a stream's pieces


class _Confidence(float):
    """The first token's probability, handed over the pieces' queue from the worker to the reader."""


class _PerThreadConfidence:
    """``confidence`` as seen by the thread that read the stream: concurrent askers (the UI's
    workers) each get their own reply's, never the one of a stream that ended meanwhile."""

    _local: threading.local

    @property
    def confidence(self) -> float | None:
        """The probability of the first token of the last reply this thread read; None if unknown."""
        return getattr(self._local, "confidence", None)

    def _set_confidence(self, value: float | None) -> None:
        self._local.confidence = value


class LlamaCppModel(_PerThreadConfidence):
    """A GGUF model run in-process by llama-cpp-python."""

    def __init__(self, path: Path, *, n_ctx: int = 4096, n_threads: int = 0, name: str = "",
                 identity: str = "") -> None:
        passive_wait()  # before llama.cpp's OpenMP runtime loads
        import llama_cpp  # compiled extension: imported only when a model is really used

        self.name = name or path.stem
        self.path = path
        self.n_ctx = n_ctx
        self.identity = identity or f"{path.resolve()}:{path.stat().st_size}"  # the file's sha256 when known
        # llama-cpp-python defaults to half the cores for generation: on 2 cores that is one
        # thread and half the tokens/s. Use every core unless told otherwise.
        threads = self._threads = n_threads or os.cpu_count() or 1
        self._prefixes: dict[str, list[int]] = {}
        self._local = threading.local()
        # One llama.cpp context serves one prompt at a time: a second stream or prepare waits here
        # until the first one's generation ends.
        self._lock = threading.RLock()
        try:
            self._llm = llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads,
                                        n_threads_batch=threads, n_batch=512, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load {path}: {exc}",
                             "the file is corrupt or not a GGUF model: pull it again "
                             "(vjassistant models pull NAME --force) or pick another --model", path=path) from exc

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               stop: Sequence[str] = ()) -> Iterator[str]:
        """The reply's pieces. A worker thread holds the model's lock while it generates and hands
        the pieces over: the lock is never held across a ``yield``, so a reader that stops early
        without closing the stream (a browser tab gone mid-answer) cannot keep it. A closed stream
        stops the worker at its next piece; an abandoned one ends at ``max_tokens``."""
        pieces: queue.Queue[object] = queue.Queue()
        stopped = threading.Event()
        self._set_confidence(None)
        threading.Thread(target=self._generate, name="llama-stream", daemon=True,
                         args=(messages, max_tokens, temperature, stop, pieces, stopped)).start()
        try:
            while (item := pieces.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, _Confidence):
                    self._set_confidence(float(item))
                    continue
                yield str(item)
        finally:
            stopped.set()

    def _generate(self, messages: Sequence[Message], max_tokens: int, temperature: float, stop: Sequence[str],
                  pieces: queue.Queue[object], stopped: threading.Event) -> None:
        import llama_cpp
        import numpy as np

        first: list[np.ndarray] = []
        chosen: list[float] = []

        def grab(ids: Any, scores: np.ndarray) -> np.ndarray:
            """The first step's distribution (raw logits, before temperature); at the second step
            the token it chose is known."""
            if not first:
                logits = np.asarray(scores, dtype=np.float64)
                probs = np.exp(logits - logits.max())
                first.append(probs / probs.sum())
            elif not chosen:
                chosen.append(float(first[0][ids[-1]]))
            return scores

        chunks: Any = None
        with self._lock:
            try:
                chunks = self._llm.create_chat_completion(messages=list(messages), max_tokens=max_tokens,
                                                          temperature=temperature, stop=list(stop) or None,
                                                          stream=True, seed=0,
                                                          logits_processor=llama_cpp.LogitsProcessorList([grab]))
                for chunk in chunks:
                    if stopped.is_set():
                        break
                    piece = chunk["choices"][0]["delta"].get("content")  # type: ignore[index]
                    if piece:
                        pieces.put(piece)
                if not chosen and first:  # a one-token reply: the most likely token was taken
                    chosen.append(float(first[0].max()))
                if chosen:
                    pieces.put(_Confidence(chosen[0]))
            except ValueError as exc:  # llama-cpp-python's "Requested tokens exceed context window"
                pieces.put(ModelError(f"The prompt does not fit the model's context: {exc}",
                                      "shorten the question, or lower VJA_PROMPT_BUDGET / VJA_MAX_TOKENS"))
            except Exception as exc:  # noqa: BLE001  # raised in the reader's thread, where it belongs
                pieces.put(exc)
            finally:
                if chunks is not None:
                    chunks.close()  # a stream stopped early: llama-cpp-python's generator ends here, under the lock
                first.clear()
                self._free_sampler()
                pieces.put(_END)

    def _free_sampler(self) -> None:
        """Free the sampler llama-cpp-python made for the reply just generated. It sits in a reference
        cycle, so only the garbage collector's rare full passes would free it, with its native token
        buffer and our logits processor: about 3 MB each with the 1.5B model
        (docs/decisions.md#sampler-cycle). The next reply makes a new one anyway."""
        sampler = getattr(self._llm, "_sampler", None)
        if sampler is not None:
            sampler.close()
            self._llm._sampler = None

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # --- a fixed prompt start, evaluated once -------------------------------------------------
    def prefix_tokens(self, messages: Sequence[Message]) -> list[int]:
        """The tokens every prompt that starts with ``messages`` shares, as create_chat_completion
        will tokenise it (the GGUF's chat template; [] for a model without one)."""
        if self._llm.chat_format != "chat_template.default" or "tokenizer.chat_template" not in self._llm.metadata:
            return []
        key = json.dumps(list(messages), ensure_ascii=False)
        if key not in self._prefixes:
            self._prefixes = {key: self._shared_tokens(messages)}  # the last prefix asked for: asked per question
        return self._prefixes[key]

    def _shared_tokens(self, messages: Sequence[Message]) -> list[int]:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model = self._llm._model
        text = lambda token: model.token_get_text(token) if token != -1 else ""  # noqa: E731
        fmt = Jinja2ChatFormatter(template=self._llm.metadata["tokenizer.chat_template"],
                                  eos_token=text(self._llm.token_eos()), bos_token=text(self._llm.token_bos()))
        one, two = ([int(t) for t in self._llm.tokenize(fmt(messages=[*messages, {"role": "user", "content": q}])
                                                        .prompt.encode("utf-8"), add_bos=False, special=True)]
                    for q in ("A", "B"))
        shared = next((i for i, (a, b) in enumerate(zip(one, two)) if a != b), min(len(one), len(two)))
        return one[:shared]

    def prepare(self, messages: Sequence[Message], folder: Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> PrefixStatus:
        """Make ``messages``, the fixed start of the prompts to come, this model's evaluated prefix:
        already there, restored from the state saved in ``folder``, or evaluated now (``progress``
        gets tokens done and total) and saved there. A saved state that cannot be used is rebuilt,
        with the reason in ``PrefixStatus.warning`` and the log."""
        with self._lock:
            return self._prepare(messages, folder, progress)

    def _prepare(self, messages: Sequence[Message], folder: Path | None,
                 progress: Callable[[int, int], None] | None) -> PrefixStatus:
        import llama_cpp

        t0 = time.perf_counter()
        tokens = self.prefix_tokens(messages)
        if not tokens:
            return PrefixStatus("unsupported")
        if len(tokens) >= self.n_ctx:
            raise ModelError(f"The documents take {len(tokens)} tokens, more than the model's context ({self.n_ctx})",
                             "lower VJA_COLLECTION_BUDGET so the collection is answered by retrieval")
        if self._holds(tokens):
            return PrefixStatus("warm", len(tokens), time.perf_counter() - t0)
        state = None
        if folder is not None:
            state = prefix_state.StateFile(folder, prefix_state.state_key(self.identity, llama_cpp.__version__,
                                                                         self.n_ctx, tokens))
        warning = ""
        if state is not None:
            why = prefix_state.problem(state)
            if not why and self._restore(state, tokens):
                return PrefixStatus("restored", len(tokens), time.perf_counter() - t0, path=str(state.path))
            if why != "missing":
                why = why or "llama.cpp refused it"
                warning = f"the saved state {state.path} cannot be used ({why}): rebuilding it"
                log.warning(warning)
                prefix_state.discard(state)
        self._evaluate(tokens, progress)
        if state is not None:
            self._save(state, tokens)
        return PrefixStatus("built", len(tokens), time.perf_counter() - t0, warning, str(state.path) if state else "")

    def _holds(self, tokens: Sequence[int]) -> bool:
        n = len(tokens)
        return self._llm.n_tokens >= n and [int(t) for t in self._llm.input_ids[:n]] == list(tokens)

    def _evaluate(self, tokens: Sequence[int], progress: Callable[[int, int], None] | None) -> None:
        self._llm.reset()
        step = self._llm.n_batch
        for i in range(0, len(tokens), step):
            self._llm.eval(tokens[i:i + step])
            if progress is not None:
                progress(min(i + step, len(tokens)), len(tokens))

    def _save(self, state: prefix_state.StateFile, tokens: Sequence[int]) -> None:
        import llama_cpp

        state.folder.mkdir(parents=True, exist_ok=True)
        tmp = state.path.with_suffix(".state.tmp")
        array = (llama_cpp.llama_token * len(tokens))(*tokens)
        try:
            if not llama_cpp.llama_state_save_file(self._llm._ctx.ctx, str(tmp).encode(), array, len(tokens)):
                raise OSError("llama.cpp could not write the state")
            prefix_state.finish(state, tmp, len(tokens), {"model": self.name, "n_ctx": self.n_ctx})
        except OSError as exc:  # a full or read-only disk costs the next start a rebuild, nothing more
            tmp.unlink(missing_ok=True)
            log.warning(f"could not save the prompt state to {state.path}: {exc}")

    def _restore(self, state: prefix_state.StateFile, tokens: Sequence[int]) -> bool:
        import llama_cpp

        out = (llama_cpp.llama_token * self.n_ctx)()
        count = ctypes.c_size_t(0)
        ok = llama_cpp.llama_state_load_file(self._llm._ctx.ctx, str(state.path).encode(), out, self.n_ctx,
                                             ctypes.byref(count))
        if not ok or list(out[:count.value]) != list(tokens):
            self._llm.reset()
            return False
        self._llm.input_ids[:len(tokens)] = tokens
        self._llm.n_tokens = len(tokens)
        return True


_BUSY = {429, 502, 503, 504}  # the server is there but cannot answer now: worth asking again


class _Retry(Exception):
    """A request that failed before any text came, in a way that asking again may mend."""

    def __init__(self, error: LLMServerError) -> None:
        super().__init__(error.message)
        self.error = error


class OpenAICompatibleModel(_PerThreadConfidence):
    """Any server speaking the OpenAI chat-completions API (llama.cpp server, vLLM, ...).

    Only used when the user sets ``llm_url``: the network is then the user's choice.
    """

    def __init__(self, base_url: str, *, model: str = "", api_key: str = "", timeout: float = 120.0,
                 n_ctx: int = 0, client: Any = None, retry_pauses: Sequence[float] = (1.0, 3.0)) -> None:
        import httpx

        self.name = model or "server"
        self._model = model
        root = base_url.rstrip("/")
        self._root = root.removesuffix("/v1")
        self._url = root + ("/chat/completions" if root.endswith("/v1") else "/v1/chat/completions")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout
        self.retry_pauses = tuple(retry_pauses)
        # A server that is not there is told at once; one that is there may think for ``timeout``.
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0), headers=headers)
        # The server's context when it says (vLLM, llama.cpp's server), else the one configured.
        self.n_ctx = self._server_context() or n_ctx
        self._local = threading.local()
        self._logprobs = True  # until the server refuses them

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               stop: Sequence[str] = ()) -> Iterator[str]:
        """The reply's pieces as the server streams them. A request that fails before any text came
        (the server down, restarting or busy: 429/502/503/504) is tried again after each of
        ``retry_pauses``; a failure once text has streamed is reported, never retried."""
        body = {**self._body(messages, max_tokens, temperature), "stream": True}
        if stop:
            body["stop"] = list(stop)
        self._set_confidence(None)
        for pause in (*self.retry_pauses, None):
            streamed = False
            try:
                for piece in self._request(body):
                    streamed = True
                    yield piece
                return
            except _Retry as failed:
                if streamed or pause is None:
                    raise failed.error from failed.__cause__
                log.warning(f"{failed.error.message}: trying again in {pause:g} s")
                time.sleep(pause)

    def _request(self, body: dict[str, object]) -> Iterator[str]:
        import httpx

        try:
            if self._logprobs:
                # top_logprobs too: llama-cpp-python's server streams no log-probabilities without it.
                with self._client.stream("POST", self._url, json={**body, "logprobs": True, "top_logprobs": 1}) as resp:
                    if resp.status_code == 200:
                        yield from self._pieces(resp)
                        return
                    resp.read()
                    if resp.status_code != 400:
                        raise self._refused(resp)
                    self._logprobs = False  # a server without log-probabilities: ask plainly from now on
            with self._client.stream("POST", self._url, json=body) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise self._refused(resp)
                yield from self._pieces(resp)
        except httpx.TimeoutException as exc:
            raise _Retry(LLMServerError(f"The LLM server at {self._url} sent nothing for {self._timeout:g} s",
                                        "the server is overloaded or its model too slow: check it, or raise "
                                        "VJA_LLM_TIMEOUT", url=self._url)) from exc
        except httpx.HTTPError as exc:
            raise _Retry(self._unreachable(exc)) from exc

    def _pieces(self, resp: Any) -> Iterator[str]:  # resp: a streaming httpx.Response
        for line in resp.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                choice = (json.loads(data).get("choices") or [{}])[0]
                piece = (choice.get("delta") or {}).get("content")
                logprobs = (choice.get("logprobs") or {}).get("content") or [{}]
            except (ValueError, AttributeError, IndexError, TypeError) as exc:
                raise LLMServerError(f"The LLM server at {self._url} sent something that is not a chat-completions "
                                     f"stream: {data[:120]!r}",
                                     "check that VJA_LLM_URL points at an OpenAI-compatible server",
                                     url=self._url) from exc
            if piece and self.confidence is None and "logprob" in logprobs[0]:
                self._set_confidence(math.exp(logprobs[0]["logprob"]))
            if piece:
                yield str(piece)

    def _server_context(self) -> int:
        """vLLM gives ``max_model_len`` in /v1/models, llama.cpp's server ``n_ctx`` in /props;
        llama-cpp-python's server neither (0)."""
        import httpx

        try:
            models = self._client.get(self._root + "/v1/models", timeout=5).json().get("data") or [{}]
            if models[0].get("max_model_len"):
                return int(models[0]["max_model_len"])
            props = self._client.get(self._root + "/props", timeout=5)
            if props.status_code == 200:
                return int((props.json().get("default_generation_settings") or {}).get("n_ctx") or 0)
        except (httpx.HTTPError, ValueError, TypeError, AttributeError, IndexError):
            pass
        return 0

    def prepare(self, messages: Sequence[Message], folder: Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> PrefixStatus:
        """Nothing to do here: llama.cpp's server and vLLM keep the KV cache of a prompt prefix they
        have seen (``cache_prompt``, automatic prefix caching), so the same messages first pay once."""
        return PrefixStatus("server")

    def _body(self, messages: Sequence[Message], max_tokens: int, temperature: float) -> dict[str, object]:
        return {"model": self._model or "default", "messages": list(messages), "max_tokens": max_tokens,
                "temperature": temperature, "seed": 0}

    def _refused(self, resp: Any) -> Exception:  # resp: an httpx.Response
        error = LLMServerError(f"The LLM server at {self._url} answered {resp.status_code}: {resp.text[:300]}",
                               "check the server's model name and logs", url=self._url)
        return _Retry(error) if resp.status_code in _BUSY else error

    def _unreachable(self, exc: Exception) -> LLMServerError:
        return LLMServerError(f"Cannot reach the LLM server at {self._url}: {exc}",
                              "start the server or fix VJA_LLM_URL", url=self._url)

    def count_tokens(self, text: str) -> int:
        from .chunking import count_tokens  # an estimate: the server's tokenizer is unknown

        return count_tokens(text)
