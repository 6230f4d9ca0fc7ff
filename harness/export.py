"""``python -m harness export LOG --to FILE [--until CURSOR]``: copy a log's records into
a JSONL file, one record a line, exactly as stored.

Its use is to take a production stream (``nats://host:port/STREAM``) home: the file it
writes is a ``runs.jsonl`` that ``replay``, a local server or the tests read like any
other. Records are written as they are, bad ones included (the reader of the copy counts
them as the server did). The copy is written beside ``FILE`` and renamed over it only
once it is complete, so an interrupted export leaves no half file behind.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import BinaryIO

import anyio

from events.log import EventLog, RecordBatch, Rotation
from events.position import CursorRefused, Position, judge_cursor

EXPORT_BATCH_RECORDS = 10_000


class ExportInterrupted(RuntimeError):
    """The log became another history (purged, re-created) while it was exported."""


async def export_log(log: EventLog, path: Path, *, until: Position | None = None) -> int:
    """Write the records of ``log`` (up to ``until``, a position of its current history)
    to ``path`` as JSONL; how many were written."""
    draft = path.with_name(f".{path.name}.partial")
    count = 0
    reader = log.reader()
    try:
        with draft.open("wb") as out:
            while (batch := await reader.read(max_records=EXPORT_BATCH_RECORDS)) is not None:
                if isinstance(batch, Rotation):
                    if count:
                        raise ExportInterrupted(f"{log.name} became another history while it "
                                                f"was exported ({batch.reason})")
                    continue
                count += _write(out, batch, until)
                if until is not None and batch.end >= until.offset:
                    break
            out.flush()
            os.fsync(out.fileno())
        os.replace(draft, path)
    finally:
        await reader.aclose()
        draft.unlink(missing_ok=True)
    return count


def _write(out: BinaryIO, batch: RecordBatch, until: Position | None) -> int:
    # A record is one line: a newline inside one (pretty-printed JSON from another
    # publisher) can only lie between JSON tokens, where a space means the same.
    lines = [raw.replace(b"\n", b" ") for raw, end in zip(batch.raws, batch.ends, strict=True)
             if until is None or end <= until.offset]
    if lines:
        out.write(b"\n".join(lines) + b"\n")
    return len(lines)


def add_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="copy a log (a stream) into a JSONL file")
    export.add_argument("log", nargs="?", help="the log: a file, or nats://host:port/STREAM "
                                               "(default: the one HARNESS_LOG names)")
    export.add_argument("--to", required=True, metavar="FILE", help="the JSONL file to write")
    export.add_argument("--until", metavar="CURSOR", help="stop at this position")


def run(args: argparse.Namespace, log: EventLog) -> int:
    """``python -m harness export``; the exit status."""
    return anyio.run(_run, args, log)


async def _run(args: argparse.Namespace, log: EventLog) -> int:
    try:
        until = judge_cursor(args.until, await log.current()) if args.until else None
        count = await export_log(log, Path(args.to), until=until)
    except (CursorRefused, ExportInterrupted, OSError) as error:
        print(f"harness export: {error}", file=sys.stderr)
        return 2
    finally:
        await log.aclose()
    print(f"harness export: {count} records of {log.name} written to {args.to}",
          file=sys.stderr)
    return 0
