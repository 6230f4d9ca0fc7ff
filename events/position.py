"""Positions in the log, and the opaque cursors that clients hold.

A position is a *generation* and an *offset*. The offset orders records within one
history of the log; the generation names which history that is, so that a cursor taken
from a log that has since been truncated, replaced or rewritten is recognised as foreign
and answered with a reset rather than with a silent gap. Clients see only the cursor
string; nothing outside ``events`` takes it apart: ``parse_cursor`` and ``judge_cursor``
are the one place that reads and judges one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CURSOR = re.compile(r"^([0-9a-f]{1,32}):([0-9]{1,20})$")


@dataclass(frozen=True, slots=True)
class Position:
    generation: str
    offset: int

    def __str__(self) -> str:
        return f"{self.generation}:{self.offset}"


class CursorRefused(ValueError):
    """A cursor the log cannot resume from. ``reason`` is ``malformed`` (not a cursor),
    ``foreign`` (another history of the log) or ``ahead`` (beyond the log's end)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_cursor(text: str) -> Position:
    """The position a cursor names; ``CursorRefused("malformed")`` if it names none."""
    match = _CURSOR.match(text.strip())
    if match is None:
        raise CursorRefused("malformed", f"malformed cursor {text[:80]!r}")
    return Position(match.group(1), int(match.group(2)))


def judge_cursor(text: str, now: Position) -> Position:
    """Where a client holding cursor ``text`` resumes, against a log now at ``now``: a
    position of ``now``'s history to read after (offset 0: from the start).

    Offset 0 means "from the beginning" and is valid in any history; any other cursor
    must come from this history and not lie beyond its end, else ``CursorRefused``.
    """
    cursor = parse_cursor(text)
    if cursor.offset == 0:
        return Position(now.generation, 0)
    if cursor.generation != now.generation:
        raise CursorRefused("foreign", f"cursor {cursor} is from another log (or another "
                                       f"history of it) than this one (its cursors start "
                                       f"with {now.generation}:)")
    if cursor.offset > now.offset:
        raise CursorRefused("ahead", f"cursor {cursor} lies beyond the log's end {now}")
    return cursor
