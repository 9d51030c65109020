"""vjassistant: answers from your own documents, every sentence cited, fully offline.

    from vjassistant import Assistant
    a = Assistant()                      # default store (vectorstore/) and model
    answer = a.ask("Who signed the MoU?")
    print(answer.text, [c.to_dict() for c in answer.citations])
    print(a.check(answer).citation_recall)   # or check_citations(text, ["a.txt", "b.pdf"])

Your own model or embedder plugs in by implementing ``ChatModel`` or ``Embedder`` and passing
it as ``Assistant(chat_model=..., embedder=...)``; ``vjassistant.testing`` has instant fakes.
"""
from .answer import Citation, Passage
from .assistant import Answer, Assistant, IngestReport
from .config import Settings
from .embeddings import Embedder
from .errors import ConfigError, DocumentError, InputError, LLMServerError, ModelError, StoreError, VJAError
from .grounding.check import CitationReport, StatementCheck, check_citations
from .llm import ChatModel

__all__ = ["Answer", "Assistant", "ChatModel", "Citation", "CitationReport", "ConfigError", "DocumentError",
           "Embedder", "IngestReport", "InputError", "LLMServerError", "ModelError", "Passage", "Settings",
           "StatementCheck", "StoreError", "VJAError", "check_citations"]
__version__ = "0.1.0"
