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
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_executor import write_dataset
from bench.common import server_process
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
                    if record is not None and record.info.status != "running" \
                            and record.info.status != "pending":
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


def main(items: int = 20_000, concurrency: int = 16) -> dict[str, float]:
    return measure(items, concurrency)


if __name__ == "__main__":
    main()
