"""``python -m bench``: every benchmark, with figures and ratios, on this machine.

``--quick`` shrinks the sizes for a smoke run; the figures in RESULTS.md come from a
full run.
"""

from __future__ import annotations

import argparse
import importlib
import os
from typing import Any

from bench.common import machine

# name -> (module, its main's arguments for a full run, for a --quick run)
BENCHMARKS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "latency": ("bench.latency", {"appends": 300}, {"appends": 50}),
    "replay": ("bench.replay", {"events": 1_000_000}, {"events": 100_000}),
    "fanout": ("bench.fanout", {"clients": 500, "appends": 40}, {"clients": 50, "appends": 10}),
    "dashboard": ("bench.dashboard", {"items": 10_000}, {"items": 2_000}),
    "executor": ("bench.bench_executor", {"items": 20_000, "concurrency": 16},
                 {"items": 2_000, "concurrency": 16}),
    "subscribe": ("bench.subscribe", {"items": 20_000, "concurrency": 16},
                  {"items": 2_000, "concurrency": 16}),
    "jetstream": ("bench.jetstream",
                  {"appends": 300, "ingest_each": 100_000, "cold_events": 1_000_000,
                   "clients": 2_000, "fan_appends": 20},
                  {"appends": 50, "ingest_each": 10_000, "cold_events": 50_000,
                   "clients": 100, "fan_appends": 5}),
    "resume": ("bench.resume", {"clients": 8, "log_mb": 50}, {"clients": 8, "log_mb": 5}),
    # Issue #12: one node at any size.
    "restart": ("bench.restart", {"sizes": (1_000_000, 10_000_000)}, {"sizes": (100_000,)}),
    "reads": ("bench.reads", {"events": 1_000_000}, {"events": 100_000, "seconds": 2}),
    "streams": ("bench.streams", {}, {"quick": True}),
    "readback": ("bench.readback", {"events": 1_000_000}, {"events": 100_000, "runs": 50}),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="default: all")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for name in args.names or BENCHMARKS:
        module, full, quick = BENCHMARKS[name]
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"\n== {name} (load average {load}: how busy the machine is)")
        importlib.import_module(module).main(**(quick if args.quick else full))


if __name__ == "__main__":
    main()
