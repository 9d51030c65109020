"""Answer verification: which citations stand away from where the question points, and the check prompt."""
import dataclasses

from vjassistant.citations import Citation
from vjassistant.verify import check_messages, distances, judge, question_names, unnamed

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


def test_question_names_are_its_capitalised_words_but_the_first_and_its_numbers():
    assert question_names("Who is the president of TUMAS?") == {"tumas"}
    assert question_names("Ai là chủ tịch của TUMAS?") == {"tumas"}
    assert question_names("What U.S. entity ruled in 1977?") == {"us", "1977"}  # U.S. read as US
    assert question_names("Which producer is an ally of the United States?") == {"united", "states", "us"}
    assert question_names("Lĩnh vực nào nghiên cứu hệ thống miễn dịch?") == set()  # first word: not a name
    assert question_names("TUMAS") == set()


def numbered(text, number, doc_id, chunk_id=None):
    p = dataclasses.replace(passage(text), doc_id=doc_id, chunk_id=chunk_id or f"{doc_id}-0", title="")
    p.number = number
    return p


def test_a_citation_of_a_document_naming_none_of_the_question_names_is_unnamed_when_another_names_one():
    """The TUMAS case (XQuAD): the answer names a president from a list of alumni, not from the
    passage about TUMAS that the model was also given."""
    question = "Who is the president of TUMAS?"
    tumas = numbered("TUMAS is led by its president, Ahmed Zewail.", 1, "d1")
    alumni = numbered("Alumni include Carlos Salinas de Gortari and Ban Ki-moon.", 2, "d2")
    wrong, right = cite(alumni, "Carlos Salinas de Gortari"), cite(tumas, "Ahmed Zewail")
    assert unnamed(question, [wrong, right], [tumas, alumni]) == [wrong]
    assert unnamed(question, [wrong], [alumni]) == []  # no passage names TUMAS: nothing to prefer
    assert unnamed("Who is the president?", [wrong], [tumas, alumni]) == []  # no names in the question
    # the name in the part of the chunk the prompt left out (focus.py), or in another chunk of the document
    cut = numbered("Alumni include Carlos Salinas de Gortari.", 2, "d2")
    assert unnamed(question, [cite(cut, "Carlos")], [tumas, cut], {"d2-0": "Of TUMAS: " + cut.text}) == []
    rest = numbered("The TUMAS alumni include Carlos Salinas de Gortari.", 3, "d2", "d2-1")
    assert unnamed(question, [cite(cut, "Carlos")], [tumas, cut, rest]) == []
    # only passages in the question's language are judged: another may write the name otherwise
    assert unnamed(question, [wrong], [tumas, alumni], language="en") == [wrong]
    assert unnamed(question, [wrong], [tumas, alumni], language="vi") == []
