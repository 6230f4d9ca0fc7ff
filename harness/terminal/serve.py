"""``harness serve`` (and ``python run.py``): the API, the live streams and the dashboard.

Settings come from the environment and ``.env`` (SPEC §9); flags override them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import anyio
import uvicorn

from events.log import UnknownLog, open_log
from harness.errors import Invalid
from harness.settings import Settings

# The source tree the reloader watches: the folder holding harness/, events/, … .
ROOT = Path(__file__).resolve().parents[2]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="harness serve",
        description="Serve the harness API, its live streams and the dashboard.",
        epilog="Settings are read from the environment and a .env file in the working "
               "directory (PORT, HOST, HARNESS_DATA_DIR, HARNESS_LOG, HARNESS_TOKEN, "
               "HARNESS_MAX_RUNS, ...); flags override them.")
    parser.add_argument("--host", help="interface to bind (default HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default PORT or 7860)")
    parser.add_argument("--data-dir", help="data directory (default HARNESS_DATA_DIR or ./data)")
    parser.add_argument("--log", help="the runs log: 'file' or nats://host:port/STREAM "
                                      "(default HARNESS_LOG or file)")
    parser.add_argument("--demo", action="store_true",
                        help="keep a few simulated runs going so the board is alive")
    parser.add_argument("--reload", action="store_true", help="restart on code changes")
    parser.add_argument("--allow-unauthenticated", action="store_true",
                        help="bind to a non-loopback host without HARNESS_TOKEN")
    return parser.parse_args(argv)


def log_unusable(settings: Settings) -> str | None:
    """Why the log ``HARNESS_LOG`` names cannot be used (a server that cannot be reached,
    credentials refused, no permission on the stream), or ``None``: said once, in one
    line, before serving. Once serving, losing the log is shown in ``/api/health`` and
    the server recovers by itself."""
    if settings.log == "file":
        return None

    async def probe() -> None:
        log = open_log(settings.log, settings.data_dir)
        try:
            await log.current()
        finally:
            await log.aclose()

    try:
        anyio.run(probe)
    except (OSError, UnknownLog) as error:
        return str(error)
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = Settings.from_env(host=args.host, port=args.port,
                                     data_dir=args.data_dir and os.path.abspath(args.data_dir),
                                     demo=args.demo or None, log=args.log,
                                     allow_unauthenticated=args.allow_unauthenticated or None)
        settings.check_bind()
    except Invalid as error:
        print(f"harness: {error.message}", file=sys.stderr)
        return 2
    unusable = log_unusable(settings)
    if unusable is not None:
        print(f"harness: {unusable}", file=sys.stderr)
        return 2
    from web.connections import uvicorn_options_for

    options = uvicorn_options_for(settings)
    if args.reload:
        # uvicorn's reloader imports the app by name in a fresh process, which reads its
        # settings from the environment again: hand the flags down through it. The
        # protocols are named rather than passed (classes made for these settings cannot
        # be pickled across; the named ones have the default timeouts).
        os.environ.update(HOST=settings.host, PORT=str(settings.port),
                          HARNESS_DATA_DIR=str(settings.data_dir), HARNESS_LOG=settings.log,
                          HARNESS_DEMO="1" if settings.demo else "",
                          HARNESS_ALLOW_UNAUTHENTICATED="1" if settings.allow_unauthenticated
                          else "")
        options["http"] = "web.connections:HttpProtocol"
        options["ws"] = "web.connections:WebSocketProtocol"
        uvicorn.run("web.main:app", host=settings.host, port=settings.port, reload=True,
                    reload_dirs=[str(ROOT / name) for name in
                                 ("harness", "events", "projections", "web")],
                    factory=False, **options)
        return 0
    from web.app import create_app

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="info", **options)
    return 0

