"""Grounding: every answer sentence tied to the exact evidence span that supports it, or not shown.

One subsystem with two entry points:

- ``resolve`` (citations.py), used while answering: it parses the ``[n]`` markers of a model's
  reply, moves or drops those whose passage does not support the sentence, and attaches one
  where the model forgot it.
- ``check_citations`` (check.py), the audit of any cited text: per statement and per citation,
  with ALCE-style recall and precision. It rewrites nothing.

Both rest on ``SupportChecker`` (support.py): the verdict, score and evidence span of one
statement against one passage, from normalised text (textnorm.py), contradiction cues
(polarity.py) and planted instructions read as no evidence (injection.py). Retrieval, prompts
and the model are outside this package; it only reads the ``Passage`` and writes the
``Citation`` of vjassistant.answer.

    from vjassistant.grounding import check_citations
    report = check_citations("Vu Quoc Huy leads NIC [1].", ["reports/nic.txt"])
    print(report.citation_precision, [s.verdict for s in report.statements])
"""
from .check import CitationReport, StatementCheck, check_citations, check_statements
from .citations import resolve, statements
from .support import PARTIAL, SUPPORTED, UNSUPPORTED, UNVERIFIED, Support, SupportChecker

__all__ = ["PARTIAL", "SUPPORTED", "UNSUPPORTED", "UNVERIFIED", "CitationReport", "StatementCheck", "Support",
           "SupportChecker", "check_citations", "check_statements", "resolve", "statements"]
