"""vjassistant: answers from your own documents, every sentence cited, fully offline.

    from vjassistant import Assistant
    a = Assistant()                      # default store (vectorstore/) and model
    answer = a.ask("Who signed the MoU?")
    print(answer.text, [c.to_dict() for c in answer.citations])
"""
from .assistant import Answer, Assistant, IngestReport
from .citations import Citation
from .config import Settings
from .errors import (ConfigError, DocumentError, InputError, LLMServerError, ModelError,
                     StoreError, VJAError)
from .retrieval import Passage

__all__ = ["Answer", "Assistant", "Citation", "ConfigError", "DocumentError", "IngestReport",
           "InputError", "LLMServerError", "ModelError", "Passage", "Settings", "StoreError",
           "VJAError"]
__version__ = "0.1.0"
