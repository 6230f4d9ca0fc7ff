"""Which server a terminal command talks to, and with what token: flags, then the
environment (``HARNESS_URL``, ``HARNESS_TOKEN``), then the local default."""

from __future__ import annotations

import argparse
import os

from harness.client import Harness

DEFAULT_URL = "http://127.0.0.1:7860"


def add_server_arguments(parser: argparse.ArgumentParser, *, url_positional: bool) -> None:
    url_help = f"the server (default: HARNESS_URL, else {DEFAULT_URL})"
    if url_positional:
        parser.add_argument("url", nargs="?", metavar="URL", help=url_help)
    else:
        parser.add_argument("--url", metavar="URL", help=url_help)
    parser.add_argument("--token", metavar="TOKEN",
                        help="the server's HARNESS_TOKEN, sent as a bearer token "
                             "(default: HARNESS_TOKEN from the environment)")


def connect(args: argparse.Namespace) -> Harness:
    url = args.url or os.environ.get("HARNESS_URL") or DEFAULT_URL
    token = args.token or os.environ.get("HARNESS_TOKEN") or None
    return Harness(url, token=token)
