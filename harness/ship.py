"""``python -m harness ship [FILE] --to nats://host:port/STREAM``: forward a local log to
a JetStream stream, every line stored exactly once (see ``harness.shipper``).

Imported by the CLI on every start; the shipper itself (and nats-py, the ``nats`` extra)
is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from harness.settings import Settings

if TYPE_CHECKING:
    from harness.shipper import Shipper, ShipStats


def add_parser(commands: argparse._SubParsersAction) -> None:
    ship = commands.add_parser("ship", help="forward a local log to a JetStream stream, "
                                            "each event stored exactly once")
    ship.add_argument("file", nargs="?", help="the log (default: HARNESS_DATA_DIR/runs.jsonl)")
    ship.add_argument("--to", required=True, metavar="nats://HOST:PORT/STREAM",
                      help="the stream (credentials and TLS as in HARNESS_LOG)")
    ship.add_argument("--source", help="this file's name in the stream (default: a hash of "
                                       "the host name and the file's path)")
    ship.add_argument("--once", action="store_true",
                      help="ship what the file holds now, then exit (default: follow it)")


def run(args: argparse.Namespace) -> int:
    """``python -m harness ship``; the exit status."""
    try:
        from events.filelog import FileLog
        from events.jetstream import JetStreamLog
        from events.nats_address import BadAddress, NatsAddress
        from harness.shipper import Shipper, default_source
    except ImportError as error:
        return _fail(f"shipping needs the nats extra (pip install 'harness[nats]'): {error}")
    path = Path(args.file) if args.file else Settings.from_env().log_path
    try:
        target = JetStreamLog(NatsAddress.parse(args.to))
    except BadAddress as error:
        return _fail(str(error))
    shipper = Shipper(FileLog(path), target, source_id=args.source or default_source(path))
    logging.basicConfig(level=logging.WARNING, format="harness ship: %(message)s")
    try:
        stats = anyio.run(_run, shipper, not args.once)
    except KeyboardInterrupt:
        stats = shipper.stats
    except OSError as error:  # unreachable or refused, after retrying: one line
        return _fail(str(error))
    print(f"harness ship: {stats.shipped} events stored in {target.name}, "
          f"{stats.duplicates} already there", file=sys.stderr)
    return 0


async def _run(shipper: Shipper, follow: bool) -> ShipStats:
    try:
        return await shipper.run(follow=follow)
    finally:
        await shipper.target.aclose()


def _fail(message: str) -> int:
    print(f"harness ship: {message}", file=sys.stderr)
    return 2
