"""``harness replay``: the headless replay of ``harness.cli``, under the common program."""

from __future__ import annotations

from harness import cli


def main(argv: list[str]) -> int:
    return cli.main(["replay", *argv])
