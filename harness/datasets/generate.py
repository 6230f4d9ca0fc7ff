"""Generate the built-in sample datasets, deterministically.

    python harness/datasets/generate.py [OUT_DIR]

writes ``arithmetic.jsonl`` and ``logic.jsonl`` into OUT_DIR (default: this script's
directory). Each dataset has its own fixed seed, so running it again reproduces the
committed files byte for byte (a test checks this). Only the standard library is used.

``arithmetic`` gives its answers as letters, ``logic`` as choice texts, so that the
built-ins exercise both forms that SPEC §7.3 allows.
"""

from __future__ import annotations

import itertools
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

ARITHMETIC_SIZE = 300
LOGIC_SIZE = 200
LETTERS = "ABCD"

Item = dict[str, object]


# --- arithmetic: multi-step integer expressions; distractors are the usual slips ----


def _arithmetic_expression(rng: random.Random) -> tuple[str, int, list[int]]:
    """An expression, its value, and values a hurried solver would plausibly get."""
    a, b, c, d = (rng.randint(2, 19) for _ in range(4))
    shape = rng.randrange(6)
    if shape == 0:
        return f"{a} + {b} × {c} - {d}", a + b * c - d, [(a + b) * c - d, a + b * c + d]
    if shape == 1:
        return f"({a} - {b}) × {c} + {d}", (a - b) * c + d, [a - b * c + d, (b - a) * c + d]
    if shape == 2:
        return f"{a} × {b} + {c} × {d}", a * b + c * d, [(a * b + c) * d, a * b + c + d]
    if shape == 3:
        return f"({a} + {b}) × ({c} - {d})", (a + b) * (c - d), [a + b * c - d, (a + b) * (d - c)]
    if shape == 4:
        return f"{a} - {b} × {c} + {d}", a - b * c + d, [(a - b) * c + d, a - b * c - d]
    quotient = rng.randint(2, 12)
    return (f"{quotient * c} ÷ {c} + {a} × {b}", quotient + a * b,
            [(quotient + a) * b, quotient + a + b])


def arithmetic_item(rng: random.Random, number: int) -> Item:
    expression, value, slips = _arithmetic_expression(rng)
    near_misses = [value + 1, value - 1, value + 10, value - 10, -value]
    distractors = [x for x in dict.fromkeys(slips + rng.sample(near_misses, len(near_misses)))
                   if x != value][:3]
    choices = [value, *distractors]
    rng.shuffle(choices)
    return {"id": f"arithmetic-{number:03d}", "question": f"What is {expression}?",
            "choices": [str(x) for x in choices], "answer": LETTERS[choices.index(value)]}


# --- logic: syllogisms, conditionals, orderings, boolean expressions ----------------

YES, NO, UNKNOWN = "Yes", "No", "Cannot be determined"
NONSENSE = ["blickets", "dax", "wugs", "feps", "toma", "zorbs", "glims", "prends", "lorps",
            "vims", "quills", "sneeps", "trogs", "marfs", "pleens", "dribs"]
PEOPLE = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun"]
RELATIONS = [("taller", "shorter", "tallest", "shortest"),
             ("older", "younger", "oldest", "youngest"),
             ("faster", "slower", "fastest", "slowest")]
CONDITIONS = [("it rains", "the street is wet"), ("the alarm rings", "Mia wakes up"),
              ("the switch is on", "the lamp glows"), ("Leo studies", "Leo passes"),
              ("the oven is hot", "the bread bakes"), ("the gate is open", "the dog runs out")]


def syllogism(rng: random.Random) -> tuple[str, list[str], str]:
    a, b, c = rng.sample(NONSENSE, 3)
    form = rng.randrange(4)
    if form == 0:
        premises, question, answer = f"All {a} are {b}. All {b} are {c}.", f"Are all {a} {c}?", YES
    elif form == 1:
        premises, question, answer = (f"All {a} are {b}. Some {b} are {c}.",
                                      f"Are some {a} definitely {c}?", UNKNOWN)
    elif form == 2:
        premises, question, answer = (f"No {a} are {b}. All {c} are {a}.",
                                      f"Can any of the {c} be {b}?", NO)
    else:
        premises, question, answer = (f"All {a} are {b}. No {b} are {c}.",
                                      f"Can any of the {a} be {c}?", NO)
    return f"{premises} {question}", [YES, NO, UNKNOWN], answer


def conditional(rng: random.Random) -> tuple[str, list[str], str]:
    cause, effect = rng.choice(CONDITIONS)
    form = rng.randrange(4)
    rule = f"Whenever {cause}, {effect}."
    if form == 0:
        return f"{rule} Today {cause}. Is it true that {effect}?", [YES, NO, UNKNOWN], YES
    if form == 1:
        return (f"{rule} Today it is not true that {effect}. Is it true that {cause}?",
                [YES, NO, UNKNOWN], NO)
    if form == 2:
        return f"{rule} Today {effect}. Is it true that {cause}?", [YES, NO, UNKNOWN], UNKNOWN
    return (f"{rule} Today it is not true that {cause}. Is it true that {effect}?",
            [YES, NO, UNKNOWN], UNKNOWN)


def ordering(rng: random.Random) -> tuple[str, list[str], str]:
    people = rng.sample(PEOPLE, 4)  # people[0] has the most of the quality
    more, less, most, least = rng.choice(RELATIONS)
    facts = []
    for first, second in itertools.pairwise(people):
        facts.append(f"{first} is {more} than {second}." if rng.random() < 0.5
                     else f"{second} is {less} than {first}.")
    rng.shuffle(facts)
    asked = rng.randrange(4)
    question, answer = [(f"Who is the {most}?", people[0]),
                        (f"Who is the {least}?", people[3]),
                        (f"Who is the second {most}?", people[1]),
                        (f"Who is the second {least}?", people[2])][asked]
    return f"{' '.join(facts)} {question}", sorted(people), answer


def _boolean_expression(rng: random.Random) -> tuple[str, Callable[[dict[str, bool]], bool]]:
    x, y, z = rng.sample("pqr", 3)
    shapes: list[tuple[str, Callable[[dict[str, bool]], bool]]] = [
        (f"{x} and {y}", lambda v: v[x] and v[y]),
        (f"{x} or not {y}", lambda v: v[x] or not v[y]),
        (f"not ({x} or {y})", lambda v: not (v[x] or v[y])),
        (f"({x} and not {y}) or {z}", lambda v: (v[x] and not v[y]) or v[z]),
        (f"{x} and ({y} or {z})", lambda v: v[x] and (v[y] or v[z])),
        (f"not {x} and not {z}", lambda v: not v[x] and not v[z]),
    ]
    return rng.choice(shapes)


def boolean(rng: random.Random) -> tuple[str, list[str], str]:
    values = {name: rng.random() < 0.5 for name in "pqr"}
    true: list[str] = []
    false: list[str] = []
    while len(true) < 1 or len(false) < 3:
        text, evaluate = _boolean_expression(rng)
        bucket = true if evaluate(values) else false
        if text not in true + false:
            bucket.append(text)
    choices = [true[0], *false[:3]]
    rng.shuffle(choices)
    assignment = ", ".join(f"{name} = {values[name]}" for name in "pqr")
    return (f"Let {assignment}. Which of these expressions is True?", choices, true[0])


def logic_item(rng: random.Random, number: int) -> Item:
    kind = [syllogism, conditional, ordering, boolean][number % 4]
    question, choices, answer = kind(rng)
    return {"id": f"logic-{number:03d}", "question": question, "choices": choices,
            "answer": answer}


DATASETS: dict[str, tuple[int, int, Callable[[random.Random, int], Item]]] = {
    "arithmetic": (20260301, ARITHMETIC_SIZE, arithmetic_item),
    "logic": (20260302, LOGIC_SIZE, logic_item),
}


def render(name: str) -> str:
    seed, size, make = DATASETS[name]
    rng = random.Random(seed)
    lines = (json.dumps(make(rng, number), ensure_ascii=False) for number in range(1, size + 1))
    return "".join(f"{line}\n" for line in lines)


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in DATASETS:
        (out_dir / f"{name}.jsonl").write_text(render(name), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
