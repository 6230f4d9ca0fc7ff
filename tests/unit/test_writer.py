"""Appending: whole lines, one write each, safe for several processes at once."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from events.writer import append_event, append_events

LINES_PER_WRITER = 200
WRITERS = 6


def _write_many(path: str, writer: int) -> None:
    for number in range(LINES_PER_WRITER):
        append_event(Path(path), {"type": "run_log", "writer": writer, "n": number,
                                  "pad": "x" * (number * 97 % 7000)})


def test_concurrent_writers_never_tear_or_interleave_lines(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_many, args=(str(log), w)) for w in range(WRITERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    records = [json.loads(line) for line in log.read_bytes().splitlines()]
    assert len(records) == WRITERS * LINES_PER_WRITER
    for writer in range(WRITERS):
        mine = [r["n"] for r in records if r["writer"] == writer]
        assert mine == list(range(LINES_PER_WRITER))  # each writer's order is kept


def test_a_torn_last_line_is_closed_before_the_next_append(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"type":"run_log","torn":')
    end = append_events(log, [{"type": "run_log", "whole": True}])
    lines = log.read_bytes().split(b"\n")
    assert lines[0] == b'{"type":"run_log","torn":'
    assert json.loads(lines[1]) == {"type": "run_log", "whole": True}
    assert end == log.stat().st_size
