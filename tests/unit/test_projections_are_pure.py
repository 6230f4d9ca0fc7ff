"""Projections are pure folds: no I/O, no clocks, no randomness, no server code.

The server, the CLI and the benchmarks share them; a fold that logged, read a file or
raised an API error would tie them all to one of those callers.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest

from events.log import batch_of_lines
from projections.readmodels import ReadModels

PROJECTIONS = Path(__file__).resolve().parents[2] / "projections"
# The server's packages, and the standard modules that reach outside the process.
FORBIDDEN = {"harness", "web", "logging", "os", "pathlib", "time", "random", "socket",
             "subprocess", "threading", "asyncio", "anyio", "uuid", "secrets"}


def imported_packages(source: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_no_projection_imports_the_server_or_reaches_outside_the_process() -> None:
    offenders = {source.name: sorted(imported_packages(source) & FORBIDDEN)
                 for source in sorted(PROJECTIONS.glob("*.py"))}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_a_chunk_returns_its_problems_and_logs_nothing(caplog: pytest.LogCaptureFixture
                                                       ) -> None:
    models = ReadModels()
    data = b'{}\noops\n{"type":"run_started","runId":"nobody"}\n'
    with caplog.at_level(logging.DEBUG):
        applied = models.apply_batch(batch_of_lines(data, start=0, generation="g"))
        replayed = ReadModels().apply_batch(batch_of_lines(data, start=0, generation="g"),
                                            keep_records=False)
    kinds = [problem.kind for problem in applied.problems]
    assert kinds == ["unknown_type", "invalid_json", "unknown_run"]
    assert replayed.problems == applied.problems
    assert list(models.problems.recent) == applied.problems
    assert caplog.records == []
