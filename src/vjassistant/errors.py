"""One small exception tree. Every error says what happened and what to do about it::

    VJAError                 message, hint (the fix); exit code 1
    ├── ConfigError          a setting that cannot work                       exit 2
    ├── InputError           a question or path unusable as given             exit 2
    ├── DocumentError        a document missing, unsupported or corrupt       exit 3   .path
    ├── ModelError           a model missing, corrupt, not pulled or loaded   exit 4   .path
    ├── StoreError           the vector store unreachable or incompatible     exit 5   .location
    └── LLMServerError       an OpenAI-compatible server that did not answer  exit 6   .url

The CLI maps each class to its exit code (``VJAError.exit_code``) so scripts can tell bad input
from a missing model or an unreachable server. The context attributes (``.path`` and the others)
are set where the error knows them and are None otherwise; nothing here logs or prints.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["ConfigError", "DocumentError", "InputError", "LLMServerError", "ModelError", "StoreError", "VJAError"]


class VJAError(Exception):
    """Base class: ``message`` says what happened, ``hint`` names the fix."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  fix: {hint}" if hint else message)


class ConfigError(VJAError):
    """A setting has a value that cannot work."""

    exit_code = 2


class InputError(VJAError):
    """The user's input (a question, a path) is unusable as given."""

    exit_code = 2


class _AboutAFile(VJAError):
    """An error about one file: ``path``, when known."""

    def __init__(self, message: str, hint: str = "", *, path: str | Path | None = None) -> None:
        super().__init__(message, hint)
        self.path = Path(path) if path is not None else None


class DocumentError(_AboutAFile):
    """A document could not be read: missing, unsupported type, or corrupt. ``path`` is the file."""

    exit_code = 3


class ModelError(_AboutAFile):
    """A model is missing, corrupt, or could not be pulled or loaded. ``path`` is its file, when known."""

    exit_code = 4


class StoreError(VJAError):
    """The vector store is unreachable or was written by an incompatible version. ``location`` is its
    folder or server URL."""

    exit_code = 5

    def __init__(self, message: str, hint: str = "", *, location: str | None = None) -> None:
        super().__init__(message, hint)
        self.location = location


class LLMServerError(VJAError):
    """An OpenAI-compatible server did not answer as expected. ``url`` is the server's."""

    exit_code = 6

    def __init__(self, message: str, hint: str = "", *, url: str | None = None) -> None:
        super().__init__(message, hint)
        self.url = url
