"""Snapshots: loading one and folding the rest equals a cold replay; doubtful ones are
ignored."""

from __future__ import annotations

import tempfile
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.filelog import FileLog
from events.position import Position
from events.writer import encode_line
from harness.readback import RunDetails
from harness.snapshots import SnapshotStore
from projections import snapshot
from projections.readmodels import ReadModels
from projections.shedding import shed_finished
from tests.support.events import run_history
from tests.support.folding import fold_lines
from tests.support.state import dump
from tests.unit.test_properties import line_strategy

GENERATION = "abc123"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line_strategy, max_size=60), st.integers(0, 60), st.booleans())
def test_a_snapshot_plus_the_tail_equals_a_cold_replay(lines: list[bytes], cut: int,
                                                       shed: bool) -> None:
    cut = min(cut, len(lines))
    with tempfile.TemporaryDirectory() as folder:
        log = FileLog(Path(folder) / "runs.jsonl")
        log.path.write_bytes(b"".join(lines))
        generation = anyio.run(log.current).generation
        details = RunDetails(log)
        cold = fold_lines(ReadModels(), lines, generation)
        before = fold_lines(ReadModels(), lines[:cut], generation)
        if shed:  # what a periodic snapshot does to the live models
            shed_finished(before)
        restored = snapshot.decode(snapshot.encode(before))
        assert dump(restored, details=details) == dump(before, details=details)
        assert restored.position == before.position
        # The tail may change runs the snapshot holds shed: they are read back first.
        resumed = fold_lines(restored, lines[cut:], generation,
                             start=restored.position.offset, details=details)
        assert dump(resumed, details=details) == dump(cold)
        assert resumed.position == cold.position
        assert resumed.runs.index.by_status == cold.runs.index.by_status


def _models(lines: list[bytes]) -> ReadModels:
    return fold_lines(ReadModels(), lines, GENERATION)


@pytest.fixture
def history() -> list[bytes]:
    return [encode_line(e) for e in run_history("r1", total=3, answers=(True, False, True))]


def test_a_corrupted_snapshot_is_refused(history: list[bytes]) -> None:
    data = bytearray(snapshot.encode(_models(history)))
    data[-10] ^= 0x01
    with pytest.raises(snapshot.SnapshotRefused, match="checksum"):
        snapshot.decode(bytes(data))
    with pytest.raises(snapshot.SnapshotRefused):
        snapshot.decode(bytes(data[: len(data) // 2]))
    with pytest.raises(snapshot.SnapshotRefused):
        snapshot.decode(b"not a snapshot\n")


def test_a_snapshot_of_other_folds_is_refused(history: list[bytes]) -> None:
    data = snapshot.encode(_models(history)).replace(
        b'"fold_version":%d' % snapshot.FOLD_VERSION, b'"fold_version":999', 1)
    with pytest.raises(snapshot.SnapshotRefused, match="fold version 999"):
        snapshot.decode(data)


def test_the_store_loads_the_newest_valid_snapshot_of_the_logs_history(
        history: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SnapshotStore(Path(folder), keep=5)
        early = _models(history[:3])
        full = _models(history)
        store.write(snapshot.encode(early), early.position)
        newest = store.write(snapshot.encode(full), full.position)
        end = full.position
        loaded = store.load(end)
        assert loaded is not None and loaded.path == newest
        assert dump(loaded.models) == dump(full)
        # A history the log no longer is (replaced, truncated): nothing to load.
        assert store.load(Position("fff000", end.offset)) is None
        # A log shorter than the newest snapshot: the older one that fits.
        shorter = store.load(Position(GENERATION, early.position.offset))
        assert shorter is not None and shorter.models.position == early.position
        # The log rewritten in place under the same generation: its record at the
        # snapshot's position is not the one the snapshot was taken after.
        assert store.load(end, record_at=lambda position: b'{"type": "other"}') is None
        # The newest one torn or corrupted on disk: the previous one instead.
        newest.write_bytes(newest.read_bytes()[:-7])
        fallback = store.load(end)
        assert fallback is not None and fallback.models.position == early.position
