"""OpenAICompatibleModel's wire handling against a scripted transport: the log-probabilities
behind Answer.confidence, and servers that refuse them. The real llama.cpp server is in
test_servers.py."""
from __future__ import annotations

import json
import math

import httpx
import pytest

from vjassistant import LLMServerError
from vjassistant.llm import OpenAICompatibleModel

MESSAGES = [{"role": "user", "content": "When did the office open?"}]


def sse(*pieces: tuple[str, float | None]) -> bytes:
    """A streamed chat completion: one data line per (content, logprob) piece, then [DONE]."""
    lines = [{"choices": [{"delta": {"role": "assistant"}}]}]  # the role chunk carries no content
    for text, logprob in pieces:
        choice: dict = {"delta": {"content": text}}
        if logprob is not None:
            choice["logprobs"] = {"content": [{"token": text, "logprob": logprob}]}
        lines.append({"choices": [choice]})
    return "".join(f"data: {json.dumps(x)}\n\n" for x in lines).encode() + b"data: [DONE]\n\n"


def model_over(handler) -> tuple[OpenAICompatibleModel, list[dict]]:
    bodies: list[dict] = []

    def record(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the context-size probe: a server that says nothing
            return httpx.Response(404)
        bodies.append(json.loads(request.content))
        return handler(bodies[-1])
    model = OpenAICompatibleModel("http://llm.test", client=httpx.Client(transport=httpx.MockTransport(record)),
                                  retry_pauses=(0.0, 0.0))
    return model, bodies


@pytest.mark.parametrize("routes,expected", [
    ({"/v1/models": {"data": [{"id": "m", "max_model_len": 32768}]}}, 32768),                 # vLLM
    ({"/v1/models": {"data": [{"id": "m"}]}, "/props": {"default_generation_settings": {"n_ctx": 4096}}}, 4096),
    ({"/v1/models": {"data": [{"id": "m"}]}}, 2048),                        # llama-cpp-python's: the setting
])
def test_the_servers_context_is_read_when_it_says_else_the_setting_is_used(routes, expected):
    def handler(request: httpx.Request) -> httpx.Response:
        body = routes.get(request.url.path)
        return httpx.Response(200, json=body) if body is not None else httpx.Response(404)
    model = OpenAICompatibleModel("http://llm.test/v1", n_ctx=2048,
                                  client=httpx.Client(transport=httpx.MockTransport(handler)))
    assert model.n_ctx == expected


def ask(model: OpenAICompatibleModel) -> str:
    return "".join(model.stream(MESSAGES, max_tokens=16, temperature=0.1))


def test_confidence_is_the_probability_of_the_first_piece_of_content():
    model, bodies = model_over(lambda body: httpx.Response(200, content=sse(("In", -0.25), (" 1993 [1].", -2.0))))
    assert ask(model) == "In 1993 [1]." and model.confidence == pytest.approx(math.exp(-0.25))
    assert bodies[0]["logprobs"] is True and bodies[0]["top_logprobs"] == 1 and bodies[0]["stream"] is True


def test_a_server_that_refuses_log_probabilities_is_asked_plainly_from_then_on():
    def handler(body: dict) -> httpx.Response:
        if body.get("logprobs"):
            return httpx.Response(400, json={"error": "logprobs is not supported"})
        return httpx.Response(200, content=sse(("In 1993 [1].", None)))
    model, bodies = model_over(handler)
    assert ask(model) == "In 1993 [1]." and model.confidence is None
    assert ask(model) == "In 1993 [1]." and model.confidence is None
    # One refused request, then plain ones only: the refusal is remembered.
    assert [b.get("logprobs", False) for b in bodies] == [True, False, False]


def test_a_server_error_is_reported_not_retried():
    model, bodies = model_over(lambda body: httpx.Response(500, text="template error"))
    with pytest.raises(LLMServerError, match="500") as err:
        ask(model)
    assert len(bodies) == 1 and "logs" in err.value.hint


def test_a_busy_server_is_asked_again_a_bounded_number_of_times():
    replies = iter([httpx.Response(503, text="model is loading"),
                    httpx.Response(200, content=sse(("In 1993 [1].", None)))])
    model, bodies = model_over(lambda body: next(replies))
    assert ask(model) == "In 1993 [1]." and len(bodies) == 2
    model, bodies = model_over(lambda body: httpx.Response(503, text="model is loading"))
    with pytest.raises(LLMServerError, match="503"):
        ask(model)
    assert len(bodies) == 3  # the first try and two more


def test_a_server_that_is_down_is_reported_with_the_fix_after_the_retries():
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ConnectError("connection refused")
    model = OpenAICompatibleModel("http://llm.test", client=httpx.Client(transport=httpx.MockTransport(refuse)),
                                  retry_pauses=(0.0, 0.0))
    with pytest.raises(LLMServerError, match="Cannot reach the LLM server") as err:
        ask(model)
    assert calls.count("POST") == 3 and "VJA_LLM_URL" in err.value.hint


def test_a_slow_server_is_a_clear_error():
    def slow(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(404)
        raise httpx.ReadTimeout("timed out")
    model = OpenAICompatibleModel("http://llm.test", client=httpx.Client(transport=httpx.MockTransport(slow)),
                                  retry_pauses=(), timeout=7)
    with pytest.raises(LLMServerError, match="sent nothing for 7 s") as err:
        ask(model)
    assert "VJA_LLM_TIMEOUT" in err.value.hint


def test_garbage_from_the_server_is_a_clear_error_not_a_trace():
    model, _ = model_over(lambda body: httpx.Response(200, content=b"data: <html>502 Bad Gateway</html>\n\n"))
    with pytest.raises(LLMServerError, match="not a chat-completions stream") as err:
        ask(model)
    assert "VJA_LLM_URL" in err.value.hint


def test_a_reply_cut_off_after_text_streamed_is_reported_not_asked_again():
    class Cut(httpx.SyncByteStream):
        def __iter__(self):
            yield sse(("In", None))[:-len(b"data: [DONE]\n\n")]
            raise httpx.ReadError("connection reset")
    model, bodies = model_over(lambda body: httpx.Response(200, stream=Cut()))
    pieces = []
    with pytest.raises(LLMServerError, match="Cannot reach"):
        for piece in model.stream(MESSAGES, max_tokens=16, temperature=0.1):
            pieces.append(piece)
    assert pieces == ["In"] and len(bodies) == 1


def test_a_server_that_streams_no_log_probabilities_leaves_confidence_unknown():
    model, _ = model_over(lambda body: httpx.Response(200, content=sse(("In 1993 [1].", None))))
    assert ask(model) == "In 1993 [1]." and model.confidence is None
