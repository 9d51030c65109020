"""Regenerate docs/screenshot.png (the UI answering an example question with the default model, its
first citation opened at the highlighted evidence) and docs/screenshot-start.png (the first screen:
what the assistant knows, example questions and the documents panel).

Dev-only tool, not a dependency of the package. It needs Playwright's Python package and a
system Chromium; it never downloads a browser (`playwright install` is not needed):

    pip install -e '.[test]' && apt-get install chromium   (make test does both)
    python docs/screenshot.py [--model smollm2-135m] [--question N] [--out docs/screenshot.png]
"""
from __future__ import annotations

import argparse
import socket
import tempfile
from pathlib import Path

from vjassistant import Assistant
from vjassistant.evaluation.chat_report import eval_state_dir
from vjassistant.ui import EXAMPLES, build_ui, launch

HERE = Path(__file__).resolve().parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="qwen2.5-coder-1.5b")
    p.add_argument("--question", type=int, default=0, help="index of the example question to ask")
    p.add_argument("--out", type=Path, default=HERE / "screenshot.png")
    p.add_argument("--start", type=Path, default=HERE / "screenshot-start.png")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    args = p.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        # The evaluation's saved collection state is keyed by its exact prompt: the same corpus restores it.
        assistant = Assistant(store_dir=Path(tmp) / "store", model=args.model, state_dir=eval_state_dir())
        assistant.ingest_bundled_corpus(progress=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        demo = build_ui(assistant)
        url = launch(demo, "127.0.0.1", port, block=False)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-quic",
                                                   "--disable-background-networking", "--disable-component-update"])
                page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
                page.goto(url, wait_until="load")  # not "networkidle": the queue keeps an event stream open
                page.wait_for_selector("#vja-docs [role=grid]")
                page.wait_for_timeout(800)
                page.screenshot(path=str(args.start))
                page.locator("#vja-question textarea").fill(EXAMPLES[args.question])
                page.locator("#vja-question textarea").press("Enter")
                # The final message carries its timings line (an abstention too).
                page.wait_for_selector("#vja-chat .vja-timings", timeout=180_000)
                badge = page.locator("#vja-chat sup.vja-cite a").first
                if badge.count():
                    badge.click()  # opens the cited document at its highlighted evidence
                page.wait_for_timeout(800)
                page.evaluate("window.scrollTo(0, 0)")  # the page, not the chat: the opened document stays in view
                page.wait_for_timeout(300)
                page.screenshot(path=str(args.out))
                browser.close()
        finally:
            demo.close()
    print(f"wrote {args.start} and {args.out}")


if __name__ == "__main__":
    main()
