"""Which letter a model's free-text reply chose (the rules are in harness/judge.py)."""

from __future__ import annotations

import pytest

from harness.datasets import DatasetItem
from harness.judge import EXACT_CHOICE, Verdict, extract_choice, judge_choice

CAPITALS = ["Paris", "London", "Berlin", "Rome"]

CASES = [
    # the reply is only the choice
    ("B", "B"),
    ("(B)", "B"),
    ("b", "B"),
    ("B.", "B"),
    ("**C**", "C"),
    ("  D \n", "D"),
    ("Paris", "A"),
    ("berlin.", "C"),
    # explicit answers
    ("Answer: B", "B"),
    ("The answer is b.", "B"),
    ("The correct answer is (C).", "C"),
    ("**Answer:** D", "D"),
    ("Answer: **D**", "D"),
    ("### Final answer: A", "A"),
    ("the answer is: option (c)", "C"),
    ("The best choice is B because London is the capital.", "B"),
    ("My answer would be C", "C"),
    ("Final answer: London.", "B"),
    ("The answer is $\\boxed{D}$", "D"),
    ("A and B are wrong, the answer is C", "C"),
    ("Let me think. A is tempting.\nB is wrong.\n\nAnswer: D", "D"),
    ("Answer: B\nOn reflection, that is wrong.\nAnswer: C", "C"),
    ("The answer is a bit tricky, but B", "B"),
    # a leading choice with its text, a final standalone letter
    ("B. London", "B"),
    ("C) Berlin, obviously.", "C"),
    ("Comparing the options carefully, I pick (D).", "D"),
    ("London is the capital of the UK, so B", "B"),
    # nothing usable, or more than one answer
    ("", None),
    ("I am not sure.", None),
    ("I think it's not A", None),
    ("It is definitely not (C).", None),
    ("A and B are wrong", None),
    ("Answer: B or C", None),
    ("The answer is B, C.", None),
    ("The answer is E", None),
    ("E", None),
    ("The answer is a city in Europe", None),
    ("B. Paris", None),
]


@pytest.mark.parametrize(("reply", "expected"), CASES, ids=[repr(case[0]) for case in CASES])
def test_the_chosen_letter_is_read_from_free_text(reply: str, expected: str | None) -> None:
    assert extract_choice(reply, CAPITALS) == expected


def test_a_letter_beyond_the_choices_is_no_answer_even_at_the_end() -> None:
    assert extract_choice("So the answer must be C", ["yes", "no"]) is None


def test_choice_texts_that_look_like_letters_are_matched_as_letters() -> None:
    assert extract_choice("Answer: A", ["A", "B", "C"]) == "A"


def test_a_correct_reply_is_judged_correct_and_names_the_expected_letter() -> None:
    item = DatasetItem(sequence=1, id="q1", question="Capital of the UK?", choices=CAPITALS,
                       answer="B")
    assert judge_choice(item, "Answer: B") == Verdict(correct=True, expected="B", answer="B",
                                                      judge=EXACT_CHOICE)


def test_a_reply_without_an_answer_is_judged_incorrect() -> None:
    item = DatasetItem(sequence=1, id="q1", question="Capital of the UK?", choices=CAPITALS,
                       answer="B")
    verdict = judge_choice(item, "I cannot tell.")
    assert (verdict.correct, verdict.answer, verdict.judge) == (False, None, "exact-choice")
