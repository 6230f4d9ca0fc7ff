"""``harness run``: create a run on a server from the command line, and maybe watch it."""

from __future__ import annotations

import argparse
import json
import sys

import httpx
import msgspec

from harness.api_shapes import DEFAULT_CONCURRENCY, RunSpec
from harness.client import ApiError
from harness.terminal.connection import add_server_arguments, connect
from harness.terminal.watch import EXIT_USAGE, watch


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _config_value(text: str) -> tuple[str, object]:
    key, value = _pair(text)
    try:
        return key, json.loads(value)  # numbers, booleans, lists…
    except json.JSONDecodeError:
        return key, value  # and anything else as the string it is


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="harness run",
        description="Create a run on a harness server (the fields of POST /api/runs)\n"
                    "and print its id and URL.",
        epilog="examples:\n"
               "  harness run --provider simulated --model gpt-4.1 --dataset arithmetic \\\n"
               "      --limit 50 --set seed=1 --set latencyMs=300\n"
               "  harness run --provider openai --model gpt-4.1-mini --dataset logic \\\n"
               "      --label team=evals --watch\n\n"
               "exit status: 0 the run was created (with --watch: and it completed);\n"
               "1 with --watch, it failed or was canceled; 2 the server refused the\n"
               "request or could not be reached.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser, url_positional=False)
    parser.add_argument("--provider", required=True, help="the provider (simulated, openai)")
    parser.add_argument("--model", required=True, help="the model name the provider is asked for")
    parser.add_argument("--dataset", required=True, help="a built-in or user dataset's name")
    parser.add_argument("--limit", type=int, metavar="N", help="run only the first N items")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N",
                        help=f"items in flight at once (default {DEFAULT_CONCURRENCY})")
    parser.add_argument("--label", type=_pair, action="append", default=[], metavar="KEY=VALUE",
                        help="a label of the run (repeatable)")
    parser.add_argument("--set", dest="config", type=_config_value, action="append",
                        default=[], metavar="KEY=VALUE",
                        help="a provider config value, parsed as JSON when it is JSON "
                             "(repeatable), e.g. --set seed=1 --set faultRate=0.1")
    parser.add_argument("--watch", action="store_true", help="follow the run until it ends")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="print only the run's id")
    output.add_argument("--json", action="store_true", help="print the created run as JSON")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    spec = RunSpec(provider_name=args.provider, model_name=args.model,
                   dataset_name=args.dataset, limit=args.limit,
                   concurrency=args.concurrency, labels=dict(args.label),
                   config=dict(args.config))
    with connect(args) as harness:
        try:
            created = harness.create_run(spec)
        except ApiError as error:
            field = (error.details or {}).get("field") if isinstance(error.details, dict) else None
            where = f" ({field})" if field else ""
            print(f"harness run: {error.message}{where}", file=sys.stderr)
            return EXIT_USAGE
        except httpx.TransportError as error:
            print(f"harness run: cannot reach {harness.url}: {error}", file=sys.stderr)
            return EXIT_USAGE
        run_id = created.run.id
        if args.json:
            print(msgspec.json.encode(created).decode())
        elif args.quiet:
            print(run_id)
        else:
            print(f"{run_id} {harness.url}/#/runs/{run_id}")
        sys.stdout.flush()
        if args.watch:
            return watch(harness, run_id=run_id, exit_at_end=True)
    return 0
