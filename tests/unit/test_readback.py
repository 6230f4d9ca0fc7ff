"""A finished run's details come back from the log exactly as the fold showed them,
or not at all."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import filelog
from events.filelog import FileLog
from events.log import LogReader, RecordBatch, Rotation
from events.writer import encode_line
from harness.live import LiveLog, replay
from harness.readback import HistoryChanged, RunDetails, shed_finished_runs
from projections.readmodels import ReadModels
from projections.shedding import shed_finished
from projections.state import DetailsNotHeld
from tests.support.events import run_history
from tests.support.folding import fold_lines
from tests.support.state import dump, dump_read_back, run_state
from tests.unit.test_properties import line_strategy


def _log(folder: str, lines: list[bytes]) -> tuple[FileLog, str]:
    log = FileLog(Path(folder) / "runs.jsonl")
    log.path.write_bytes(b"".join(lines))
    return log, anyio.run(log.current).generation


def _read_back(details: RunDetails, models: ReadModels, run_id: str):
    record = models.runs.runs[run_id]
    return anyio.run(lambda: details.of(record, generation=models.position.generation))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line_strategy, max_size=80))
def test_every_run_read_back_equals_the_fold_that_held_it(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log, generation = _log(folder, lines)
        held = fold_lines(ReadModels(), lines, generation)
        shed = fold_lines(ReadModels(), lines, generation)
        shed_finished(shed)
        details = RunDetails(log)
        for record in shed.runs.order:
            assert record.shed == (not record.active and not record.counts["running"])
            read = _read_back(details, shed, record.info.id)
            assert run_state(read) == run_state(held.runs.runs[record.info.id])


def _history(run_id: str = "r1") -> list[bytes]:
    return [encode_line(e) for e in run_history(run_id, total=4, answers=(True, False),
                                                finish="failed")]


def test_a_shed_run_holds_no_details_and_says_so() -> None:
    lines = _history()
    models = fold_lines(ReadModels(), lines, "g")
    shed_finished(models)
    record = models.runs.runs["r1"]
    for ask in (lambda: record.items, lambda: record.logs, lambda: record.item(1)):
        with pytest.raises(DetailsNotHeld):
            ask()
    # What the board, the archive and progress need stays.
    assert record.progress().completed == 2 and record.info.status == "failed"
    assert record.snapshot().recent_items[0].sequence == 2  # its board items
    assert len(record.positions) == len(lines)


def test_a_shed_run_that_changes_again_is_read_back_before_the_fold_applies_it() -> None:
    retry = [encode_line(e) for e in run_history("r1", total=4, answers=(True, False, True),
                                                 finish="completed")[2:]]
    first = _history() + [encode_line(e) for e in run_history("r2", finish=None)]
    lines = first + retry
    with tempfile.TemporaryDirectory() as folder:
        log, generation = _log(folder, lines)
        cold = fold_lines(ReadModels(), lines, generation)
        models = fold_lines(ReadModels(), first, generation)
        shed_finished(models)
        assert models.runs.runs["r1"].shed and not models.runs.runs["r2"].shed
        position = models.position
        with pytest.raises(AssertionError, match="shed its details"):  # no one to read it
            fold_lines(models, retry, generation, start=position.offset)
        assert models.position == position  # stopped before the run's event
        fold_lines(models, retry, generation, start=position.offset, details=RunDetails(log))
        assert not models.runs.runs["r1"].shed
        for run_id in ("r1", "r2"):
            assert run_state(models.runs.runs[run_id]) == run_state(cold.runs.runs[run_id])


def test_a_log_rewritten_under_the_same_history_is_refused_not_read_back() -> None:
    lines = _history("r1") + _history("r2")
    with tempfile.TemporaryDirectory() as folder:
        log, generation = _log(folder, lines)
        models = fold_lines(ReadModels(), lines, generation)
        shed_finished(models)
        # The same first line (so the same generation), the two runs' items swapped
        # for other answers of the same length: every offset still ends a line.
        rewritten = b"".join(lines).replace(b'"correct":true', b'"correct":fals').replace(
            b'"correct":fals', b'"correct":true', 1)
        assert rewritten != b"".join(lines)
        log.path.write_bytes(rewritten)
        assert anyio.run(log.current).generation == generation
        with pytest.raises(HistoryChanged):
            _read_back(RunDetails(log), models, "r2")
        # Truncated or replaced: no record there any more, or another history.
        log.path.write_bytes(b"".join(lines[:3]))
        with pytest.raises(HistoryChanged):
            _read_back(RunDetails(log), models, "r1")


def test_a_few_runs_read_back_are_kept() -> None:
    lines = [line for run in ("r1", "r2", "r3") for line in _history(run)]
    with tempfile.TemporaryDirectory() as folder:
        log, generation = _log(folder, lines)
        models = fold_lines(ReadModels(), lines, generation)
        shed_finished(models)
        details = RunDetails(log, cached_runs=2)
        first = _read_back(details, models, "r1")
        assert _read_back(details, models, "r1") is first
        assert (details.reads, details.hits) == (1, 1)
        _read_back(details, models, "r2")
        _read_back(details, models, "r3")  # r1 leaves the cache
        assert _read_back(details, models, "r1") is not first
        assert details.reads == 4


@pytest.mark.anyio
async def test_a_replay_reads_back_a_shed_run_that_its_tail_changes(tmp_path: Path) -> None:
    retry = [encode_line(e) for e in run_history("r1", total=4, answers=(True, False, True),
                                                 finish="completed")[2:]]
    first = _history() + _history("r2")
    log = FileLog(tmp_path / "runs.jsonl")
    log.path.write_bytes(b"".join(first + retry))
    generation = (await log.current()).generation
    models = await anyio.to_thread.run_sync(lambda: fold_lines(ReadModels(), first, generation))
    shed_finished(models)
    resumed = await replay(log.reader(after=models.position), models, details=RunDetails(log))
    cold = await replay(log.reader())
    assert resumed.position == cold.position
    assert not resumed.runs.runs["r1"].shed and resumed.runs.runs["r2"].shed
    assert run_state(resumed.runs.runs["r1"]) == run_state(cold.runs.runs["r1"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line_strategy, max_size=80), st.integers(1, 8), st.integers(1, 400))
def test_a_replay_that_sheds_as_it_goes_shows_what_one_that_does_not_shows(
        lines: list[bytes], shed_every: int, read_bytes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log, _ = _log(folder, lines)

        async def both() -> tuple[dict, dict]:
            whole = await replay(log.reader())
            details = RunDetails(log)
            shedding = await replay(_Small(log.reader(), read_bytes), details=details,
                                    shed_every_events=shed_every)
            return dump(whole), await dump_read_back(shedding, details)

        whole, shed = anyio.run(both)
        assert shed == whole


class _Small:
    """A reader handing out small batches, so that a replay sheds between them."""

    def __init__(self, reader: LogReader, max_bytes: int) -> None:
        self.reader, self.max_bytes = reader, max_bytes

    async def read(self, **_: object) -> RecordBatch | Rotation | None:
        return await self.reader.read(max_bytes=self.max_bytes)


class OutOfDescriptors:
    """``os`` as ``events.filelog`` sees it when no file descriptor is left: every open
    fails with EMFILE (the tailer, with its own ``os``, still reads)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def open(*_args: Any, **_kwargs: Any) -> int:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))


@pytest.mark.anyio
async def test_a_run_that_cannot_be_read_back_for_want_of_descriptors_is_folded_later_not_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EMFILE while reading a shed run back stops the poll; the next one takes the same
    batch up where its fold stopped, with no rebuild and nothing lost."""
    retry = [encode_line(e) for e in run_history("r1", total=4, answers=(True, False, True),
                                                 finish="completed")[2:]]
    path = tmp_path / "runs.jsonl"
    path.write_bytes(b"".join(_history() + _history("r2")))
    log = FileLog(path)
    live = LiveLog(log)
    await live.start()
    await shed_finished_runs(live.models)
    assert live.models.runs.runs["r1"].shed
    with path.open("ab") as out:
        out.write(b"".join(retry))
    with monkeypatch.context() as patched:
        patched.setattr(filelog, "os", OutOfDescriptors())
        with pytest.raises(OSError):
            await live.poll()
    await live.poll()
    cold = await replay(log.reader())
    assert live.resets == 0
    assert live.position == cold.position
    assert run_state(live.models.runs.runs["r1"]) == run_state(cold.runs.runs["r1"])
    await log.aclose()


@pytest.mark.anyio
async def test_a_run_read_back_for_a_reader_is_not_changed_under_it_when_the_run_goes_on(
        tmp_path: Path) -> None:
    """A resume may go through a run read back across awaits: when the run changes again
    meanwhile, the fold works on its own copy, not on the one the reader holds."""
    retry = [encode_line(e) for e in run_history("r1", total=4, answers=(True, False, True),
                                                 finish="completed")[2:]]
    path = tmp_path / "runs.jsonl"
    path.write_bytes(b"".join(_history()))
    log = FileLog(path)
    live = LiveLog(log)
    await live.start()
    await shed_finished_runs(live.models)
    held = await live.details.of(live.models.runs.runs["r1"],
                                 generation=live.position.generation)
    before = run_state(held)
    with path.open("ab") as out:
        out.write(b"".join(retry))
    await live.poll()
    assert run_state(held) == before
    assert run_state(live.models.runs.runs["r1"]) != before
    await log.aclose()
