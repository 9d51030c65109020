"""Launch the vjassistant browser UI: ``python app.py`` (then open http://127.0.0.1:7860).

On first run the default store is empty, so the bundled sample corpus is ingested first.
Settings come from ``VJA_*`` environment variables (e.g. ``VJA_MODEL=smollm2-135m``).
"""
from __future__ import annotations


def main() -> int:
    from vjassistant import Assistant, VJAError
    from vjassistant.cli import report_error
    from vjassistant.memory import limit_arenas
    from vjassistant.ui import serve

    limit_arenas()  # before any thread starts: docs/decisions.md#load
    try:
        assistant = Assistant()
        if assistant.store.count() == 0:
            print("The store is empty: ingesting the bundled sample corpus…", flush=True)
            assistant.ingest_bundled_corpus(progress=True)
        serve(assistant)
    except VJAError as exc:
        return report_error(exc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
