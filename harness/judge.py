"""Judging multiple-choice answers: which letter did the model choose, and was it right.

``extract_choice`` reads free text and applies these rules, first match wins:

1. **Explicit answer.** A phrase "answer"/"choice"/"option" followed by "is", "would
   be", "should be", ":", "=" or "-" (or a LaTeX ``\\boxed{…}``), then a letter —
   ``B``, ``(B)``, ``B.``, ``option B`` — or the exact text of a choice. When the text
   holds several, the *last* one counts (models revise themselves, and the prompt asks
   for a final "Answer: X" line). An explicit answer naming two letters ("B or C") makes
   the whole reply ambiguous: ``None``.
2. **The whole reply is the choice**: ``B``, ``(b)``, ``**C**``, or a choice's text.
3. **A leading choice**: the reply starts with ``B.`` / ``B)`` followed by the text of
   choice B ("B. Paris").
4. **A final standalone letter**: the reply ends with a capital letter standing alone
   ("…so I pick C."), unless a negation comes right before it: "I think it's not A"
   gives ``None`` — it says what the answer is not, not what it is.

A letter must be within the choices' range; a lowercase letter counts only where it
cannot be the article "a" (followed by punctuation or the end, as in "the answer is
b."). Markdown and LaTeX markup (``*``, `````, ``$``, ``#``) is ignored. Anything else
is ``None``: no answer found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.datasets import LETTERS, DatasetItem

EXACT_CHOICE = "exact-choice"

_MARKUP = re.compile(r"[*`$#]")
_EXPLICIT = re.compile(
    r"(?:\b(?:answer|choice|option)\b\s*(?:(?:is|would\s+be|should\s+be|will\s+be)\b\s*|[:=\-–]\s*)+"
    r"|\\boxed\{\s*)(?P<rest>[^\n]*)",
    re.IGNORECASE,
)
_LEADING_WORDS = re.compile(
    r"^(?:\\boxed\{\s*)?(?:[(\[\"'“]\s*)?(?:(?:option|choice|letter)\s+)?", re.IGNORECASE
)
_LETTER = re.compile(r"\(?(?P<letter>[A-Za-z])(?![A-Za-z0-9'’])\)?(?P<after>.*)", re.DOTALL)
_SECOND_LETTER = re.compile(r"^\s*(?:or|and|/|,)\s*\(?[A-Z](?![A-Za-z0-9])")
_LOWERCASE_LETTER_ENDS = re.compile(r"^[\s]*(?:$|[.!;:,)\]}\"'”])")
_LEADING_CHOICE = re.compile(r"^\(?(?P<letter>[A-Z])[.):]\s+(?P<text>[^\n]+)")
_FINAL_LETTER = re.compile(
    r"(?P<before>[^\n]*?)(?<![A-Za-z0-9'’])\(?(?P<letter>[A-Z])\)?[.!]?\s*$"
)
_NEGATED = re.compile(
    r"\b(?:not|never|isn'?t|isn’t|no|except)\s+(?:(?:option|choice)\s+)?\(?$", re.IGNORECASE
)
_TRAILING_PUNCTUATION = " .!?,;:\"'”)]"

_AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """The judgement of one reply: ``answer`` is the extracted letter (``None`` when the
    reply gave none), ``expected`` the correct letter."""

    correct: bool
    expected: str
    answer: str | None
    judge: str = EXACT_CHOICE


def judge_choice(item: DatasetItem, response_text: str) -> Verdict:
    answer = extract_choice(response_text, item.choices)
    return Verdict(correct=answer == item.answer, expected=item.answer, answer=answer)


def extract_choice(response_text: str, choices: list[str]) -> str | None:
    """The letter (``"A"``…) the reply chose, or ``None`` if it chose none or was
    ambiguous; the rules are in this module's docstring."""
    text = _MARKUP.sub("", response_text).strip()
    letters = LETTERS[: len(choices)]
    explicit = [found for match in _EXPLICIT.finditer(text)
                if (found := _explicit_answer(match["rest"], letters, choices)) is not None]
    if explicit:
        return None if explicit[-1] == _AMBIGUOUS else explicit[-1]
    for rule in (_whole_reply, _leading_choice, _final_letter):
        found = rule(text, letters, choices)
        if found is not None:
            return found
    return None


def _explicit_answer(rest: str, letters: str, choices: list[str]) -> str | None:
    """What follows "answer is": a letter, ``_AMBIGUOUS``, or ``None`` if neither."""
    rest = _LEADING_WORDS.sub("", rest.strip())
    match = _LETTER.match(rest)
    if match is not None:
        letter, after = match["letter"], match["after"]
        acceptable = letter.isupper() or _LOWERCASE_LETTER_ENDS.match(after)
        if acceptable and letter.upper() in letters:
            return _AMBIGUOUS if _SECOND_LETTER.match(after) else letter.upper()
    return _choice_by_text(rest, choices)


def _whole_reply(text: str, letters: str, choices: list[str]) -> str | None:
    bare = text.strip(_TRAILING_PUNCTUATION + "([")
    if len(bare) == 1 and bare.upper() in letters:
        return bare.upper()
    return _choice_by_text(text, choices)


def _leading_choice(text: str, letters: str, choices: list[str]) -> str | None:
    match = _LEADING_CHOICE.match(text)
    if match is None or match["letter"] not in letters:
        return None
    stated = match["text"].strip(_TRAILING_PUNCTUATION).casefold()
    chosen = choices[letters.index(match["letter"])].strip(_TRAILING_PUNCTUATION).casefold()
    return match["letter"] if stated.startswith(chosen) else None


def _final_letter(text: str, letters: str, choices: list[str]) -> str | None:
    match = _FINAL_LETTER.search(text)
    if match is None or match["letter"] not in letters or _NEGATED.search(match["before"]):
        return None
    return match["letter"]


def _choice_by_text(text: str, choices: list[str]) -> str | None:
    """The letter of the one choice whose text is exactly ``text`` (ignoring case and
    trailing punctuation)."""
    wanted = text.strip().strip(_TRAILING_PUNCTUATION).casefold()
    matches = [index for index, choice in enumerate(choices)
               if choice.strip(_TRAILING_PUNCTUATION).casefold() == wanted]
    return LETTERS[matches[0]] if len(matches) == 1 else None
