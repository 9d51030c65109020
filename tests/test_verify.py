"""Answer verification: which citations stand away from where the question points, and the check prompt."""
from vjassistant.citations import Citation
from vjassistant.verify import check_messages, distances, judge

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
