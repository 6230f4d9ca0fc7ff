"""The tailer reads whole lines from where it stopped and notices a replaced log."""

from __future__ import annotations

import os
from pathlib import Path

from events.tailer import Chunk, LogTailer, Rotation


def read(tailer: LogTailer) -> list[Chunk | Rotation]:
    return list(tailer.read_new())


def data_of(items: list[Chunk | Rotation]) -> bytes:
    return b"".join(item.data for item in items if isinstance(item, Chunk))


def test_partial_line_is_not_read_until_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n{"b":')
    tailer = LogTailer(log)
    assert data_of(read(tailer)) == b'{"a":1}\n'
    with log.open("ab") as out:
        out.write(b"2}")
    assert read(tailer) == []
    with log.open("ab") as out:
        out.write(b"\n")
    assert data_of(read(tailer)) == b'{"b":2}\n'
    assert tailer.offset == log.stat().st_size


def test_a_line_longer_than_one_read_is_read_whole(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    long_line = b'{"x":"' + b"y" * 5000 + b'"}\n'
    log.write_bytes(long_line + b"{}\n")
    tailer = LogTailer(log, read_bytes=1024)
    assert data_of(read(tailer)) == long_line + b"{}\n"


def test_truncation_is_reported_and_reading_restarts_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n{"a":2}\n')
    tailer = LogTailer(log)
    read(tailer)
    log.write_bytes(b'{"c":3}\n')
    items = read(tailer)
    assert items[0] == Rotation("truncated")
    assert data_of(items) == b'{"c":3}\n'


def test_replacement_by_a_new_file_is_reported(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n')
    tailer = LogTailer(log)
    read(tailer)
    fresh = tmp_path / "fresh.jsonl"
    fresh.write_bytes(b'{"a":1}\n{"new":true}\n')
    os.replace(fresh, log)
    items = read(tailer)
    assert items[0] == Rotation("replaced")
    assert data_of(items) == b'{"a":1}\n{"new":true}\n'


def test_a_log_rewritten_past_the_old_offset_is_noticed_by_its_first_line(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n')
    tailer = LogTailer(log)
    read(tailer)
    with log.open("r+b") as out:  # same inode, grown, but a different history
        out.write(b'{"z":9}\n{"z":10}\n')
    items = read(tailer)
    assert items[0] == Rotation("rewritten")
    assert data_of(items) == b'{"z":9}\n{"z":10}\n'


def test_the_generation_is_stable_across_readers_and_changes_with_the_log(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n')
    first, second = LogTailer(log), LogTailer(log)
    read(first)
    read(second)
    assert first.position == second.position
    fresh = tmp_path / "fresh.jsonl"
    fresh.write_bytes(b'{"b":1}\n')
    os.replace(fresh, log)
    read(first)
    assert first.position.generation != second.position.generation


def test_a_missing_log_is_waited_for(tmp_path: Path) -> None:
    tailer = LogTailer(tmp_path / "runs.jsonl")
    assert read(tailer) == []
    (tmp_path / "runs.jsonl").write_bytes(b"{}\n")
    assert data_of(read(tailer)) == b"{}\n"
