"""Properties over random histories: the progress invariants always hold, and a log
tailed in arbitrary pieces folds to exactly the state of a cold replay."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import schema as ev
from events.filelog import FileLog
from events.log import RecordBatch, Rotation, batch_of_lines
from events.tailer import LogTailer
from events.writer import encode_line
from harness.live import replay
from projections.readmodels import ReadModels
from tests.support.state import dump

RUN_IDS = ("r1", "r2", "r3")
TS = datetime(2026, 3, 6, 19, 43, 11, 123_000, tzinfo=UTC)

sequences = st.integers(min_value=1, max_value=6)
run_ids = st.sampled_from(RUN_IDS)

event_strategy = st.one_of(
    st.builds(lambda r, t: ev.RunCreated(run_id=r, provider_name="p", model_name="m",
                                         dataset_name="d", total=t, ts=TS),
              run_ids, st.integers(min_value=0, max_value=5)),
    st.builds(lambda r: ev.RunStarted(run_id=r, ts=TS), run_ids),
    st.builds(lambda r, s: ev.ItemStarted(run_id=r, sequence=s, prompt_text="Q", ts=TS),
              run_ids, sequences),
    st.builds(lambda r, s, t: ev.ItemDelta(run_id=r, sequence=s, text=t, ts=TS),
              run_ids, sequences, st.text(max_size=20)),
    st.builds(lambda r, s, n: ev.ItemAnswered(
        run_id=r, sequence=s, response_text="A", ts=TS,
        latency_ms=None if n is None else float(n),
        usage=None if n is None else ev.Usage(prompt_tokens=n, completion_tokens=2 * n)),
              run_ids, sequences, st.none() | st.integers(0, 1000)),
    st.builds(lambda r, s, c: ev.ItemJudged(run_id=r, sequence=s, correct=c, ts=TS),
              run_ids, sequences, st.booleans()),
    st.builds(lambda r, s: ev.ItemFaulted(run_id=r, sequence=s, error="e", ts=TS),
              run_ids, sequences),
    st.builds(lambda r: ev.RunResumed(run_id=r, ts=TS), run_ids),
    st.builds(lambda r, s: ev.RunFinished(run_id=r, status=s, ts=TS), run_ids,
              st.sampled_from(["completed", "failed", "canceled"])),
    st.builds(lambda r, i: ev.RunLog(run_id=r, level="info", message="m", event_id=i, ts=TS),
              run_ids, st.sampled_from(["e1", "e2", None])),
)
line_strategy = st.one_of(
    event_strategy.map(encode_line),
    st.sampled_from([b"garbage\n", b"[]\n", b'{"type":"nope"}\n', b"\n"]),
)


def assert_invariants(models: ReadModels) -> None:
    for record in models.runs.order:
        p = record.progress()
        assert p.completed == p.correct + p.incorrect
        assert p.completed + p.awaiting + p.faulted + p.pending == p.total
        assert min(p.correct, p.incorrect, p.awaiting, p.faulted, p.pending) >= 0
        assert record.info.status in ("pending", "running", "completed", "failed", "canceled")
        # The fold's usage totals are what the items' current attempts reported.
        items = record.items.values()
        usage = record.usage
        assert usage.prompt_tokens == sum(i.usage.prompt_tokens or 0 for i in items if i.usage)
        assert usage.completion_tokens == sum(
            i.usage.completion_tokens or 0 for i in items if i.usage)
        assert usage.latency_items == sum(1 for i in items if i.latency_ms is not None)
        assert usage.latency_ms_sum == sum(i.latency_ms or 0 for i in items)


@settings(max_examples=150, deadline=None)
@given(st.lists(line_strategy, max_size=60))
def test_progress_invariants_hold_after_every_line(lines: list[bytes]) -> None:
    models = ReadModels()
    offset = 0
    for line in lines:
        models.apply_batch(batch_of_lines(line, start=offset, generation="g"))
        offset += len(line)
        assert_invariants(models)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line_strategy, max_size=60), st.lists(st.integers(0, 10_000), max_size=12))
def test_tailing_in_arbitrary_pieces_equals_a_cold_replay(lines: list[bytes],
                                                          cuts: list[int]) -> None:
    data = b"".join(lines)
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "runs.jsonl"
        log.write_bytes(b"")
        tailer, live = LogTailer(log), ReadModels()

        def read() -> RecordBatch | Rotation | None:
            return tailer.read(max_records=10_000, max_bytes=4 << 20)
        previous = 0
        for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
            with log.open("ab") as out:  # appends that may end mid-line
                out.write(data[previous:cut])
            previous = cut
            while (batch := read()) is not None:
                assert isinstance(batch, RecordBatch)
                live.apply_batch(batch)
                assert_invariants(live)
        cold = anyio.run(replay, FileLog(log).reader())
        assert dump(live) == dump(cold)
        assert live.position == cold.position
