"""The file log reads records back by position in spans of nearby records; whatever the
records' lengths, gaps and the order asked in, each position gives exactly the record
that ends there, and an offset where no record ends gives nothing."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from events.filelog import RECORD_WINDOW, SPAN_GAP_BYTES, FileLog
from events.position import Position

# Short lines, lines longer than the window before a record, and gaps wider than a span.
lengths = st.one_of(st.integers(1, 200), st.integers(RECORD_WINDOW - 2, RECORD_WINDOW + 2),
                    st.just(SPAN_GAP_BYTES + 10))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(lengths, st.booleans()), min_size=1, max_size=30), st.randoms())
def test_each_position_gives_the_record_ending_there(lines: list[tuple[int, bool]],
                                                     chance: random.Random) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "runs.jsonl"
        content, records = bytearray(), {}
        for number, (length, blank_before) in enumerate(lines):
            if blank_before:
                content += b"\n"
            raw = b'{"n":%d,"pad":"%s"}' % (number, b"x" * length)
            content += raw + b"\n"
            records[len(content)] = raw
        path.write_bytes(bytes(content))
        log = FileLog(path)
        generation = anyio.run(log.current).generation
        not_ends = [offset for offset in range(1, len(content) + 1) if offset not in records]
        asked = [*records, *chance.sample(not_ends, min(5, len(not_ends)))]
        asked += chance.choices(asked, k=3)
        chance.shuffle(asked)
        found = anyio.run(log.read_at, [Position(generation, offset) for offset in asked])
        anyio.run(log.aclose)
        assert found == [records.get(offset) for offset in asked]
