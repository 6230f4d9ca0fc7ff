"""Datasets: built-in samples, user files, normalisation and the errors a user sees."""

from __future__ import annotations

import json
import os
import runpy
from pathlib import Path

import pytest

from harness.datasets import (
    BUILTIN_DIR,
    DatasetCatalog,
    DatasetInfo,
    DatasetItem,
    render_prompt,
)
from harness.errors import Invalid, NotFound


def write_dataset(directory: Path, name: str, lines: list[object]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.jsonl"
    path.write_text("".join(
        (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


QUESTION = {"question": "2 + 2?", "choices": ["3", "4", "5"], "answer": "B"}


def test_built_in_datasets_are_listed_with_their_sizes(tmp_path: Path) -> None:
    assert DatasetCatalog(tmp_path / "missing").list() == [
        DatasetInfo(name="arithmetic", source="builtin", size=300),
        DatasetInfo(name="logic", source="builtin", size=200),
    ]


def test_built_in_files_are_small() -> None:
    assert all(path.stat().st_size < 200_000 for path in BUILTIN_DIR.glob("*.jsonl"))


def test_built_in_files_are_exactly_what_the_generator_produces(tmp_path: Path) -> None:
    generator = runpy.run_path(str(BUILTIN_DIR / "generate.py"))
    generator["main"](tmp_path)
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (BUILTIN_DIR / path.name).read_bytes(), path.name


def test_user_datasets_follow_built_ins_sorted_by_name(tmp_path: Path) -> None:
    write_dataset(tmp_path, "zeta", [QUESTION])
    write_dataset(tmp_path, "alpha", [QUESTION, QUESTION | {"id": "two"}])
    (tmp_path / "not a name!.jsonl").write_text(json.dumps(QUESTION) + "\n")
    (tmp_path / "notes.txt").write_text("ignored")
    listed = [(info.name, info.source, info.size) for info in DatasetCatalog(tmp_path).list()]
    assert listed == [("arithmetic", "builtin", 300), ("logic", "builtin", 200),
                      ("alpha", "user", 2), ("zeta", "user", 1)]


def test_a_user_file_named_like_a_built_in_replaces_it(tmp_path: Path) -> None:
    write_dataset(tmp_path, "logic", [QUESTION])
    catalog = DatasetCatalog(tmp_path)
    assert [(info.name, info.source) for info in catalog.list()] == [
        ("arithmetic", "builtin"), ("logic", "user")]
    dataset = catalog.load("logic")
    assert (dataset.source, len(dataset.items)) == ("user", 1)


def test_a_malformed_user_file_is_listed_with_its_error(tmp_path: Path) -> None:
    write_dataset(tmp_path, "broken", [QUESTION, "{not json"])
    [info] = [info for info in DatasetCatalog(tmp_path).list() if info.source == "user"]
    assert (info.size, info.error is not None and "line 2" in info.error) == (0, True)


def test_items_are_normalised_to_letter_answers_in_line_order(tmp_path: Path) -> None:
    write_dataset(tmp_path, "mixed", [
        {"id": 7, "question": " Capital of France? ", "choices": ["Rome", "Paris"],
         "answer": "Paris"},
        "",
        {"question": "Pick the vowel", "choices": ["b", "a", "c"], "answer": "c"},
    ])
    assert DatasetCatalog(tmp_path).load("mixed").items == [
        DatasetItem(sequence=1, id="7", question="Capital of France?", choices=["Rome", "Paris"],
                    answer="B"),
        DatasetItem(sequence=2, id="2", question="Pick the vowel", choices=["b", "a", "c"],
                    answer="C"),
    ]


@pytest.mark.parametrize(("bad_line", "problem"), [
    ("{oops", "not valid JSON"),
    ({"choices": ["a", "b"], "answer": "A"}, "missing required field `question`"),
    (QUESTION | {"question": "  "}, "question is empty"),
    (QUESTION | {"choices": ["only"]}, "at least 2 choices"),
    (QUESTION | {"choices": "abc"}, "Expected `array`"),
    (QUESTION | {"choices": ["x", "x"]}, "distinct"),
    (QUESTION | {"answer": "D"}, "neither a letter A-C nor the text"),
    (QUESTION | {"answer": "four"}, "neither a letter A-C nor the text"),
    (QUESTION | {"id": "first"}, "already used on line 1"),
], ids=["json", "question", "blank-question", "one-choice", "choices-type", "duplicate-choices",
        "letter-out-of-range", "unknown-text", "duplicate-id"])
def test_a_bad_line_is_reported_with_the_file_and_line_number(
        tmp_path: Path, bad_line: object, problem: str) -> None:
    write_dataset(tmp_path, "faulty", [QUESTION | {"id": "first"}, bad_line])
    with pytest.raises(Invalid) as raised:
        DatasetCatalog(tmp_path).load("faulty")
    assert "'faulty.jsonl', line 2:" in raised.value.message
    assert problem in raised.value.message
    assert raised.value.details == {"file": "faulty.jsonl", "line": 2}


def test_an_unknown_dataset_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound) as raised:
        DatasetCatalog(tmp_path).load("nope")
    assert raised.value.details == {"kind": "dataset", "id": "nope"}


@pytest.mark.parametrize("name", ["../secrets", "a/b", ".hidden", "", "x" * 65, "logic.jsonl/"])
def test_names_that_could_leave_the_directory_are_invalid(tmp_path: Path, name: str) -> None:
    with pytest.raises(Invalid):
        DatasetCatalog(tmp_path).load(name)


def test_a_dataset_is_parsed_again_only_after_its_file_changes(tmp_path: Path) -> None:
    path = write_dataset(tmp_path, "growing", [QUESTION])
    catalog = DatasetCatalog(tmp_path)
    first = catalog.load("growing")
    assert catalog.load("growing") is first
    write_dataset(tmp_path, "growing", [QUESTION, QUESTION | {"id": "second"}])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert len(catalog.load("growing").items) == 2


def test_the_prompt_shows_the_question_lettered_choices_and_how_to_answer() -> None:
    item = DatasetItem(sequence=1, id="1", question="2 + 2?", choices=["3", "4", "5"], answer="B")
    prompt = render_prompt(item)
    assert prompt.startswith("2 + 2?\n")
    assert "\nA. 3\nB. 4\nC. 5\n" in prompt
    assert "Answer: <letter>" in prompt
