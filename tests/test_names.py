"""What a question names, and whether a text names it (names.py, the rule of verify.unnamed)."""
from vjassistant.names import names_any, question_names


def test_a_question_names_its_capitalised_words_but_each_sentence_first_its_numbers_and_initials():
    assert question_names("Who is the president of TUMAS?").shown == ("TUMAS",)
    assert question_names("Ai là chủ tịch của TUMAS?").shown == ("TUMAS",)
    assert question_names("What U.S. entity ruled in 1977?").shown == ("US", "1977")  # U.S. read as US
    united = question_names("Which producer is an ally of the United States?")
    assert united.shown == ("United", "States") and united.capitals == {"US"}
    assert not question_names("Lĩnh vực nào nghiên cứu hệ thống miễn dịch?")  # a first word is no name
    assert not question_names("TUMAS")
    # the first word of every sentence (a rewritten follow-up question joins two)
    assert question_names("Tell me about the MoU. Also, who signed it? Combien ?").shown == ("MoU",)


def test_a_text_names_a_name_in_any_case_and_accent_an_acronym_only_in_capitals():
    chinh = question_names("When did Prime Minister Phạm Minh Chính visit Osaka?")
    assert names_any(chinh, "Pham Minh Chinh came in May.") and names_any(chinh, "OSAKA was rainy.")
    # a capitalised title counts too: lenient (the rule then removes less), never stricter
    assert names_any(chinh, "The minister of trade came.") and not names_any(chinh, "The trade office closed.")
    united = question_names("Which producer is an ally of the United States?")
    assert names_any(united, "Iran was a close ally of the US.") and names_any(united, "the U.S. said")
    assert not names_any(united, "He told us about oil.")  # the pronoun is not the US
    tumas = question_names("Who is the president of TUMAS?")
    assert names_any(tumas, "TUMAS elected him.") and not names_any(tumas, "Tumas elected him.")
    assert not names_any(tumas, "Alumni include Carlos Salinas de Gortari.")
