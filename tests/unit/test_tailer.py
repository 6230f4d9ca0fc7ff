"""The tailer reads whole lines from where it stopped and notices another history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from events.log import RecordBatch, Rotation
from events.position import Position
from events.tailer import LogTailer


def read(tailer: LogTailer, *, max_bytes: int = 1 << 20) -> list[RecordBatch | Rotation]:
    items: list[RecordBatch | Rotation] = []
    while (item := tailer.read(max_records=10_000, max_bytes=max_bytes)) is not None:
        items.append(item)
    return items


def data_of(items: list[RecordBatch | Rotation]) -> bytes:
    return b"".join(item.lines or b"" for item in items if isinstance(item, RecordBatch))


def reasons(items: list[RecordBatch | Rotation]) -> list[str]:
    return [item.reason for item in items if isinstance(item, Rotation)]


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


def test_a_partial_line_is_scanned_once_not_from_its_start_on_every_look(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n')
    tailer = LogTailer(log)
    read(tailer)
    scanned: list[int] = []
    real_pread = os.pread

    def counting_pread(fd: int, length: int, offset: int) -> bytes:
        data = real_pread(fd, length, offset)
        if offset >= 8:  # beyond the first line: the partial line's bytes
            scanned.append(len(data))
        return data

    monkeypatch.setattr(os, "pread", counting_pread)
    piece = b"x" * 1000
    with log.open("ab") as out:
        out.write(b'{"long":"')
    for _ in range(50):  # a line written slowly, looked at after every piece
        with log.open("ab") as out:
            out.write(piece)
        assert read(tailer, max_bytes=64 << 10) == []
    line_length = 9 + 50 * len(piece)
    assert sum(scanned) < 3 * line_length  # linear in the line, not quadratic
    with log.open("ab") as out:
        out.write(b'"}\n')
    assert len(data_of(read(tailer))) == line_length + 3


def test_a_line_longer_than_one_read_is_read_whole(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    long_line = b'{"x":"' + b"y" * 5000 + b'"}\n'
    log.write_bytes(long_line + b"{}\n")
    tailer = LogTailer(log)
    assert data_of(read(tailer, max_bytes=1024)) == long_line + b"{}\n"


def test_truncation_is_reported_and_reading_restarts_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n{"a":2}\n')
    tailer = LogTailer(log)
    read(tailer)
    log.write_bytes(b'{"c":3}\n')
    items = read(tailer)
    assert reasons(items) == ["truncated"]
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
    assert reasons(items) == ["replaced"]
    assert data_of(items) == b'{"a":1}\n{"new":true}\n'


def test_a_log_rewritten_past_the_old_offset_is_noticed_by_its_first_line(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n')
    tailer = LogTailer(log)
    read(tailer)
    with log.open("r+b") as out:  # same inode, grown, but a different history
        out.write(b'{"z":9}\n{"z":10}\n')
    items = read(tailer)
    assert reasons(items) == ["rewritten"]
    assert data_of(items) == b'{"z":9}\n{"z":10}\n'


def test_a_rewrite_in_place_keeping_the_first_line_is_a_new_generation(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"first":1}\n{"b":2}\n')
    tailer = LogTailer(log)
    read(tailer)
    old = tailer.position
    with log.open("r+b") as out:  # ftruncate + write: same inode, same first line
        out.truncate(0)
        out.write(b'{"first":1}\n{"c":3}\n{"d":4}\n')
    items = read(tailer)
    assert reasons(items) == ["rewritten"]
    assert data_of(items) == b'{"first":1}\n{"c":3}\n{"d":4}\n'
    assert tailer.position.generation != old.generation
    fresh = LogTailer(log)  # a new reader in this process agrees on the new history
    read(fresh)
    assert fresh.position == tailer.position
    late = LogTailer(log, after=old)  # and refuses the old one's positions
    assert reasons(read(late)) == ["foreign position"]


def test_a_position_inside_a_line_is_foreign(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_bytes(b'{"a":1}\n{"b":2}\n')
    whole = LogTailer(log)
    read(whole)
    inside = LogTailer(log, after=Position(whole.position.generation, 3))
    items = read(inside)
    assert reasons(items) == ["foreign position"]
    assert data_of(items) == log.read_bytes()
    after_first = LogTailer(log, after=Position(whole.position.generation, 8))
    assert data_of(read(after_first)) == b'{"b":2}\n'


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
