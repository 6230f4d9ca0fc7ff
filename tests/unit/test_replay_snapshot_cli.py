"""``python -m harness replay`` starts from the server's newest snapshot beside the log,
shows exactly what a full fold shows, and ``--no-snapshot`` forces the full fold."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from events import schema as ev
from events.filelog import FileLog
from harness.cli import fold, main
from harness.snapshots import FOLDER, SnapshotStore
from projections import snapshot
from tests.support.events import TS, append, run_history
from tests.support.state import dump


def test_replay_from_a_snapshot_shows_what_the_whole_log_shows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "runs.jsonl"
    append(log, *run_history("alpha", total=2, answers=(True, False)))
    models = fold(FileLog(log))
    last_line = log.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    store = SnapshotStore(tmp_path / FOLDER)
    store.write(snapshot.encode(models, last_record=last_line), models.position)
    append(log, *run_history("beta", total=3, answers=(True,), finish=None),
           ev.RunLog(run_id="alpha", level="info", message="later", ts=TS))

    file_log = FileLog(log)
    loaded = store.load(anyio.run(file_log.current),
                        record_at=lambda at: anyio.run(file_log.read_at, [at])[0])
    assert loaded is not None and loaded.models.position == models.position  # it is used
    from_snapshot = fold(FileLog(log), snapshots=store)
    assert dump(from_snapshot) == dump(fold(FileLog(log)))
    outputs = []
    for extra in ((), ("--no-snapshot",)):
        assert main(["replay", str(log), "--json", *extra]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert {run["run"]["id"] for run in outputs[0]["runs"]} == {"alpha", "beta"}
