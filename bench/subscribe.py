"""One ``harness.client`` subscriber against the executor at full speed.

The server runs in its own process; a run of ``items`` questions executes with the
``simulated`` provider at zero latency. This process follows it with the sync client's
``subscribe`` folded into a ``LiveBoard`` (what ``harness watch`` does), from before the
run is created until the board shows it completed at the server's final position.

Figures: the items per second the subscriber took in (the run's items over the time
from creating it to the subscriber having folded its end), the executor's own rate (the
same items over the log's created → finished timestamps), and the subscriber's lag at
the end (when it folded ``run_finished`` minus that event's time). Then the consumer's
own ceiling: the same subscriber folding the finished run from the log's start.
Keeping up means taking items in as fast as the executor makes them, with a lag that
does not grow with the run, and a ceiling ≥ 5,000 items/s.

The executor's own speed depends on how busy the machine is, so a third figure does
not depend on it: a writer thread appends whole streamed, judged items (six log lines
each) at a fixed ``paced_per_s`` above the target, and the same subscriber follows.
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_executor import write_dataset
from bench.common import TS, item_events, server_process
from events import schema as ev
from events.writer import append_events
from harness.client import FROM_START, Harness, LiveBoard

TARGET_ITEMS_PER_S = 5_000


def measure(items: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        (data_dir / "datasets").mkdir()
        write_dataset(data_dir / "datasets" / "bench.jsonl", items)
        with (server_process(data_dir, env={"HARNESS_SEMANTIC_MEMORY": "0"}) as (url, _),
              Harness(url) as harness):
            board = LiveBoard()
            messages = 0
            with harness.subscribe(after=harness.data().position) as subscription:
                started = time.monotonic()
                run_id = harness.create_run(
                    provider_name="simulated", model_name="bench", dataset_name="bench",
                    concurrency=concurrency,
                    config={"seed": 1, "latencyMs": 0, "faultRate": 0, "chunks": 8}).run.id
                for message in subscription:
                    messages += 1
                    board.apply(message, cursor=subscription.cursor)
                    record = board.runs.get(run_id)
                    # The run's end and its last judgement may share one batch, whose
                    # messages come in any order: stop once both are folded.
                    if record is not None and record.info.status not in ("running", "pending") \
                            and record.progress() == harness.run(run_id).progress:
                        break
                folded_at = time.monotonic()
                seen_at = datetime.now(UTC)
            detail = harness.run(run_id)
            catch_up_s = _catch_up(harness, detail.progress.total)
    elapsed = folded_at - started
    assert detail.run.created_at and detail.run.finished_at and record is not None
    executor_s = (detail.run.finished_at - detail.run.created_at).total_seconds()
    lag_ms = (seen_at - detail.run.finished_at).total_seconds() * 1000
    if record.progress() != detail.progress:
        raise RuntimeError(f"subscriber saw {record.progress()}, server {detail.progress}")
    rate = items / elapsed
    figures = {"items": items, "seconds": elapsed, "items_per_s": rate,
               "executor_items_per_s": items / executor_s, "lag_ms": lag_ms,
               "messages_per_s": messages / elapsed, "catch_up_items_per_s": items / catch_up_s}
    print(f"one subscribe() consumer (LiveBoard fold) following the executor at full speed: "
          f"{items} items at concurrency {concurrency} -> {rate:,.0f} items/s taken in "
          f"({messages / elapsed:,.0f} stream messages/s) = {rate * executor_s / items:.2f} "
          f"of the executor's own {items / executor_s:,.0f} items/s; lag at the end "
          f"{lag_ms:.0f} ms; {rate / TARGET_ITEMS_PER_S:.2f}x the target of "
          f"{TARGET_ITEMS_PER_S:,} items/s")
    print(f"the same subscriber's capacity, folding the finished run from the log's start "
          f"(FROM_START): {items / catch_up_s:,.0f} items/s = "
          f"{items / catch_up_s / TARGET_ITEMS_PER_S:.2f}x the target")
    return figures


def _catch_up(harness: Harness, items: int) -> float:
    """Seconds to fold the whole state from the stream: the consumer's own ceiling."""
    board = LiveBoard()
    position = harness.data().position
    started = time.monotonic()
    with harness.subscribe(after=FROM_START) as subscription:
        for message in subscription:
            board.apply(message, cursor=subscription.cursor)
            if subscription.cursor == position:
                break
    elapsed = time.monotonic() - started
    folded = sum(len(record.items) for record in board.runs.values())
    if folded != items:
        raise RuntimeError(f"catch-up folded {folded} items of {items}")
    return elapsed


def measure_paced(items: int, per_s: int, *, batch_s: float = 0.01) -> dict[str, float]:
    """The subscriber following a writer that appends ``per_s`` items a second."""
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        log = data_dir / "runs.jsonl"
        append_events(log, [ev.RunCreated(run_id="paced", provider_name="simulated",
                                          model_name="m", dataset_name="d", total=items, ts=TS),
                            ev.RunStarted(run_id="paced", ts=TS)])
        with (server_process(data_dir, env={"HARNESS_SEMANTIC_MEMORY": "0"}) as (url, _),
              Harness(url) as harness,
              harness.subscribe(after=harness.data().position) as subscription):
            board = LiveBoard()
            written: list[float] = []
            writer = threading.Thread(target=_write_paced, args=(log, items, per_s, batch_s,
                                                                 written))
            started = time.monotonic()
            writer.start()
            for message in subscription:
                board.apply(message, cursor=subscription.cursor)
                if board.runs["paced"].info.status == "completed":
                    break
            folded_at = time.monotonic()
            writer.join()
    offered = items / (written[0] - started)
    taken = items / (folded_at - started)
    lag_ms = (folded_at - written[0]) * 1000
    print(f"the same subscriber following a writer at {per_s:,} items/s ({6 * per_s:,} log "
          f"lines/s; offered {offered:,.0f} items/s): took in {taken:,.0f} items/s, lag at "
          f"the end {lag_ms:.0f} ms; {taken / TARGET_ITEMS_PER_S:.2f}x the target")
    return {"offered_items_per_s": offered, "paced_items_per_s": taken, "paced_lag_ms": lag_ms}


def _write_paced(log: Path, items: int, per_s: int, batch_s: float,
                 written: list[float]) -> None:
    per_batch = max(1, round(per_s * batch_s))
    started = time.monotonic()
    for first in range(1, items + 1, per_batch):
        last = min(first + per_batch, items + 1)
        append_events(log, [event for sequence in range(first, last)
                            for event in item_events("paced", sequence)])
        time.sleep(max(0.0, started + (last - 1) / per_s - time.monotonic()))
    append_events(log, [ev.RunFinished(run_id="paced", status="completed", ts=TS)])
    written.append(time.monotonic())


def main(items: int = 20_000, concurrency: int = 16, paced_per_s: int = 6_000
         ) -> dict[str, float]:
    return {**measure(items, concurrency), **measure_paced(items, paced_per_s)}


if __name__ == "__main__":
    main()
