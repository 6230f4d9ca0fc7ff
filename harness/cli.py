"""``python -m harness replay``: fold a log up to a point and print what it shows.

This is the debugging tool for a log: the same folds the server runs, with no server.
It prints the board (every run), one run's items (``--run``), or one run's timeline
(``--run ID --timeline``), as text or as the API's JSON (``--json``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import msgspec

from events.decoding import Record, decode_lines
from events.position import Position
from events.tailer import Chunk, LogTailer, Rotation
from harness.live import cyclic_gc_paused
from harness.settings import Settings
from projections.archive import summarize
from projections.items import items_page, log_page
from projections.readmodels import ReadModels
from projections.state import RunRecord

BAR_WIDTH = 20


def fold(path: Path, *, until: Position | None = None, at: datetime | None = None) -> ReadModels:
    """The read models after the log's events up to ``until`` (a cursor) or ``at`` (a time)."""
    models = ReadModels()
    with cyclic_gc_paused():
        return _fold_into(models, LogTailer(path).read_new(), until=until, at=at)


def _fold_into(models: ReadModels, chunks: Iterable[Chunk | Rotation], *,
               until: Position | None, at: datetime | None) -> ReadModels:
    for chunk in chunks:
        if not isinstance(chunk, Chunk):
            continue
        if until is not None and until.offset and until.generation != chunk.generation:
            raise ForeignCursor(f"cursor {until} is from another log than this one "
                                f"(its cursors start with {chunk.generation}:)")
        end = chunk.end
        if until is not None:
            end = min(end, until.offset)
        if at is not None:
            end = min(end, _first_after(chunk, at))
        if end < chunk.end:
            data = chunk.data[: end - chunk.start]
            data = data[: data.rfind(b"\n") + 1]  # a cursor inside a line stops before it
            models.apply_chunk(Chunk(data, chunk.start, chunk.start + len(data),
                                     chunk.generation), keep_records=False)
            break
        models.apply_chunk(chunk, keep_records=False)
    return models


class ForeignCursor(ValueError):
    """A cursor from another generation of the log: it names no point of this one."""


def _first_after(chunk: Chunk, at: datetime) -> int:
    """The offset of the first event in ``chunk`` stamped later than ``at``."""
    for decoded in decode_lines(chunk.data, chunk.start):
        if isinstance(decoded, Record) and decoded.event.ts and decoded.event.ts > at:
            return decoded.start
    return chunk.end


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("z", "Z"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness")
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="fold a log and print the board, a run's "
                                                "items or its timeline, with no server")
    replay.add_argument("log", nargs="?", help="the log (default: HARNESS_DATA_DIR/runs.jsonl)")
    point = replay.add_mutually_exclusive_group()
    point.add_argument("--until", metavar="CURSOR", help="stop at this position (a cursor)")
    point.add_argument("--at", metavar="TIME", help="stop after the last event at or before "
                                                    "this RFC 3339 time")
    replay.add_argument("--run", metavar="ID", help="print this run's items")
    replay.add_argument("--timeline", action="store_true", help="with --run: its events")
    replay.add_argument("--json", action="store_true", help="print the API's JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    path = Path(args.log) if args.log else Settings.from_env().log_path
    if not path.is_file():
        return _fail(f"no log at {path}")
    until = at = None
    if args.until:
        until = Position.parse(args.until)
        if until is None:
            return _fail(f"malformed cursor {args.until!r}")
    if args.at:
        try:
            at = _time(args.at)
        except ValueError:
            return _fail(f"--at wants an RFC 3339 time, got {args.at!r}")
        if at.tzinfo is None:
            return _fail("--at needs a time zone (e.g. a trailing Z)")
    if args.timeline and not args.run:
        return _fail("--timeline needs --run ID")
    try:
        models = fold(path, until=until, at=at)
    except ForeignCursor as error:
        return _fail(str(error))
    if args.run:
        record = models.runs.runs.get(args.run)
        if record is None:
            return _fail(f"no run {args.run!r} in {path} at {models.position}")
        if args.timeline:
            timeline = log_page(record, limit=len(record.logs) or 1)
            _print(args.json, timeline, lambda: _timeline_text(timeline.entries))
        else:
            items = items_page(record, limit=record.total or 1)
            _print(args.json, items, lambda: _items_text(record))
    else:
        summaries = [summarize(record) for record in reversed(models.runs.order)]
        _print(args.json, {"position": str(models.position), "runs": summaries},
               lambda: _board_text(models))
    return 0


def _print(as_json: bool, value: object, text: object) -> None:
    if as_json:
        sys.stdout.write(msgspec.json.encode(value).decode() + "\n")
    else:
        sys.stdout.write(text() + "\n")  # type: ignore[operator]


def _fail(message: str) -> int:
    print(f"harness replay: {message}", file=sys.stderr)
    return 2


def _bar(record: RunRecord) -> str:
    progress = record.progress()
    if not progress.total:
        return "·" * BAR_WIDTH
    cells = []
    for count, mark in ((progress.correct, "█"), (progress.incorrect, "▓"),
                        (progress.awaiting, "▒"), (progress.faulted, "x")):
        cells.append(mark * round(BAR_WIDTH * count / progress.total))
    return ("".join(cells) + "·" * BAR_WIDTH)[:BAR_WIDTH]


def _board_text(models: ReadModels) -> str:
    lines = [f"position {models.position} · {len(models.runs.order)} runs · "
             f"{models.events_applied} events · {models.problems.total} problems"]
    for record in reversed(models.runs.order):
        info, progress = record.info, record.progress()
        accuracy = summarize(record).accuracy
        lines.append(
            f"{info.id:<24} {info.status:<9} {_bar(record)} "
            f"{progress.completed + progress.faulted:>5}/{progress.total:<5} "
            f"acc {'—' if accuracy is None else f'{accuracy:.0%}':>4}  "
            f"{info.model_name} · {info.dataset_name} · {info.provider_name}")
    return "\n".join(lines)


def _items_text(record: RunRecord) -> str:
    lines = [f"{record.info.id}: {record.info.status}, "
             + ", ".join(f"{n} {state}" for state, n in record.state_counts().items() if n)]
    for sequence in range(1, record.total + 1):
        item = record.item(sequence)
        detail = item.error or f"answer {item.answer or '—'} expected {item.expected or '—'}"
        latency = f"{item.latency_ms:.0f} ms" if item.latency_ms is not None else ""
        lines.append(f"{sequence:>5}  {item.state:<9} {detail:<40} {latency:>9}  "
                     f"x{item.attempts}")
    return "\n".join(lines)


def _timeline_text(entries: list) -> str:
    return "\n".join(
        f"{entry.ts.isoformat(timespec='milliseconds') if entry.ts else '—':<29} "
        f"{entry.level:<7} {entry.kind:<21} "
        f"{f'#{entry.sequence} ' if entry.sequence else ''}{entry.message}"
        for entry in entries)
