"""A property over random histories of the log file (#9, point 3): appends (some ending
mid-line), rewrites in place (the same inode; a prefix of whole lines kept, often the
first line, then new lines), truncations and replacements, with the live log polling in
between. Whatever happened, the live state equals a cold replay of the file as it ends,
and every position the live log ever stood at is either honoured gaplessly (the history
before it is the file's, and a reader after it gets exactly the rest) or refused (reset).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from events import schema as ev
from events.filelog import FileLog
from events.log import RecordBatch, Rotation
from events.position import CursorRefused, Position, judge_cursor
from events.writer import encode_line
from harness.live import LiveLog, replay
from tests.support.state import dump

TS = "2026-03-06T19:43:11.123Z"

operations = st.lists(st.one_of(
    st.tuples(st.just("append"), st.integers(1, 4), st.booleans()),
    st.tuples(st.just("rewrite"), st.floats(0, 1), st.integers(0, 3)),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(0)),
    st.tuples(st.just("replace"), st.booleans(), st.integers(0, 3)),
), min_size=1, max_size=12)


@dataclass
class History:
    """Makes lines that never repeat, so that any two histories differ where they part."""

    path: Path
    made: int = 0
    partial: bytes = b""  # the end of a line written only in part
    runs: list[str] = field(default_factory=list)

    def lines(self, count: int) -> bytes:
        out = []
        for _ in range(count):
            self.made += 1
            if self.made % 3 == 1 or not self.runs:
                self.runs.append(f"r{self.made}")
                event: ev.Event = ev.RunCreated(run_id=f"r{self.made}", provider_name="p",
                                                model_name="m", dataset_name="d", total=1, ts=TS)
            elif self.made % 7 == 0:
                out.append(b"garbage %d\n" % self.made)
                continue
            else:
                event = ev.RunLog(run_id=self.runs[-1], level="info", message=f"m{self.made}",
                                  ts=TS)
            out.append(encode_line(event))
        return b"".join(out)

    def whole_lines(self) -> list[bytes]:
        data = self.path.read_bytes()
        return data[: data.rfind(b"\n") + 1].splitlines(keepends=True)

    def apply(self, operation: tuple[str, object, object]) -> None:
        kind, a, b = operation
        if kind == "append":
            data = self.partial + self.lines(int(a))  # type: ignore[call-overload]
            self.partial = b""
            if b and len(data) > 2:  # leave the last line unfinished for a while
                cut = len(data) - 2
                data, self.partial = data[:cut], data[cut:]
            with self.path.open("ab") as log:
                log.write(data)
            return
        self.partial = b""
        lines = self.whole_lines()
        if kind == "replace":
            kept = lines[:1] if a else []
            fresh = self.path.with_name("fresh.jsonl")
            fresh.write_bytes(b"".join(kept) + self.lines(int(b)))  # type: ignore[call-overload]
            os.replace(fresh, self.path)
            return
        kept = lines[: round(float(a) * len(lines))]  # type: ignore[arg-type]
        with self.path.open("r+b") as log:  # the same inode
            log.truncate(0)
            log.write(b"".join(kept) + self.lines(int(b)))  # type: ignore[call-overload]


async def read_after(log: FileLog, cursor: Position) -> tuple[bool, bytes]:
    """Whether a reader honours ``cursor`` (no rotation first), and what it reads."""
    reader = log.reader(after=cursor)
    data = []
    while (batch := await reader.read()) is not None:
        if isinstance(batch, Rotation):
            return False, b""
        assert isinstance(batch, RecordBatch) and batch.lines is not None
        data.append(batch.lines)
    return True, b"".join(data)


async def check(operations_: list[tuple[str, object, object]], folder: Path) -> None:
    path = folder / "runs.jsonl"
    history = History(path)
    path.write_bytes(history.lines(3))
    log = FileLog(path)
    live = LiveLog(log)
    await live.start()
    seen: list[tuple[Position, bytes]] = [(live.position, path.read_bytes()[:live.position.offset])]
    for operation in operations_:
        history.apply(operation)
        await live.poll()
        seen.append((live.position, path.read_bytes()[: live.position.offset]))
    cold = await replay(log.reader())
    assert live.position == cold.position
    assert dump(live.models) == dump(cold)
    final = path.read_bytes()
    whole = final[: final.rfind(b"\n") + 1]
    assert live.position.offset == len(whole)
    for cursor, before in seen:
        try:
            judged = judge_cursor(str(cursor), live.position)
        except CursorRefused:
            continue  # answered with reset
        honoured, rest = await read_after(log, judged)
        if honoured:
            assert before == final[: judged.offset], f"{cursor} names another history"
            assert rest == whole[judged.offset:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
# An unfinished line scanned, then rewritten in place into a whole one (found by search).
@example([("append", 2, True), ("append", 4, False), ("truncate", 0.2, 0),
          ("append", 1, True), ("rewrite", 0.94, 1)])
def test_live_state_equals_a_cold_replay_and_old_cursors_are_honoured_or_reset(
        operations_: list[tuple[str, object, object]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        anyio.run(check, operations_, Path(folder))
