"""The browser UI: the Gradio page over an Assistant, and serving it.

The layout and its wiring (build_ui), the per-page settings (``_Views``), the named API endpoints
(ask, ingest, documents, remove) and launch, which refuses any address but the loopback one
without a password (VJA_AUTH). What each control does lives in ui_actions.py, and how an answer
is drawn in render.py: this module only connects them to components. Gradio is imported inside
the functions so that ``import vjassistant`` stays light.
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .documents import SUPPORTED_SUFFIXES
from .errors import ConfigError, VJAError
from .render import error_html, format_answer, format_error
from .ui_actions import SEARCHING, history_pairs

__all__ = ["build_ui", "chat_fn", "format_answer", "history_pairs", "launch", "serve", "SEARCHING"]

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
  border-left: 3px solid var(--color-accent); max-height: 16em; overflow-y: auto; }
.vja-passage mark:target { outline: 2px solid #d97706; }
.vja-welcome h3 { margin: 0 0 0.4rem; } .vja-welcome ul { margin: 0 0 0.6rem 1.1rem; text-align: left; }
.vja-welcome { text-align: left; max-width: 46rem; margin: 0 auto; font-size: 0.95em; }
.vja-ok { color: #166534; margin: 0.2rem 0; } .vja-error { color: #991b1b; margin: 0.2rem 0; }
.vja-muted, .vja-meta { color: var(--body-text-color-subdued); font-size: 0.86em; }
.vja-docs { display: flex; flex-direction: column; gap: 0.55rem; }
#vja-docs th, #vja-docs th *, #vja-docs .body-cell, #vja-docs .body-cell * {
  font-family: var(--font); font-size: 0.8rem; }
#vja-docs .body-cell:nth-last-child(-n+2) span { white-space: nowrap; }
#vja-docs .body-cell .cell-wrap, #vja-docs th .cell-wrap { padding-left: 0.3rem; padding-right: 0.3rem; }
#vja-chat .example { border: 1px solid var(--border-color-primary); border-radius: 10px;
  background: var(--background-fill-secondary); }
#vja-chat .example:hover { border-color: var(--color-accent); }
.vja-doc { padding: 0.5rem 0.7rem; border-radius: 8px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-primary); }
.vja-doc b { display: block; font-size: 0.9rem; line-height: 1.3; }
"""


def chat_fn(assistant: Assistant) -> Callable[[str, list[Any]], Iterator[str]]:
    """A generator of the reply's HTML for one message and its history: streams, ends with the cited version."""
    from .ui_actions import _text, respond

    def reply(message: str, history: list[Any]) -> Iterator[str]:
        for shown, _ in respond(assistant, message, list(history)):
            yield _text(shown[-1]["content"])

    return reply


def _gradio() -> Any:
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before the import: gradio reads it then
    import gradio

    return gradio


class _Views:
    """Assistants for the settings a page asks for (model, passages, temperature), made once each
    from the served one and sharing its store, embedder and checker; a few at most."""

    def __init__(self, base: Assistant, most: int = 8) -> None:
        self.base, self.most = base, most
        self._made: dict[tuple[str, int, float], Assistant] = {}

    def get(self, model: str | None, top_k: float | None, temperature: float | None) -> Assistant:
        s = self.base.settings
        key = (model or s.model, int(top_k or s.top_k), float(s.temperature if temperature is None else temperature))
        if key == (s.model, s.top_k, s.temperature):
            return self.base
        if key not in self._made:
            if len(self._made) >= self.most:
                self._made.pop(next(iter(self._made)))
            # derived from one holding that model already, so each model is loaded once
            source = next((a for a in self._made.values() if a.settings.model == key[0]), self.base)
            self._made[key] = source.with_settings(model=key[0], top_k=key[1], temperature=key[2])
        return self._made[key]


def build_ui(assistant: Assistant) -> gr.Blocks:
    """The page: the chat (streaming, new chat, exports), the documents panel (upload, delete,
    re-ingest) and the settings; named API endpoints ask, ingest, documents and remove."""
    import tempfile

    from . import ui_actions as act

    gr = _gradio()
    s = assistant.settings
    views = _Views(assistant)
    exports = Path(tempfile.mkdtemp(prefix="vja-exports-"))
    hidden = gr.update(visible=False)

    def progress_of(progress: Any) -> act.Progress:
        return lambda share, what: progress(share, desc=what)

    def collection_view() -> tuple[Any, Any]:
        rows, choices, _ = act.documents_view(assistant)
        return rows, gr.update(choices=choices, value=[])

    def on_ask(message: str, history: list[Any], model: str, top_k: float, language: str, temperature: float
            ) -> Iterator[tuple[Any, ...]]:
        answer = None
        try:
            target, lang = views.get(model, top_k, temperature), act.answer_language(language)
        except VJAError as exc:
            yield [*history, {"role": "user", "content": message},
                   {"role": "assistant", "content": format_error(exc)}], "", None, hidden, hidden
            return
        for shown, answer in act.respond(target, message, list(history or []), lang):
            yield shown, "", answer, hidden, hidden
        if answer is not None:
            md, js = act.export_answer(answer, exports)
            yield shown, "", answer, gr.update(value=str(md), visible=True), gr.update(value=str(js), visible=True)

    def restore(saved: list[Any] | None) -> tuple[Any, ...]:
        """A page (re)opened: its saved conversation, the collection as it is now (or why the store
        cannot be read) and the models on disk now."""
        rows, choices, error = act.documents_view(assistant)
        models = act.pulled_models(assistant)
        return (gr.update(value=list(saved or []), placeholder=act.welcome(assistant, EXAMPLES)), rows,
                gr.update(choices=choices, value=[]), error, gr.update(choices=models))

    def on_upload(files: list[Any] | None, progress: Any = gr.Progress()) -> tuple[Any, ...]:
        paths = [getattr(f, "name", f) for f in files or []]
        try:
            status = act.ingest_uploads(assistant, paths, progress_of(progress))
        except VJAError as exc:
            status = error_html(exc)
        return (status, *collection_view(), None)

    def on_documents(action: Callable[..., str]) -> Callable[..., tuple[Any, ...]]:
        """A button's handler: ``action`` on the chosen documents, then the refreshed collection."""
        def handler(doc_ids: list[str] | None, progress: Any = gr.Progress()) -> tuple[Any, ...]:
            try:
                status = action(assistant, list(doc_ids or []), progress_of(progress))
            except VJAError as exc:
                status = error_html(exc)
            return (status, *collection_view())
        return handler

    def api_ask(question: str, history: list[list[str]] | None = None, language: str = "auto") -> dict[str, Any]:
        """The checked Answer to ``question`` as JSON (``history``: earlier [question, answer] pairs)."""
        try:
            pairs = [(str(q), str(a)) for q, a in (history or [])]
            return assistant.ask(question, pairs, language=act.answer_language(language)).to_dict()
        except (VJAError, ValueError, TypeError) as exc:
            raise gr.Error(format_error(exc) if isinstance(exc, VJAError) else f"Bad request: {exc}") from None

    def api_documents() -> list[dict[str, Any]]:
        """Every stored document: id, file, title, date, language, chunks, when added."""
        return assistant.documents()

    def api_remove(target: str) -> dict[str, Any]:
        """Delete a document by id, file path or file name; the chunks removed."""
        try:
            removed = assistant.remove(target)
            act.prepare(assistant)
            return {"removed_chunks": removed}
        except VJAError as exc:
            raise gr.Error(format_error(exc)) from None

    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True) as demo:
        saved = gr.BrowserState([], storage_key="vja-conversation")  # the chat survives a reload
        last = gr.State(None)
        gr.HTML(f"<h1>{TITLE}</h1><p>{SUBTITLE}</p>", elem_classes="vja-header", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(height=600, elem_id="vja-chat", show_label=False, buttons=["copy"],
                                     feedback_options=None, placeholder=act.welcome(assistant, EXAMPLES))
                question = gr.Textbox(placeholder="Ask about your documents…", show_label=False, submit_btn=True,
                                      stop_btn=True, autofocus=True, elem_id="vja-question")
                gr.Examples(EXAMPLES, inputs=question, label="Examples")
                with gr.Row():
                    new_chat = gr.Button("New chat", size="sm", elem_id="vja-new-chat")
                    md = gr.DownloadButton("Export Markdown", size="sm", visible=False, elem_id="vja-export-md")
                    js = gr.DownloadButton("Export JSON", size="sm", visible=False, elem_id="vja-export-json")
            with gr.Column(scale=2, min_width=320):
                with gr.Tab("Documents"):
                    rows, choices, error = act.documents_view(assistant)
                    table = gr.Dataframe(value=rows, headers=act.TABLE_HEADERS, interactive=False, wrap=True,
                                         elem_id="vja-docs", show_label=False, column_widths=act.TABLE_WIDTHS)
                    upload = gr.File(label="Add documents: txt, md, html, pdf", file_count="multiple",
                                     file_types=sorted(SUPPORTED_SUFFIXES), elem_id="vja-upload")
                    status = gr.HTML(error, elem_id="vja-docs-status")
                    chosen = gr.Dropdown(choices=choices, multiselect=True,
                                         label="Selected documents", elem_id="vja-chosen")
                    with gr.Row():
                        delete = gr.Button("Delete", variant="stop", size="sm", elem_id="vja-delete")
                        reingest = gr.Button("Re-ingest", size="sm", elem_id="vja-reingest")
                with gr.Tab("Settings"):
                    model = gr.Dropdown(act.pulled_models(assistant), value=s.model, label="Model (pulled presets)",
                                        elem_id="vja-model")
                    top_k = gr.Slider(1, 8, value=s.top_k, step=1, label="Passages per answer (retrieval mode)")
                    language = gr.Radio(list(act.ANSWER_LANGUAGES), value="auto", label="Answer language")
                    temperature = gr.Slider(0.0, 1.5, value=s.temperature, step=0.05, label="Temperature")

        busy = {"concurrency_id": "model", "concurrency_limit": 1}  # one llama.cpp model: one job at a time
        asked = question.submit(on_ask, [question, chatbot, model, top_k, language, temperature],
                                [chatbot, question, last, md, js], api_visibility="private", **busy)
        asked.then(lambda h: h, chatbot, saved, api_visibility="private")
        question.stop(None, cancels=[asked], api_visibility="private")
        new_chat.click(lambda: ([], None, hidden, hidden, [], ""), outputs=[chatbot, last, md, js, saved, question],
                       api_visibility="private")
        demo.load(restore, [saved], [chatbot, table, chosen, status, model], api_visibility="private")
        upload.upload(on_upload, [upload], [status, table, chosen, upload], api_name="ingest", **busy)
        for button, action in ((delete, act.remove_documents), (reingest, act.reingest_documents)):
            button.click(on_documents(action), [chosen], [status, table, chosen], api_visibility="private", **busy)
        gr.api(api_ask, api_name="ask", **busy)
        gr.api(api_documents, api_name="documents")
        gr.api(api_remove, api_name="remove", **busy)
    return demo


def _theme(gr: Any) -> Any:
    # Fonts Gradio ships itself: a Google font would be fetched from the internet.
    font = gr.themes.LocalFont("Source Sans 3")  # covers Vietnamese diacritics
    return gr.themes.Soft(primary_hue="teal", neutral_hue="slate", font=[font, "system-ui", "sans-serif"],
                          font_mono=[gr.themes.LocalFont("IBM Plex Mono"), "ui-monospace", "monospace"])


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.x, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_auth(spec: str) -> list[tuple[str, str]]:
    """The users of ``VJA_AUTH``: "user:password", or the path of a file with one user:password per
    line (blank lines and # comments skipped)."""
    if not spec:
        return []
    path = Path(spec).expanduser()
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
    elif ":" in spec and not spec.startswith(("/", "~", ".")):
        lines = [spec]
    else:
        raise ConfigError(f"VJA_AUTH is neither user:password nor a readable file: {spec!r}",
                          "set VJA_AUTH=user:password, or the path of a file of user:password lines")
    users = []
    for line in (x.strip() for x in lines):
        if not line or line.startswith("#"):
            continue
        user, _, password = line.partition(":")
        if not user.strip() or not password:
            raise ConfigError("An auth entry needs a user name and a password, as user:password",
                              "fix VJA_AUTH or its file")
        users.append((user.strip(), password))
    if not users:
        raise ConfigError(f"The auth file {path} holds no user", "add a user:password line")
    return users


def users_for(host: str, auth: str) -> list[tuple[str, str]]:
    """The users who may sign in (none: no sign-in); refuses a non-loopback ``host`` without any."""
    users = read_auth(auth)
    if not is_loopback(host) and not users:
        raise ConfigError(f"Refusing to serve on {host} without authentication: anyone who can reach it would "
                          "read your documents",
                          "set VJA_AUTH=user:password (or the path of a file of user:password lines), "
                          "or serve on 127.0.0.1")
    return users


def launch(demo: gr.Blocks, host: str, port: int, *, block: bool = True, auth: str = "",
           queue_size: int = 16, max_upload_mb: int = 20, max_sessions: int = 1000) -> str:
    """Start ``demo`` (no share link, no MCP, no SSR); returns the local URL. Any address but the
    loopback one needs ``auth`` (VJA_AUTH): the answers and documents would be open to the network.
    The state of at most ``max_sessions`` sessions is kept, the oldest dropped first: each one held
    on to about 75 KB for good (docs/decisions.md#load)."""
    gr = _gradio()
    users = users_for(host, auth)
    try:
        # One llama.cpp model answers one question at a time; the others wait, up to queue_size.
        demo.queue(default_concurrency_limit=1, max_size=queue_size)
        _, url, _ = demo.launch(server_name=host, server_port=port, share=False, inbrowser=False, quiet=True,
                                prevent_thread_lock=True, show_error=True, mcp_server=False, ssr_mode=False,
                                theme=_theme(gr), css=CSS, auth=users or None,
                                max_file_size=f"{max_upload_mb}mb", state_session_capacity=max_sessions)
    except OSError:  # Gradio's own text suggests GRADIO_* variables; ours names the vjassistant way
        raise ConfigError(f"Cannot serve on {host}:{port}: the port is in use or the address is unavailable",
                          "pass --port with a free port, or set VJA_PORT") from None
    if block:
        print(f"Open {url.rstrip('/')} in your browser (Ctrl-C stops)", flush=True)
        demo.block_thread()
    return str(url)


def serve(assistant: Assistant, host: str | None = None, port: int | None = None) -> None:
    """Serve the chat UI until interrupted; host, port and auth default to the assistant's settings."""
    s = assistant.settings
    host = host or s.host
    users_for(host, s.auth)  # refused before the page is built
    launch(build_ui(assistant), host, port or s.port, auth=s.auth, queue_size=s.queue_size,
           max_upload_mb=s.max_upload_mb, max_sessions=s.max_sessions)
