"""Cold replay of a generated log, next to the raw parse rate of the same lines.

Ratios: replay (decode + fold into every read model) against ``orjson.loads`` of each
line into dicts — the floor any design that parses the log must pay — and against the
seed design's ``json.loads`` per line.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import anyio
import orjson

from bench.common import generate_log
from events.filelog import FileLog
from harness.live import replay


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main(events: int = 1_000_000) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "runs.jsonl"
        count = generate_log(path, events=events)
        size_mb = path.stat().st_size / 1e6

        def raw_orjson() -> None:
            for line in path.read_bytes().splitlines():
                orjson.loads(line)

        def raw_json() -> None:
            for line in path.read_bytes().splitlines():
                json.loads(line)

        def cold_replay() -> None:
            models = anyio.run(replay, FileLog(path).reader())
            assert models.events_applied == count

        orjson_s = best_of(2, raw_orjson)
        json_s = best_of(1, raw_json)
        replay_s = best_of(2, cold_replay)
    figures = {
        "events": count, "size_mb": size_mb,
        "orjson_per_s": count / orjson_s, "json_per_s": count / json_s,
        "replay_per_s": count / replay_s,
    }
    figures["ratio_to_orjson"] = figures["replay_per_s"] / figures["orjson_per_s"]
    figures["ratio_to_seed_json"] = figures["replay_per_s"] / figures["json_per_s"]
    print(f"cold replay: {count:,} events ({size_mb:.0f} MB) in {replay_s:.2f} s = "
          f"{figures['replay_per_s']:,.0f} events/s")
    print(f"  raw orjson.loads of the same lines: {figures['orjson_per_s']:,.0f} lines/s "
          f"-> replay is {figures['ratio_to_orjson']:.0%} of raw parse (target >= 50%)")
    print(f"  stdlib json.loads (the seed's parse): {figures['json_per_s']:,.0f} lines/s "
          f"-> replay is {figures['ratio_to_seed_json']:.1f}x it")
    return figures


if __name__ == "__main__":
    main()
