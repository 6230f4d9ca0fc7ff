"""Positions in the log, and the opaque cursors that clients hold.

A position is a *generation* and an *offset*. The offset orders records within one
log; the generation names which log that is, so that a cursor taken from a log that has
since been truncated or replaced is recognised as foreign and answered with a reset
rather than with a silent gap. Clients see only the cursor string; nothing outside
``events`` may take it apart. A distributed log would put its stream sequence in the
offset and its stream identity in the generation.
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

    @classmethod
    def parse(cls, cursor: str) -> Position | None:
        """The position a cursor names, or ``None`` if it is malformed."""
        match = _CURSOR.match(cursor.strip())
        if match is None:
            return None
        return cls(match.group(1), int(match.group(2)))

    def admits(self, cursor: Position) -> bool:
        """Whether a client at ``cursor`` can resume against a log now at ``self``.

        Offset 0 means "from the beginning" and is valid in any generation; any other
        cursor must come from this generation and not lie beyond its end.
        """
        if cursor.offset == 0:
            return True
        return cursor.generation == self.generation and cursor.offset <= self.offset
