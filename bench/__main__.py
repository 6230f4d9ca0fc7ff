"""``python -m bench``: every benchmark, with figures and ratios, on this machine.

``--quick`` shrinks the sizes for a smoke run; the figures in RESULTS.md come from a
full run.
"""

from __future__ import annotations

import argparse
import importlib

from bench.common import machine

BENCHMARKS = {
    "latency": ("bench.latency", {"appends": 300}, {"appends": 50}),
    "replay": ("bench.replay", {"events": 1_000_000}, {"events": 100_000}),
    "fanout": ("bench.fanout", {"clients": 500, "appends": 40}, {"clients": 50, "appends": 10}),
    "dashboard": ("bench.dashboard", {"items": 10_000}, {"items": 2_000}),
    "executor": ("bench.bench_executor", {"items": 20_000, "concurrency": 16},
                 {"items": 2_000, "concurrency": 16}),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="default: all")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for name in args.names or BENCHMARKS:
        module, full, quick = BENCHMARKS[name]
        print(f"\n== {name}")
        importlib.import_module(module).main(**(quick if args.quick else full))


if __name__ == "__main__":
    main()
