"""The demo (``python run.py --demo``): a few simulated runs always going, so that a
newcomer opens the dashboard on a live board.

Runs go through the same commands as the API's, with the ``simulated`` provider on the
built-in datasets: different model names, speeds, accuracies and fault rates, and now
and then one of them is canceled halfway.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import anyio

from harness.api_shapes import RunSpec
from harness.errors import HarnessError
from harness.executor import Executor

logger = logging.getLogger("harness.demo")

# model name → simulated behaviour: mean latency of one answer in ms (about what a real
# chat model takes, so a run lasts tens of seconds and its streaming can be watched),
# accuracy and fault rate.
MODELS: dict[str, dict[str, Any]] = {
    "gpt-4.1": {"latencyMs": 1200, "accuracy": 0.88, "faultRate": 0.01},
    "claude-sonnet": {"latencyMs": 1500, "accuracy": 0.9, "faultRate": 0.01},
    "llama-3.1-70b": {"latencyMs": 900, "accuracy": 0.72, "faultRate": 0.06},
    "mistral-large": {"latencyMs": 1800, "accuracy": 0.78, "faultRate": 0.03},
    "qwen2.5-7b": {"latencyMs": 600, "accuracy": 0.55, "faultRate": 0.1},
}


def demo_spec(rng: random.Random, datasets: list[str]) -> RunSpec:
    model = rng.choice(list(MODELS))
    config = {**MODELS[model], "seed": rng.randrange(1 << 30), "chunks": rng.randint(4, 12)}
    return RunSpec(provider_name="simulated", model_name=model,
                   dataset_name=rng.choice(datasets), limit=rng.randint(20, 80),
                   concurrency=rng.randint(1, 4), labels={"demo": "true"}, config=config)


async def run_demo(executor: Executor, *, runs: int = 3, check_s: float = 2.0,
                   cancel_chance: float = 0.04, seed: int | None = None) -> None:
    """Keep ``runs`` demo runs going until cancelled.

    Every ``check_s`` seconds finished runs are replaced, and with ``cancel_chance`` one
    running demo run is canceled.
    """
    rng = random.Random(seed)
    datasets = [info.name for info in executor.catalog.list() if info.source == "builtin"]
    if not datasets:
        logger.warning("demo: no built-in dataset to run")
        return
    mine: list[str] = []
    while True:
        runs_now = executor.live.models.runs.runs
        # A run can vanish from the read models: the log was truncated or replaced.
        mine = [run_id for run_id in mine if run_id in runs_now and runs_now[run_id].active]
        try:
            while len(mine) < runs:
                record = await executor.create(demo_spec(rng, datasets))
                mine.append(record.info.id)
            if mine and rng.random() < cancel_chance:
                await executor.cancel(rng.choice(mine))
        except HarnessError as error:  # e.g. a run that finished while it was picked
            logger.info("demo: %s", error.message)
        await anyio.sleep(check_s)


async def keep_demo_running(executor: Executor, *, pause_s: float = 5.0) -> None:
    """The demo is a convenience: a fault in it is logged and the demo starts again,
    instead of taking the server's other tasks down with it."""
    while True:
        try:
            await run_demo(executor)
            return
        except Exception:
            logger.exception("demo: stopped by an error; starting again in %.0f s", pause_s)
            await anyio.sleep(pause_s)
