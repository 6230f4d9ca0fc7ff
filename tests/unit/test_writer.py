"""Appending: whole lines, one write each, safe for several processes at once."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

from events.writer import LogAppender, append_event, append_events

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


# A writer process whose file-size limit stops its append part-way: the kernel takes the
# bytes up to the limit (a short write), then refuses the rest (EFBIG) — as a full disk
# would. SIGXFSZ is ignored so that the process sees the error instead of dying of it.
SHORT_WRITER = """
import resource, signal, sys
from pathlib import Path
from events.filelog import FileLog
path, limit = Path(sys.argv[1]), int(sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
big = [{"type": "run_log", "runId": "r", "level": "info", "message": "x" * 1000}] * 20
try:
    FileLog(path).append_blocking(big)
except OSError as error:
    print(type(error).__name__)
"""


def test_an_append_cut_short_by_the_os_is_cut_back_whole(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    append_events(log, [{"type": "run_log", "n": n} for n in range(3)])
    before = log.read_bytes()
    done = subprocess.run([sys.executable, "-c", SHORT_WRITER, str(log), str(len(before) + 5000)],
                          capture_output=True, text=True, timeout=60, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() in ("TornWrite", "OSError")  # the error reached the writer
    assert log.read_bytes() == before  # and nothing of its append stayed
    append_events(log, [{"type": "run_log", "after": True}])
    assert log.read_bytes().endswith(b'{"type":"run_log","after":true}\n')


def test_a_kept_descriptor_follows_the_path_after_a_rotation(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    with LogAppender(log) as appender:
        appender.append([{"type": "run_log", "n": 1}])
        log.rename(tmp_path / "runs.1.jsonl")
        appended = appender.append([{"type": "run_log", "n": 2}])
        replacement = tmp_path / "replacement.jsonl"
        replacement.write_bytes(b'{"type":"run_log","n":0}\n')
        replacement.replace(log)
        appender.append([{"type": "run_log", "n": 3}])

    def numbers(path: Path) -> list[int]:
        return [json.loads(line)["n"] for line in path.read_bytes().splitlines()]

    assert numbers(tmp_path / "runs.1.jsonl") == [1]
    assert numbers(log) == [0, 3]
    assert appended.end == len(b'{"type":"run_log","n":2}\n')


def test_a_kept_descriptor_sees_what_other_writers_did_between_its_appends(
        tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    with LogAppender(log) as appender:
        appender.append([{"type": "run_log", "n": 1}])
        with log.open("ab") as other:  # another writer dies mid-line
            other.write(b'{"type":"run_log","torn":')
        appended = appender.append([{"type": "run_log", "n": 2}])
        log.write_bytes(b'{"type":"run_log","rewritten":true}\n')  # same inode, new head
        rewritten = appender.append([{"type": "run_log", "n": 3}])
    assert appended.end == len(b'{"type":"run_log","n":1}\n{"type":"run_log","torn":\n'
                               b'{"type":"run_log","n":2}\n')
    assert log.read_bytes().splitlines() == [b'{"type":"run_log","rewritten":true}',
                                             b'{"type":"run_log","n":3}']
    assert rewritten.head == log.read_bytes()
