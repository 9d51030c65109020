"""The runtime opens no network connection beyond this machine: ingest, ask, check and serve are
run with an audit hook recording every socket connect and name lookup (Chroma's and Gradio's
telemetry included); any address or host name that is not loopback fails the test."""
from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vjassistant import Assistant

from .conftest import free_port

pytestmark = pytest.mark.e2e

_SEEN: list[tuple[str, object]] = []
_RECORDING = False


def _hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
    if _RECORDING and event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname"):
        _SEEN.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_hook)  # hooks cannot be removed: it records only while a test asks it to


@pytest.fixture
def recorded() -> Iterator[list[tuple[str, object]]]:
    global _RECORDING
    _SEEN.clear()
    _RECORDING = True
    try:
        yield _SEEN
    finally:
        _RECORDING = False


def _loopback(event: str, target: object) -> bool:
    if isinstance(target, (str, bytes)) and event == "socket.connect":
        return True  # a Unix socket path: this machine
    host = target[0] if isinstance(target, tuple) else target
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "localhost", "", socket.gethostname()):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def test_ingest_ask_check_and_serve_touch_only_this_machine(real_assistant, tmp_path: Path, recorded) -> None:
    import httpx

    from vjassistant.ui import build_ui, launch

    doc = tmp_path / "note.txt"
    doc.write_text("Harbour note\nThe Quy Nhon harbour lighthouse was painted blue and white in 1911.",
                   encoding="utf-8")
    a = Assistant(real_assistant.settings.replace(store_dir=tmp_path / "store"), embedder=real_assistant.embedder,
                  chat_model=real_assistant.chat_model)
    a.ingest([doc])
    answer = a.ask("When was the Quy Nhon harbour lighthouse painted?")
    a.check("The lighthouse was painted in 1911 [1].", [doc])
    demo = build_ui(a)
    url = launch(demo, "127.0.0.1", free_port(), block=False)
    try:
        assert httpx.get(url, timeout=60).status_code == 200
        assert httpx.get(url.rstrip("/") + "/config", timeout=60).status_code == 200
    finally:
        demo.close()
    assert answer.text
    assert any(e == "socket.connect" for e, _ in recorded)  # the hook saw the page's own connections
    outside = [(e, t) for e, t in recorded if not _loopback(e, t)]
    assert outside == [], outside


def test_the_recorder_would_see_a_connection_leaving_the_machine(recorded) -> None:
    with pytest.raises(OSError), socket.create_connection(("192.0.2.1", 9), timeout=0.05):  # TEST-NET-1: unroutable
        pass
    assert [(e, t) for e, t in recorded if not _loopback(e, t)]
