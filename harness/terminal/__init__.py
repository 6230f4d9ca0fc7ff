"""The ``harness`` command line: one program, a subcommand per job.

``harness COMMAND [ARGS]`` (or ``python -m harness COMMAND``) runs ``main(argv)`` of the
module registered for ``COMMAND`` below with the arguments after it; that module owns
its flags and its ``--help``. A new command is one line in ``COMMANDS``. Modules are
imported only when their command runs, so ``harness watch`` does not load the server.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

from harness import __version__


@dataclass(frozen=True)
class Command:
    module: str  # a module with ``main(argv: list[str]) -> int``
    summary: str
    # Put before the arguments: the subcommand's name, for the commands ``harness.cli``
    # parses itself (it has a subcommand per log tool).
    prefix: tuple[str, ...] = ()


COMMANDS: dict[str, Command] = {
    "serve": Command("harness.terminal.serve", "serve the API, live streams and dashboard"),
    "replay": Command("harness.cli", "fold a log and print the board, a run's items or "
                                     "its timeline", prefix=("replay",)),
    "ship": Command("harness.cli", "forward a local log to a JetStream stream, each event "
                                   "stored exactly once", prefix=("ship",)),
    "export": Command("harness.cli", "copy a log (a stream) into a JSONL file",
                      prefix=("export",)),
    "watch": Command("harness.terminal.watch",
                     "follow the board (or one run) live in the terminal"),
    "run": Command("harness.terminal.run", "create a run on a server, and optionally watch it"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: harness COMMAND [ARGS...]",
        "",
        "An event-sourced server for LLM evaluation runs, and the tools around it.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {command.summary}" for name, command in COMMANDS.items()),
        "",
        "options:",
        "  -h, --help  show this message and exit",
        "  --version   show the version and exit",
        "",
        "Run 'harness COMMAND --help' for a command's own options.",
        "'python -m harness' is the same program.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(usage(), file=sys.stderr)
        return 2
    if args[0] in ("-h", "--help"):
        print(usage())
        return 0
    if args[0] == "--version":
        print(f"harness {__version__}")
        return 0
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"harness: unknown command {args[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    return int(importlib.import_module(command.module).main([*command.prefix, *args[1:]]))
