"""``python -m harness replay``: the board, a run's items or timeline, at any point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from events import schema as ev
from harness.cli import main
from tests.support.events import TS_TEXT, append, at, run_history

LATER = at("2026-03-06T20:00:00.000Z")


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "runs.jsonl"
    append(path, *run_history("alpha", total=2, answers=(True, False)))
    append(path, *run_history("beta", total=3, answers=(True,), finish=None))
    append(path, ev.RunFinished(run_id="beta", status="canceled", ts=LATER))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["replay", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_board_lists_every_run_newest_first(log: Path, capsys) -> None:
    code, out, _ = run(capsys, str(log))
    assert code == 0
    lines = out.splitlines()
    assert "2 runs" in lines[0]
    assert lines[1].startswith("beta") and "canceled" in lines[1]
    assert lines[2].startswith("alpha") and "completed" in lines[2]


def test_json_gives_the_archive_summaries(log: Path, capsys) -> None:
    code, out, _ = run(capsys, str(log), "--json")
    body = json.loads(out)
    assert code == 0
    assert [(s["run"]["id"], s["run"]["status"], s["accuracy"]) for s in body["runs"]] == [
        ("beta", "canceled", 1.0), ("alpha", "completed", 0.5)]


def test_a_runs_items_and_its_timeline(log: Path, capsys) -> None:
    code, out, _ = run(capsys, str(log), "--run", "beta", "--json")
    groups = json.loads(out)["groups"]
    assert code == 0
    assert [i["sequence"] for i in groups["correct"]] == [1]
    assert [i["sequence"] for i in groups["pending"]] == [2, 3]
    code, out, _ = run(capsys, str(log), "--run", "beta", "--timeline")
    assert code == 0
    assert [line.split()[2] for line in out.splitlines()] == [
        "run_created", "run_started", "run_finished"]


def test_until_a_cursor_shows_the_state_at_that_point(log: Path, capsys) -> None:
    _, out, _ = run(capsys, str(log), "--json")
    position = json.loads(out)["position"]
    generation = position.split(":")[0]
    before_finish = log.stat().st_size - len(
        (log.read_bytes().splitlines(keepends=True))[-1])
    code, out, _ = run(capsys, str(log), "--until", f"{generation}:{before_finish}", "--json")
    statuses = {s["run"]["id"]: s["run"]["status"] for s in json.loads(out)["runs"]}
    assert code == 0 and statuses == {"alpha": "completed", "beta": "running"}
    code, out, _ = run(capsys, str(log), "--until", f"{generation}:{before_finish - 3}",
                       "--json")  # inside a line: that line is not included
    assert json.loads(out)["position"] != position


def test_at_a_time_shows_the_state_then(log: Path, capsys) -> None:
    code, out, _ = run(capsys, str(log), "--at", TS_TEXT, "--json")
    statuses = {s["run"]["id"]: s["run"]["status"] for s in json.loads(out)["runs"]}
    assert code == 0 and statuses == {"alpha": "completed", "beta": "running"}


@pytest.mark.parametrize("args, message", [
    (["--until", "nonsense"], "malformed cursor"),
    (["--until", "feedbeef0000:10"], "from another log"),
    (["--at", "yesterday"], "RFC 3339"),
    (["--run", "gamma"], "no run 'gamma'"),
    (["--timeline"], "--timeline needs --run"),
])
def test_mistakes_are_said_plainly_with_exit_code_2(log: Path, capsys, args: list[str],
                                                    message: str) -> None:
    code, _, err = run(capsys, str(log), *args)
    assert code == 2
    assert message in err


def test_a_missing_log_is_said_plainly(tmp_path: Path, capsys) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.jsonl"))
    assert code == 2 and "no log at" in err
