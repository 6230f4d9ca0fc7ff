"""``harness watch [URL] [--run ID [--exit]]``: the board, live, in a terminal.

It follows the server's stream from the log's beginning (``LiveBoard``), so it shows
what the dashboard shows and keeps going through server restarts. On a terminal it
draws a table of progress bars; anywhere else (a CI log, a pipe) it prints plain lines.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

import httpx
from rich.console import Console
from rich.live import Live

from harness.client import FROM_START, ApiError, Harness, LiveBoard
from harness.terminal.board_view import PlainReporter, Rates, table
from harness.terminal.connection import add_server_arguments, connect
from projections.state import ACTIVE_STATUSES

REDRAW_EVERY_S = 0.1  # a burst of messages is drawn once, not once per message
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="harness watch",
        description="Follow the runs of a harness server live: a line per run with its\n"
                    "progress bar (done/total; correct, incorrect, faulted), rate, time\n"
                    "left and current item. Server restarts are ridden out.",
        epilog="On a terminal the board redraws in place; anywhere else (a CI log, a\n"
               "pipe) each change is a plain line with no control codes.\n\n"
               "exit status with --exit: 0 the run completed; 1 it failed or was\n"
               "canceled; 2 a usage error or an unreachable server.\n\n"
               "example, in a CI job:\n"
               "  id=$(harness run --provider simulated --model m --dataset arithmetic --quiet)\n"
               "  harness watch --run \"$id\" --exit",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser, url_positional=True)
    parser.add_argument("--run", metavar="ID", help="follow only this run")
    parser.add_argument("--exit", action="store_true",
                        help="with --run: wait until the run ends, then exit 0 if it "
                             "completed, 1 if it failed or was canceled")
    args = parser.parse_args(argv)
    if args.exit and not args.run:
        parser.error("--exit needs --run ID")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    with connect(args) as harness:
        return watch(harness, run_id=args.run, exit_at_end=args.exit)


def watch(harness: Harness, *, run_id: str | None = None, exit_at_end: bool = False,
          out: TextIO | None = None) -> int:
    """Follow the board (or one run) until interrupted or, with ``exit_at_end``, until
    the run ends; the exit status as ``main`` returns it."""
    out = out or sys.stdout
    try:
        if run_id is not None:
            harness.run(run_id)  # an unknown run is a mistake to report now, not a hang
        else:
            harness.health()
    except ApiError as error:
        return _fail(f"{error.message} ({error.status})")
    except httpx.TransportError as error:
        return _fail(f"cannot reach {harness.url}: {error}")
    view = _TerminalView(out) if out.isatty() else _PlainView(out)
    try:
        with view:
            return _follow(harness, view, run_id=run_id, exit_at_end=exit_at_end)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except ApiError as error:
        return _fail(f"{error.message} ({error.status})")


def _follow(harness: Harness, view: _View, *, run_id: str | None, exit_at_end: bool) -> int:
    board = LiveBoard()
    # LiveBoard applies text deltas: a streaming item costs its new text, not itself.
    with harness.subscribe(after=FROM_START, run_ids=[run_id] if run_id else (),
                           text_deltas=True) as subscription:
        shown_at = subscription.cursor
        for message in subscription:
            board.apply(message, cursor=subscription.cursor)
            if subscription.cursor in (shown_at, FROM_START):
                continue  # the middle of a group: a run may not be whole yet
            shown_at = subscription.cursor
            record = board.runs.get(run_id) if run_id else None
            ended = (exit_at_end and record is not None
                     and record.info.status not in ACTIVE_STATUSES)
            view.show(board.snapshot().active, final=ended)
            if ended:
                assert record is not None
                return 0 if record.info.status == "completed" else EXIT_FAILED
    raise AssertionError("a subscription never ends")


def _fail(message: str) -> int:
    print(f"harness watch: {message}", file=sys.stderr)
    return EXIT_USAGE


class _View:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.rates = Rates()

    def __enter__(self) -> _View:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def show(self, snapshots: list, *, final: bool = False) -> None:
        now = time.monotonic()
        for snapshot in snapshots:
            self.rates.observe(snapshot, now)
        self.draw(snapshots, now, final=final)

    def draw(self, snapshots: list, now: float, *, final: bool) -> None:
        raise NotImplementedError


class _PlainView(_View):
    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.reporter = PlainReporter()

    def draw(self, snapshots: list, now: float, *, final: bool) -> None:
        for line in self.reporter.lines(snapshots, self.rates, now):
            self.out.write(line + "\n")
        self.out.flush()


class _TerminalView(_View):
    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.live = Live(console=Console(file=out), refresh_per_second=4)
        self.drawn_at = 0.0

    def __enter__(self) -> _View:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def draw(self, snapshots: list, now: float, *, final: bool) -> None:
        if final or now - self.drawn_at >= REDRAW_EVERY_S:
            self.drawn_at = now
            self.live.update(table(snapshots, self.rates, now), refresh=final)
