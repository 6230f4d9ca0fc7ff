"""The Browser Harness commands: hand out a signed pack, import its captures as a run.

Pack item ``n`` is the dataset's ``n``-th item, so an import finds each answer key by
position. An import is idempotent: its run id is derived from the pack and the
captures, and one that names an existing run returns that run and writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio

from harness.datasets import Dataset, DatasetCatalog, render_prompt
from harness.errors import Invalid, LogUnavailable
from harness.judge import Verdict, judge_choice
from harness.live import LiveLog
from harness.packs import (
    Capture,
    Pack,
    PackItem,
    check_captures,
    import_events,
    import_run_id,
    new_pack,
    verify,
)
from projections.state import RunRecord


class DatasetChanged(Invalid):
    code = "dataset_changed"


@dataclass(frozen=True, slots=True)
class Imported:
    """The run an import names, and whether this import created it."""

    record: RunRecord
    created: bool


async def build_pack(*, datasets: DatasetCatalog, key: bytes, dataset_name: str,
                     model_name: str, provider_name: str, limit: int | None) -> Pack:
    dataset = await _load(datasets, dataset_name)
    chosen = dataset.items[:limit] if limit is not None else dataset.items
    items = [PackItem(sequence=position, prompt_text=render_prompt(item), choices=item.choices)
             for position, item in enumerate(chosen, start=1)]
    return new_pack(dataset_name=dataset.name, model_name=model_name,
                    provider_name=provider_name, items=items, key=key, now=datetime.now(UTC))


class ImportsInFlight:
    """The imports this process is writing, by run id: an identical import that arrives
    meanwhile waits for the first and answers with its run, instead of writing a copy.
    ``unseen`` are the imports written whose events the reader has not shown yet (their
    append ran out of time): sending them again must not write them again."""

    def __init__(self) -> None:
        self._writing: dict[str, anyio.Event] = {}
        self.unseen: set[str] = set()

    @asynccontextmanager
    async def writing(self, run_id: str) -> AsyncIterator[None]:
        while (earlier := self._writing.get(run_id)) is not None:
            await earlier.wait()
        done = self._writing[run_id] = anyio.Event()
        try:
            yield
        finally:
            del self._writing[run_id]
            done.set()


async def import_captures(*, live: LiveLog, datasets: DatasetCatalog, key: bytes, pack: Pack,
                          captures: list[Capture], in_flight: ImportsInFlight) -> Imported:
    """Verify the pack, judge the captures and append the run in one write.

    Every check comes before the write, so a rejected import leaves the log as it was;
    the write is one append, whole or absent, so a failed one leaves nothing that a
    retry would take for the run. Identical imports at once write one run (the
    others wait for it); across processes, the events' ids make a second copy fold to
    nothing.
    """
    now = datetime.now(UTC)
    verify(pack, key, now=now)
    check_captures(pack, captures)
    run_id = import_run_id(pack, captures)
    async with in_flight.writing(run_id):
        if (existing := live.models.runs.runs.get(run_id)) is not None:
            in_flight.unseen.discard(run_id)
            return Imported(existing, created=False)
        if run_id in in_flight.unseen:
            raise LogUnavailable("this import was written, but the log reader has not shown "
                                 "it yet; send it again shortly", details={"runId": run_id})
        dataset = await _load(datasets, pack.dataset_name)
        verdicts = _judge(dataset, pack, captures)
        try:
            await live.append(import_events(pack, captures, verdicts, run_id=run_id, now=now))
        except LogUnavailable:
            in_flight.unseen.add(run_id)
            raise
    return Imported(live.models.runs.runs[run_id], created=True)


def _judge(dataset: Dataset, pack: Pack, captures: list[Capture]) -> dict[int, Verdict]:
    """Each capture's verdict against the dataset item the pack showed for it.

    If the dataset was edited since the pack was made, a prompt no longer matches and
    judging against the new answer key would be wrong, so the import is refused.
    """
    prompts = {item.sequence: item.prompt_text for item in pack.items}
    verdicts: dict[int, Verdict] = {}
    for capture in captures:
        position = capture.sequence
        item = dataset.items[position - 1] if position <= len(dataset.items) else None
        if item is None or render_prompt(item) != prompts[position]:
            raise DatasetChanged(
                f"dataset {pack.dataset_name!r} changed since the pack was made: item "
                f"{position} is no longer the one in the pack", details={"sequence": position})
        verdicts[position] = judge_choice(item, capture.response_text)
    return verdicts


async def _load(datasets: DatasetCatalog, name: str) -> Dataset:
    return await anyio.to_thread.run_sync(datasets.load, name)
