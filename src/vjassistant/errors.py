"""One small exception tree. Every error says what happened and what to do about it.

The CLI maps each class to an exit code (``VJAError.exit_code``) so scripts can tell
bad input from a missing model or an unreachable server.
"""
from __future__ import annotations


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


class DocumentError(VJAError):
    """A document could not be read: missing, unsupported type, or corrupt."""

    exit_code = 3


class ModelError(VJAError):
    """A model is missing, corrupt, or could not be pulled or loaded."""

    exit_code = 4


class StoreError(VJAError):
    """The vector store is unreachable or was written by an incompatible version."""

    exit_code = 5


class LLMServerError(VJAError):
    """An OpenAI-compatible server did not answer as expected."""

    exit_code = 6
