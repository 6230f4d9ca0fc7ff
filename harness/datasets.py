"""Multiple-choice datasets (SPEC §7.3): the built-in samples and the user's own files.

A dataset is a JSONL file, one item per line: ``{"id"?, "question", "choices": [...],
"answer"}`` where ``answer`` is a letter (``"B"``) or the text of one choice. Blank lines
are ignored. Every item is normalised so that ``answer`` is always the letter.

Built-in datasets ship inside the package (``harness/datasets/*.jsonl``, made by
``harness/datasets/generate.py``); user datasets are ``<user_dir>/NAME.jsonl``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from harness.errors import Invalid, NotFound

BUILTIN_DIR = Path(__file__).with_name("datasets")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DatasetName = Annotated[str, Meta(pattern=NAME_PATTERN.pattern,
                                  description="a built-in or user dataset's name")]
LETTERS = string.ascii_uppercase
MAX_CHOICES = len(LETTERS)

Source = Literal["builtin", "user"]


@dataclass(frozen=True, kw_only=True)
class DatasetItem:
    """One question. ``sequence`` is its 1-based order among the file's items; ``answer``
    is always the letter of the correct choice (``"A"`` for the first)."""

    sequence: int
    id: str
    question: str
    choices: list[str]
    answer: str


@dataclass(frozen=True, kw_only=True)
class Dataset:
    name: str
    source: Source
    items: list[DatasetItem]


class DatasetInfo(msgspec.Struct, rename="camel", frozen=True, kw_only=True, omit_defaults=True):
    """What ``GET /api/datasets`` lists. ``size`` is the number of items; a user file that
    cannot be parsed is still listed, with ``size`` 0 and ``error`` saying why."""

    name: str
    source: Source
    size: int
    error: str | None = None


class _Line(msgspec.Struct, forbid_unknown_fields=False):
    question: str
    choices: list[str]
    answer: str
    id: str | int | None = None


_line_decoder = msgspec.json.Decoder(_Line)


def check_name(name: str) -> None:
    """Refuse anything that is not a plain file name stem (no ``/``, no ``..``)."""
    if not NAME_PATTERN.match(name):
        raise Invalid(
            f"invalid dataset name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            details={"field": "datasetName"},
        )


class DatasetCatalog:
    """The datasets a run can use: built-in samples and ``user_dir/NAME.jsonl``.

    A user file whose name is also a built-in's takes its place: ``load`` returns the
    user's file and ``list`` shows only the user's entry. User files whose names are
    not valid dataset names are ignored, since they could never be loaded by name.
    Parsed datasets are cached by path, modification time and size, so a file is
    parsed again only after it changes.
    """

    def __init__(self, user_dir: Path, *, builtin_dir: Path = BUILTIN_DIR) -> None:
        self._user_dir = user_dir
        self._builtin_dir = builtin_dir
        self._cache: dict[Path, tuple[tuple[int, int], Dataset]] = {}

    def list(self) -> list[DatasetInfo]:
        """Built-in datasets first, then user datasets, each group sorted by name."""
        user = _names(self._user_dir)
        builtin = _names(self._builtin_dir) - user
        return ([self._info(name, "builtin") for name in sorted(builtin)]
                + [self._info(name, "user") for name in sorted(user)])

    def load(self, name: str) -> Dataset:
        """The dataset called ``name``; ``NotFound`` if there is none, ``Invalid`` if its
        file has a malformed line (the message names the file and line)."""
        check_name(name)
        places: tuple[tuple[Source, Path], ...] = (("user", self._user_dir),
                                                   ("builtin", self._builtin_dir))
        for source, directory in places:
            path = directory / f"{name}.jsonl"
            try:
                stat = path.stat()
            except (FileNotFoundError, NotADirectoryError):
                continue
            key = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(path)
            if cached is not None and cached[0] == key:
                return cached[1]
            try:
                content = path.read_bytes()
            except OSError as error:
                raise Invalid(f"dataset file {path.name!r} cannot be read: {error.strerror}",
                              details={"file": path.name}) from None
            items = parse_items(content, file_name=path.name)
            dataset = Dataset(name=name, source=source, items=items)
            self._cache[path] = (key, dataset)
            return dataset
        raise NotFound("dataset", name)

    def _info(self, name: str, source: Source) -> DatasetInfo:
        try:
            return DatasetInfo(name=name, source=source, size=len(self.load(name).items))
        except Invalid as error:
            return DatasetInfo(name=name, source=source, size=0, error=error.message)


def _names(directory: Path) -> set[str]:
    if not directory.is_dir():
        return set()
    return {path.stem for path in directory.glob("*.jsonl")
            if path.is_file() and NAME_PATTERN.match(path.stem)}


def parse_items(content: bytes, *, file_name: str) -> list[DatasetItem]:
    """Every item of a JSONL dataset, in line order; ``Invalid`` at the first bad line."""
    items: list[DatasetItem] = []
    first_line_of_id: dict[str, int] = {}
    for line_number, line in enumerate(content.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            item = _parse_line(line, sequence=len(items) + 1)
            if item.id in first_line_of_id:
                raise _BadLine(f"id {item.id!r} already used on line {first_line_of_id[item.id]}")
        except _BadLine as problem:
            raise Invalid(f"dataset file {file_name!r}, line {line_number}: {problem}",
                          details={"file": file_name, "line": line_number}) from None
        first_line_of_id[item.id] = line_number
        items.append(item)
    return items


class _BadLine(Exception):
    """What is wrong with one line; ``parse_items`` adds the file and line number."""


def _parse_line(line: bytes, *, sequence: int) -> DatasetItem:
    try:
        raw = _line_decoder.decode(line)
    except msgspec.ValidationError as error:
        raise _BadLine(str(error)) from None
    except msgspec.DecodeError as error:
        raise _BadLine(f"not valid JSON ({error})") from None
    except UnicodeDecodeError:
        raise _BadLine("not valid UTF-8") from None
    except RecursionError:
        raise _BadLine("nested too deeply") from None
    question = raw.question.strip()
    if not question:
        raise _BadLine("question is empty")
    choices = [choice.strip() for choice in raw.choices]
    if len(choices) < 2:
        raise _BadLine(f"needs at least 2 choices, has {len(choices)}")
    if len(choices) > MAX_CHOICES:
        raise _BadLine(f"has {len(choices)} choices, at most {MAX_CHOICES} can be lettered")
    if not all(choices):
        raise _BadLine("a choice is empty")
    if len(set(choices)) != len(choices):
        raise _BadLine("choices must be distinct")
    answer = answer_letter(raw.answer, choices)
    if answer is None:
        raise _BadLine(f"answer {raw.answer!r} is neither a letter "
                       f"A-{LETTERS[len(choices) - 1]} nor the text of one of the choices")
    identifier = str(sequence) if raw.id is None else str(raw.id)
    return DatasetItem(sequence=sequence, id=identifier, question=question, choices=choices,
                       answer=answer)


def answer_letter(answer: str, choices: list[str]) -> str | None:
    """The letter an answer key means: a single letter in range (either case) is that
    letter; otherwise the exact text of a choice stands for its letter."""
    answer = answer.strip()
    if len(answer) == 1 and answer.upper() in LETTERS[: len(choices)]:
        return answer.upper()
    if answer in choices:
        return LETTERS[choices.index(answer)]
    return None


def render_prompt(item: DatasetItem) -> str:
    """The text a model is asked: the question, the lettered choices and how to answer."""
    lines = [item.question, ""]
    lines += [f"{LETTERS[index]}. {choice}" for index, choice in enumerate(item.choices)]
    last = LETTERS[len(item.choices) - 1]
    lines += ["", f"Answer with the letter of the correct choice (A-{last}), "
                  "ending your reply with a line of the form \"Answer: <letter>\"."]
    return "\n".join(lines)

