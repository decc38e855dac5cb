"""The question adapter and the shortlist's scope, on the real model and the bundled article."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from assistant.core import Assistant
from assistant.features import _paragraphs_of
from assistant.question import Adapter, focused, question_vectors, unknown_names
from assistant.ranking import shipped_ranker


def test_adapter_knows_policy_questions_better_than_others(assistant: Assistant) -> None:
    adapter = shipped_ranker().adapter
    policy, article, chit_chat = assistant.embedder.embed(
        [
            "Do you share my personal information with third parties?",
            "What did the CEO write in his open letter?",
            "Write me a poem about cats",
        ]
    )
    assert adapter.exemplar(policy).familiarity > 0.8
    assert adapter.exemplar(article).familiarity < 0.6
    assert adapter.exemplar(chit_chat).familiarity < 0.6


def test_adapter_moves_a_question_but_keeps_it_unit_length(assistant: Assistant) -> None:
    question = assistant.embedder.embed(["How long do you keep my data?"])[0]
    moved = shipped_ranker().adapter.move(question)
    assert abs(float(np.linalg.norm(moved)) - 1.0) < 1e-5
    assert 0.3 < float(moved @ question) < 0.999  # moved, not replaced


def test_exemplar_answer_looks_like_an_answer_more_than_the_question_does(
    assistant: Assistant,
) -> None:
    question, answer, other = assistant.embedder.embed(
        [
            "Does the company collect information from children?",
            "We do not knowingly collect personal information from anyone under the age of 13.",
            "We use cookies to remember your preferences between visits.",
        ]
    )
    exemplar = shipped_ranker().adapter.exemplar(question).vector
    assert abs(float(np.linalg.norm(exemplar)) - 1.0) < 1e-5
    assert float(exemplar @ answer) > float(question @ answer) + 0.05  # measured: 0.57 vs 0.45
    assert float(exemplar @ answer) > float(exemplar @ other) + 0.1


def test_exemplar_is_the_question_when_nothing_answered_its_neighbours() -> None:
    question = np.eye(4, dtype=np.float32)[0]
    terms = np.array([["", ""], ["", ""]])
    empty = Adapter(
        np.zeros((4, 4), np.float32),
        np.eye(4, dtype=np.float32)[:2],
        np.zeros((2, 4), np.float32),
        terms,
        np.zeros((2, 2), np.float32),
    )
    assert empty.exemplar(question).vector is question
    assert empty.exemplar(question).terms == {}
    none = np.zeros((0, 4), np.float32)
    nothing_fitted = Adapter(empty.matrix, none, none, np.zeros((0, 2), str), none[:, :2])
    assert nothing_fitted.exemplar(question).vector is question
    assert nothing_fitted.exemplar(question).terms == {}
    answered = replace(empty, answers=np.eye(4, dtype=np.float32)[2:])
    assert answered.exemplar(question).vector @ np.eye(4)[2] > 0.99  # the nearest question's answer


def test_exemplar_terms_are_the_nearest_answers_words_by_share() -> None:
    adapter = Adapter(
        np.zeros((2, 2), np.float32),
        np.eye(2, dtype=np.float32),
        np.eye(2, dtype=np.float32),
        np.array([["children", "13"], ["cookies", ""]]),
        np.array([[1.0, 0.5], [1.0, 0.0]], np.float32),
    )
    terms = adapter.exemplar(np.array([1.0, 0.0], np.float32)).terms
    assert list(terms) == ["children", "13", "cookies"]  # the nearer question's words first
    assert terms["children"] > 0.99 and terms["cookies"] < 0.01


def test_scope_is_every_passage_of_the_rows_paragraphs(assistant: Assistant) -> None:
    index = assistant.index
    rows = np.array([0, len(index) // 2, len(index) - 1], dtype=np.int32)
    scope = _paragraphs_of(index, rows)
    wanted = set(index.paragraph_of[rows].tolist())
    expected = [i for i in range(len(index)) if int(index.paragraph_of[i]) in wanted]
    assert scope.tolist() == expected


def test_focused_question_drops_the_corpus_subject_only(assistant: Assistant) -> None:
    index = assistant.index
    # In the bundled letter the company and the platform are named in most sentences.
    assert focused(index, "Why did Twitter ban Kaspersky's ads?") == "Why did ban ads?"
    assert focused(index, "What does the EFF do?") == "What does the EFF do?"
    # A question made only of the subject keeps it: there would be nothing left to ask.
    assert focused(index, "Kaspersky and Twitter?") == "Kaspersky and Twitter?"


def test_question_vectors_are_the_question_and_its_focus(assistant: Assistant) -> None:
    index, embedder = assistant.index, assistant.embedder
    vectors = question_vectors(index, embedder, "Why did Twitter ban Kaspersky's ads?")
    expected = embedder.embed(["Why did Twitter ban Kaspersky's ads?", "Why did ban ads?"])
    assert vectors.shape == (2, 384)
    assert np.allclose(vectors, expected, atol=1e-5)


def test_names_the_documents_never_mention_are_counted(assistant: Assistant) -> None:
    index = assistant.index
    assert unknown_names(index, "Did Facebook also ban the ads?") == ["Facebook"]
    assert unknown_names(index, "Is Linux supported on Tokyo servers?") == ["Linux", "Tokyo"]
    # The first word is capitalised because it starts the question, not because it is a name.
    assert len(unknown_names(index, "Bananas: does the letter mention them?")) == 0
    assert len(unknown_names(index, "What does the EFF do according to Kaspersky?")) == 0
    assert len(unknown_names(index, "I read the letter. Bananas aside, did Twitter reply?")) == 0
    assert len(unknown_names(index, "I read the letter. Bananas aside, did Facebook reply?")) == 1
