"""Answer verification: which citations stand away from where the question points, and the check prompt."""
import dataclasses

from vjassistant.citations import Citation
from vjassistant.names import question_names
from vjassistant.verify import check_messages, distances, judge, unnamed

from .conftest import FakeEmbedder, JudgingModel
from .test_focus import DOC, passage


def cite(p, quote, statement="x."):
    start = p.text.index(quote)
    return Citation(marker=p.number, doc_id=p.doc_id, filename=p.filename, source=p.source, title=p.title,
                    chunk_id=p.chunk_id, start=p.start + start, end=p.start + start + len(quote), quote=quote,
                    statement=statement, verdict="supported", score=1.0)


def test_evidence_in_or_beside_the_best_sentence_stands_where_the_question_points():
    p = passage(start=50)
    p.number = 1
    question = "When did NIC and JETRO sign the cooperation agreement?"
    answer, beside, far = cite(p, "19 October 2020"), cite(p, "start-ups"), cite(p, "Everyone went home")
    gaps = distances(question, [answer, beside, far], [p], FakeEmbedder())
    assert gaps[0] == gaps[1] == 0.0 < gaps[2]


def test_only_citations_beyond_the_gap_are_judged_each_with_its_own_passage():
    p = passage()
    p.number = 2
    near, far = cite(p, "19 October 2020", "In 2020."), cite(p, "Lunch was served", "At noon.")
    model = JudgingModel("", lambda _: 0.3)
    (verdict,) = judge(model, "When?", [near, far], [p], [0.0, 0.3], 0.05)
    assert verdict.citation is far and verdict.yes == 0.3 and verdict.refutes(0.65) and not verdict.refutes(0.2)
    assert model.judged == [check_messages("When?", "At noon.", p)]
    assert DOC in model.judged[0][-1]["content"] and "Proposed answer: At noon." in model.judged[0][-1]["content"]


def numbered(text, number, doc_id, chunk_id=None, language="en"):
    p = dataclasses.replace(passage(text), doc_id=doc_id, chunk_id=chunk_id or f"{doc_id}-0", title="",
                            language=language)
    p.number = number
    return p


def test_a_citation_of_a_document_naming_none_of_the_question_names_is_unnamed_when_another_names_one():
    """The TUMAS case (XQuAD): the answer names a president from a list of alumni, not from the
    passage about TUMAS that the model was also given."""
    names = question_names("Who is the president of TUMAS?")
    tumas = numbered("TUMAS is led by its president, Ahmed Zewail.", 1, "d1")
    alumni = numbered("Alumni include Carlos Salinas de Gortari and Ban Ki-moon.", 2, "d2")
    wrong, right = cite(alumni, "Carlos Salinas de Gortari"), cite(tumas, "Ahmed Zewail")
    assert unnamed(names, [wrong, right], [tumas, alumni], {}, "en") == [wrong]
    assert unnamed(names, [wrong], [alumni], {}, "en") == []  # no passage names TUMAS: nothing to prefer
    assert unnamed(question_names("Who is the president?"), [wrong], [tumas, alumni], {}, "en") == []
    # the name in the part of the document the prompt left out (focus.py, another chunk)
    assert unnamed(names, [wrong], [tumas, alumni], {"d2": "Of TUMAS. " + alumni.text}, "en") == []
    rest = numbered("The TUMAS alumni include Carlos Salinas de Gortari.", 3, "d2", "d2-1")
    assert unnamed(names, [wrong], [tumas, alumni, rest], {}, "en") == []  # another passage of its document
    # only passages in the question's language are judged, and only they can judge: another
    # language may write the name otherwise
    assert unnamed(names, [wrong], [tumas, alumni], {}, "vi") == []
    vi_alumni = numbered("Cựu sinh viên gồm Carlos Salinas de Gortari.", 2, "d3", language="vi")
    assert unnamed(names, [cite(vi_alumni, "Carlos")], [tumas, vi_alumni], {}, "vi") == []
    assert unnamed(names, [cite(tumas, "Ahmed")], [tumas, vi_alumni], {}, "vi") == []
    # a marker on no passage given is not this rule's to judge
    stray = dataclasses.replace(wrong, marker=9)
    assert unnamed(names, [stray], [tumas, alumni], {}, "en") == []
