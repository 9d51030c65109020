"""The browser UI: a Gradio chat over ``Assistant.stream`` that shows where every statement comes from.

An adapter only: it turns Gradio's chat history into (question, answer) pairs, streams the
answer as it is written, and shows the final ``Answer`` as render.py draws it (verdict
badges, marked sentences, sources with the evidence highlighted). Gradio is imported
inside the functions so that ``import vjassistant`` stays light.
"""
from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, VJAError
from .render import SOURCES_START, badges, format_answer, format_error

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr

    from .assistant import Assistant

TITLE = "vjassistant"
SUBTITLE = "Answers from your documents, every sentence cited, fully offline."
EXAMPLES = [
    "When was the NIC–JETRO cooperation agreement signed?",
    "Qui a signé le protocole d'accord sur l'innovation le 1er mai ?",
    "JETRO được thành lập năm nào?",
    "What did Kishida say about cooperation possibilities?",
]
PLACEHOLDER = "Ask a question about your documents, or pick an example."
SEARCHING = '<span class="vja-muted">Searching your documents…</span>'

CSS = """
.vja-header h1 { margin: 0.2rem 0 0; font-size: 1.9rem; letter-spacing: -0.02em; }
.vja-header p { margin: 0.1rem 0 0.4rem; color: var(--body-text-color-subdued); }
#vja-chat sup.vja-cite { display: inline-block; top: -0.45em; margin: 0 1px; padding: 0 0.42em; border-radius: 999px;
  font-size: 0.7em; font-weight: 700; line-height: 1.45; background: var(--primary-100); color: var(--primary-700); }
#vja-chat sup.vja-cite a { color: inherit; text-decoration: none; }
#vja-chat sup.vja-supported { background: #dcfce7; color: #166534; }
#vja-chat sup.vja-partial { background: #fef3c7; color: #92400e; }
#vja-chat sup.vja-unverified { background: #e5e7eb; color: #374151; }
#vja-chat sup.vja-unsupported { background: #fee2e2; color: #991b1b; }
.vja-unsupported { text-decoration: underline wavy #dc2626; text-underline-offset: 3px; }
.vja-partly { text-decoration: underline dotted #d97706; text-underline-offset: 3px; }
.vja-flag { font-size: 0.75em; color: #b91c1c; }
.vja-flag.vja-partly-flag { color: #b45309; }
.vja-passage mark { background: #fde68a; color: #1f2937; padding: 0 1px; border-radius: 2px; }
.vja-passage:target { outline: 2px solid var(--color-accent); outline-offset: 2px; }
.vja-notes { margin: 0.1rem 0 0.4rem 1.1rem; padding: 0; font-size: 0.86em; }
.vja-sources { margin-top: 0.8rem; padding-top: 0.5rem; border-top: 1px solid var(--border-color-primary); }
.vja-sources h4 { margin: 0 0 0.3rem; font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em;
  color: var(--body-text-color-subdued); }
.vja-sources details { margin: 0.25rem 0; }
.vja-sources summary { cursor: pointer; }
.vja-sources blockquote { margin: 0.3rem 0 0.4rem 0.4rem; padding: 0.1rem 0.7rem; font-size: 0.92em;
  border-left: 3px solid var(--color-accent); }
.vja-muted, .vja-meta { color: var(--body-text-color-subdued); font-size: 0.86em; }
.vja-docs { display: flex; flex-direction: column; gap: 0.55rem; }
#vja-chat .example { border: 1px solid var(--border-color-primary); border-radius: 10px;
  background: var(--background-fill-secondary); }
#vja-chat .example:hover { border-color: var(--color-accent); }
.vja-doc { padding: 0.5rem 0.7rem; border-radius: 8px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); }
.vja-doc b { display: block; font-size: 0.9rem; line-height: 1.3; }
"""


def _text(content: Any) -> str:
    """Plain text of one Gradio message content (a str, a text part, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "") if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return "\n".join(t for t in (_text(c) for c in content) if t)
    return str(getattr(content, "text", "") or "")


def _plain_answer(shown: str) -> str:
    """What the model should see of an earlier reply: the answer without sources or HTML."""
    body = shown.split(SOURCES_START, 1)[0]
    body = re.sub(r'\s?<sup class="vja-cite[^"]*"[^>]*>.*?</sup>|<span class="vja-flag[^"]*">.*?</span>', "", body)
    return html.unescape(re.sub(r"<[^>]+>", "", body)).strip()


def history_pairs(history: Sequence[Any]) -> list[tuple[str, str]]:
    """Gradio chat history (message dicts, or old-style [user, bot] pairs) as (question, answer) pairs."""
    pairs: list[tuple[str, str]] = []
    user: str | None = None
    for item in history:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append((_text(item[0]), _plain_answer(_text(item[1]))))
            continue
        role = item.get("role") if isinstance(item, dict) else getattr(item, "role", "")
        text = _text(item.get("content") if isinstance(item, dict) else getattr(item, "content", ""))
        if role == "user":
            user = text
        elif role == "assistant" and user is not None:
            pairs.append((user, _plain_answer(text)))
            user = None
    return pairs


def chat_fn(assistant: Assistant) -> Callable[[str, list[Any]], Iterator[str]]:
    """A generator function for ``gr.ChatInterface``: streams the answer, ends with the cited version."""
    def respond(message: str, history: list[Any]) -> Iterator[str]:
        yield SEARCHING
        shown = ""
        try:
            yield from preparing(assistant)
            response = assistant.stream(message, history=history_pairs(history))
            for piece in response:
                shown += piece
                yield badges(shown)
            yield format_answer(response.answer)
        except VJAError as exc:
            yield format_error(exc)

    return respond


def preparing(assistant: Assistant, every: float = 0.5) -> Iterator[str]:
    """While the whole-collection prompt is read into the model (after the documents changed:
    minutes for a large collection), say how far it has got; nothing when it is ready at once."""
    import threading

    state: dict[str, Any] = {"done": 0, "total": 0}

    def report(_what: str, done: int, total: int) -> None:
        state.update(done=done, total=total)

    def work() -> None:
        try:
            assistant.prepare(report)
        except BaseException as exc:  # re-raised in the chat's own thread
            state["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(every)
        if worker.is_alive() and state["total"]:
            share = state["done"] / state["total"]
            yield (f'<span class="vja-muted">Reading the documents into the model (once, after they change): '
                   f'{share:.0%} of {state["total"]} tokens…</span>')
    if "error" in state:
        raise state["error"]


def documents_html(assistant: Assistant) -> str:
    """The side panel: one card per stored document (title, file, language, date)."""
    docs = assistant.documents()
    if not docs:
        return ('<p class="vja-muted">No documents yet. Run <code>vjassistant ingest PATH</code> '
                "(or <code>--bundled</code> for the sample corpus), then reload.</p>")
    cards = []
    for d in docs:
        meta = " · ".join(html.escape(str(x)) for x in (d.get("filename"), str(d.get("language", "")).upper(),
                                                          d.get("date") or "undated") if x)
        cards.append(f'<div class="vja-doc"><b>{html.escape(d.get("title") or d.get("filename", ""))}</b>'
                     f'<span class="vja-meta">{meta}</span></div>')
    return f'<div class="vja-docs">{"".join(cards)}</div>'


def _gradio() -> Any:
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before the import: gradio reads it then
    import gradio

    return gradio


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The chat page: header, streaming chat with example questions, and the document list."""
    gr = _gradio()
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True) as demo:
        gr.HTML(f"<h1>{TITLE}</h1><p>{SUBTITLE}</p>", elem_classes="vja-header", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(height=620, elem_id="vja-chat", show_label=False, buttons=["copy"],
                                     feedback_options=None, placeholder=PLACEHOLDER)
                gr.ChatInterface(chat_fn(assistant), chatbot=chatbot, examples=EXAMPLES,
                                 analytics_enabled=False, fill_height=False, api_name="ask",
                                 textbox=gr.Textbox(placeholder="Ask about your documents…", show_label=False,
                                                    submit_btn=True, stop_btn=True, autofocus=True))
            with gr.Column(scale=1, min_width=260), gr.Accordion("Documents", open=True):
                # A callable value is re-run on every page load, so the list follows the store.
                gr.HTML(lambda: documents_html(assistant), js_on_load=None)
    return demo


def _theme(gr: Any) -> Any:
    # Fonts Gradio ships itself: a Google font would be fetched from the internet.
    font = gr.themes.LocalFont("Source Sans 3")  # covers Vietnamese diacritics
    return gr.themes.Soft(primary_hue="teal", neutral_hue="slate", font=[font, "system-ui", "sans-serif"],
                          font_mono=[gr.themes.LocalFont("IBM Plex Mono"), "ui-monospace", "monospace"])


def launch(demo: gr.Blocks, host: str, port: int, *, block: bool = True) -> str:
    """Start ``demo`` locally (no share link, no MCP, no SSR); returns the local URL."""
    gr = _gradio()
    try:
        demo.queue(default_concurrency_limit=1)  # one llama.cpp model: answer one question at a time
        _, url, _ = demo.launch(server_name=host, server_port=port, share=False, inbrowser=False, quiet=True,
                                prevent_thread_lock=True, show_error=True, mcp_server=False, ssr_mode=False,
                                theme=_theme(gr), css=CSS)
    except OSError:  # Gradio's own text suggests GRADIO_* variables; ours names the vjassistant way
        raise ConfigError(f"Cannot serve on {host}:{port}: the port is in use or the address is unavailable",
                          "pass --port with a free port, or set VJA_PORT") from None
    if block:
        print(f"Open {url.rstrip('/')} in your browser (Ctrl-C stops)", flush=True)
        demo.block_thread()
    return str(url)


def serve(assistant: Assistant, host: str | None = None, port: int | None = None) -> None:
    """Serve the chat UI until interrupted; host and port default to the assistant's settings."""
    launch(build_ui(assistant), host or assistant.settings.host, port or assistant.settings.port)
