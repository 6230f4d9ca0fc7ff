"""``python -m harness replay``: fold a log up to a point and print what it shows.

This is the debugging tool for a log: the same folds the server runs, with no server.
It prints the board (every run), one run's items (``--run``), or one run's timeline
(``--run ID --timeline``), as text or as the API's JSON (``--json``).
"""

from __future__ import annotations

import argparse
import functools
import sys
from bisect import bisect_right
from datetime import datetime
from pathlib import Path

import anyio
import anyio.from_thread
import anyio.to_thread
import msgspec

from events.decoding import Record, decode_records
from events.filelog import FileLog
from events.log import EventLog, RecordBatch, Rotation, UnknownLog, open_log
from events.position import CursorRefused, Position, judge_cursor
from harness import export, ship
from harness.errors import Invalid
from harness.live import REPLAY_BATCH_RECORDS, SHED_EVERY_EVENTS, cyclic_gc_paused
from harness.readback import HistoryChanged, RunDetails, fold_batch
from harness.settings import Settings
from harness.snapshots import FOLDER as SNAPSHOTS_FOLDER
from harness.snapshots import SnapshotStore
from projections.archive import summarize
from projections.items import items_page, log_page
from projections.readmodels import ReadModels
from projections.shedding import shed_finished
from projections.state import RunRecord

BAR_WIDTH = 20


def fold(log: EventLog, *, until: Position | None = None, at: datetime | None = None,
         snapshots: SnapshotStore | None = None) -> ReadModels:
    """The read models after the log's events up to ``until`` (a position of its current
    history) or ``at`` (a time). For the whole log, the newest valid snapshot in
    ``snapshots`` (if given) is loaded and only the records after it are folded."""
    return anyio.run(_fold, log, until, at, snapshots)


async def _fold(log: EventLog, until: Position | None, at: datetime | None,
                snapshots: SnapshotStore | None) -> ReadModels:
    try:
        return await _fold_from(log, until, at, snapshots)
    except HistoryChanged:  # the snapshot outlived the history it was taken of
        return await _fold_from(log, until, at, None)


async def _fold_from(log: EventLog, until: Position | None, at: datetime | None,
                     snapshots: SnapshotStore | None) -> ReadModels:
    models = ReadModels()
    details = RunDetails(log)  # a snapshot's finished runs that change again
    if snapshots is not None and until is None and at is None:
        end = await log.current()

        def record_at(position: Position) -> bytes | None:
            return anyio.from_thread.run(log.read_at, [position])[0]

        loaded = await anyio.to_thread.run_sync(
            functools.partial(snapshots.load, end, record_at=record_at))
        if loaded is not None:
            models = loaded.models
    reader = log.reader(after=models.position if models.position.offset else None)
    next_shed = models.events_applied + SHED_EVERY_EVENTS
    with cyclic_gc_paused():
        while (batch := await reader.read(max_records=REPLAY_BATCH_RECORDS)) is not None:
            if isinstance(batch, Rotation):  # the log changed under us: the new one
                models, next_shed = ReadModels(), SHED_EVERY_EVENTS
                continue
            if models.events_applied >= next_shed:  # as the server's replay does
                shed_finished(models)
                next_shed = models.events_applied + SHED_EVERY_EVENTS
            if until is not None or at is not None:
                keep = len(batch.raws) if until is None else bisect_right(batch.ends, until.offset)
                if at is not None:
                    keep = min(keep, _first_after(batch, at))
                if (until is not None and batch.end > until.offset) or keep < len(batch.raws):
                    await fold_batch(models, batch.head(keep), details, keep_records=False)
                    break
            await fold_batch(models, batch, details, keep_records=False)
    await reader.aclose()
    return models


def _first_after(batch: RecordBatch, at: datetime) -> int:
    """The index of the first event in ``batch`` stamped later than ``at``."""
    for index, decoded in enumerate(decode_records(batch)):
        if isinstance(decoded, Record) and decoded.event.ts and decoded.event.ts > at:
            return index
    return len(batch.raws)


def _log(where: str | None) -> EventLog:
    """The log named on the command line: a file, or a backend's address (``nats://``);
    by default the one the settings name."""
    if where is None:
        settings = Settings.from_env()
        return open_log(settings.log, settings.data_dir)
    if "://" in where:
        return open_log(where, Path("."))
    return FileLog(Path(where))


def _snapshots(where: str | None) -> SnapshotStore:
    """Where the server keeps the snapshots of that log: beside a log file, or in the
    data directory the settings name."""
    if where is not None and "://" not in where:
        return SnapshotStore(Path(where).parent / SNAPSHOTS_FOLDER)
    return SnapshotStore(Settings.from_env().snapshots_dir)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("z", "Z"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harness")
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="fold a log and print the board, a run's "
                                                "items or its timeline, with no server")
    replay.add_argument("log", nargs="?", help="the log: a file, or nats://host:port/STREAM "
                                               "(default: the one HARNESS_LOG names)")
    point = replay.add_mutually_exclusive_group()
    point.add_argument("--until", metavar="CURSOR", help="stop at this position (a cursor)")
    point.add_argument("--at", metavar="TIME", help="stop after the last event at or before "
                                                    "this RFC 3339 time")
    replay.add_argument("--run", metavar="ID", help="print this run's items")
    replay.add_argument("--timeline", action="store_true", help="with --run: its events")
    replay.add_argument("--json", action="store_true", help="print the API's JSON")
    replay.add_argument("--no-snapshot", action="store_true",
                        help="fold the whole log, ignoring the server's read-model snapshots")
    ship.add_parser(commands)
    export.add_parser(commands)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "ship":
        return ship.run(args)
    try:
        log = _log(args.log)
    except (Invalid, UnknownLog) as error:
        return _fail(str(error))
    if isinstance(log, FileLog) and not log.path.is_file():
        return _fail(f"no log at {log.path}")
    if args.command == "export":
        return export.run(args, log)
    try:
        return _replay(args, log)
    except OSError as error:  # unreachable, refused, unreadable: said in one line
        return _fail(str(error))


def _replay(args: argparse.Namespace, log: EventLog) -> int:
    until = at = None
    if args.until:
        try:
            until = judge_cursor(args.until, anyio.run(log.current))
        except CursorRefused as error:
            if error.reason != "ahead":  # beyond the end: the whole log
                return _fail(str(error))
    if args.at:
        try:
            at = _time(args.at)
        except ValueError:
            return _fail(f"--at wants an RFC 3339 time, got {args.at!r}")
        if at.tzinfo is None:
            return _fail("--at needs a time zone (e.g. a trailing Z)")
    if args.timeline and not args.run:
        return _fail("--timeline needs --run ID")
    try:  # a log rewritten while it was read: say so in a line, not a traceback
        models = fold(log, until=until, at=at,
                      snapshots=None if args.no_snapshot else _snapshots(args.log))
    except HistoryChanged as error:
        return _fail(error.message)
    if args.run:
        record = models.runs.runs.get(args.run)
        if record is None:
            return _fail(f"no run {args.run!r} in {log.name} at {models.position}")
        try:  # a finished run's details are read back from the log
            record = anyio.run(functools.partial(
                RunDetails(log).of, record, generation=models.position.generation))
        except HistoryChanged as error:
            return _fail(error.message)
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
