"""Running a run's items: which ones, how many at once, and how the run ends.

A run started or retried runs every item not judged yet; a run resumed after an
interruption (SPEC §7.4) keeps its faulted items too, judges the answers it already
has without asking the model again, and runs only what was pending or running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from events.schema import Event, FinalStatus, ItemFaulted
from events.writer import now_timestamp
from harness.commands import (
    provider_config,
    resumed_sequences,
    run_concurrency,
    unfinished_sequences,
)
from harness.datasets import DatasetCatalog
from harness.errors import HarnessError
from harness.item_runner import ItemRunner
from harness.providers import SharedHttpClient, make_provider
from harness.settings import Settings
from projections.state import RunRecord


async def run_items(record: RunRecord, *, resume: bool, catalog: DatasetCatalog,
                    settings: Settings, http_client: SharedHttpClient | None,
                    write: Callable[[list[Event]], Awaitable[None]],
                    canceling: Callable[[], bool]) -> tuple[FinalStatus, str | None]:
    """Run ``record``'s items as ``resume`` says, writing their events with ``write``;
    the status the run ends with, and its error. A run is ``failed`` when every one of
    its items faulted."""
    run_id = record.info.id
    try:
        dataset = catalog.load(record.info.dataset_name)
        provider = make_provider(record.info.provider_name, settings, http_client=http_client)
    except HarnessError as error:
        return "failed", error.message
    items = {item.sequence: item for item in dataset.items}
    if resume:
        todo, to_judge = resumed_sequences(record)
    else:
        todo, to_judge = unfinished_sequences(record), []
    running_again = set(todo)  # a list's ``in`` made this quadratic in the run's size
    kept_faults = sum(1 for sequence in range(1, record.total + 1)
                      if sequence not in running_again
                      and record.item(sequence).state == "faulted")
    attempts = {sequence: record.item(sequence).attempts for sequence in todo}
    runner = ItemRunner(run_id=run_id, provider=provider, model=record.info.model_name,
                        config=provider_config(record.config), write=write,
                        canceling=canceling)
    for sequence in to_judge:
        answered = record.item(sequence)
        if sequence in items and answered.response_text is not None:
            await runner.judge_answered(items[sequence], answered.response_text)
        else:
            todo.append(sequence)  # nothing to judge it by: ask again
    errors: list[str] = []
    work = iter(todo)

    async def worker() -> None:
        for sequence in work:
            item = items.get(sequence)
            error: str | None
            if item is None:
                error = f"dataset {dataset.name} no longer has item {sequence}"
                await write([ItemFaulted(run_id=run_id, sequence=sequence, error=error,
                                         ts=now_timestamp())])
            else:
                error = await runner.run(item, attempt=attempts.get(sequence, 0) + 1)
            if error is not None:
                errors.append(error)
            # A provider that never waits must not starve the server's requests.
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as workers:
        for _ in range(min(run_concurrency(record.config), len(todo))):
            workers.start_soon(worker)
    if record.total and kept_faults + len(errors) == record.total:
        last = errors[-1] if errors else "as before"
        return "failed", f"every item faulted; the last: {last}"
    return "completed", None
