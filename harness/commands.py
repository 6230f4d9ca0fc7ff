"""What the write API may ask for, and the events each request becomes.

Every function here validates a request against the current read models and returns
the events to append, or raises the ``HarnessError`` that says why not. Nothing here
appends: the caller writes the events only once they are all known to be valid, so a
rejected command leaves the log untouched.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import msgspec

from events.schema import (
    Event,
    ItemFaulted,
    QueueEnqueued,
    QueueRemoved,
    RunCancelRequested,
    RunCreated,
    RunFinished,
    RunResumed,
)
from events.writer import now_timestamp
from harness.api_shapes import DEFAULT_CONCURRENCY, RunSpec
from harness.datasets import Dataset, DatasetCatalog
from harness.errors import Conflict, Invalid, NotFound
from harness.providers import make_provider
from harness.settings import Settings
from projections.readmodels import ReadModels
from projections.state import RunRecord

CONCURRENCY_KEY = "concurrency"
"""Where a run's concurrency is kept in its ``run_created.config``, so that a run resumed
after a restart runs as wide as it was asked to. The provider never sees this key; its
presence is also what marks a run as created by this server's executor."""

FINISHED_ITEM_STATES = frozenset({"correct", "incorrect"})

CANCELED = "canceled"  # the error of an item that a cancel ended


def new_id(prefix: str) -> str:
    """A short id that sorts by creation time: milliseconds in hex, then randomness."""
    return f"{prefix}-{int(time.time() * 1000):x}{secrets.token_hex(3)}"


def provider_config(config: dict[str, Any]) -> dict[str, Any]:
    """A run's ``config`` as its provider sees it."""
    return {k: v for k, v in config.items() if k != CONCURRENCY_KEY}


def is_own_run(record: RunRecord) -> bool:
    """Whether the run was created by the executor (rather than by another writer, which
    may still be running it), so that a restarted server may resume it."""
    return isinstance(record.config.get(CONCURRENCY_KEY), int)


def run_concurrency(config: dict[str, Any]) -> int:
    value = config.get(CONCURRENCY_KEY)
    return value if isinstance(value, int) and 1 <= value <= 64 else DEFAULT_CONCURRENCY


def check_spec(spec: RunSpec, catalog: DatasetCatalog, settings: Settings) -> Dataset:
    """The dataset ``spec`` names, once its provider, model config and dataset check out."""
    try:
        provider = make_provider(spec.provider_name, settings)
    except Invalid as error:
        raise Invalid(error.message, details={"in": "body", "field": "providerName"}) from None
    try:
        provider.validate_config(spec.config)
    except Invalid as error:
        raise Invalid(error.message, details={"in": "body", "field": "config"}) from None
    try:
        return catalog.load(spec.dataset_name)
    except NotFound:
        raise Invalid(f"no dataset named {spec.dataset_name!r}",
                      details={"in": "body", "field": "datasetName"}) from None
    except Invalid as error:
        raise Invalid(error.message, details={"in": "body", "field": "datasetName"}) from None


def plan_create(spec: RunSpec, catalog: DatasetCatalog, settings: Settings, *,
                run_id: str | None = None) -> RunCreated:
    dataset = check_spec(spec, catalog, settings)
    total = len(dataset.items) if spec.limit is None else min(spec.limit, len(dataset.items))
    return RunCreated(
        run_id=run_id or new_id("run"), ts=now_timestamp(),
        provider_name=spec.provider_name, model_name=spec.model_name,
        dataset_name=spec.dataset_name, total=total,
        config={**spec.config, CONCURRENCY_KEY: spec.concurrency}, labels=spec.labels,
    )


def plan_enqueue(spec: RunSpec, catalog: DatasetCatalog, settings: Settings) -> QueueEnqueued:
    check_spec(spec, catalog, settings)
    return QueueEnqueued(queue_id=new_id("queue"), ts=now_timestamp(),
                         spec=msgspec.to_builtins(spec))


def plan_dequeue(models: ReadModels, queue_id: str) -> QueueRemoved:
    if queue_id not in models.queue.pending:
        raise NotFound("queued run", queue_id)
    return QueueRemoved(queue_id=queue_id, ts=now_timestamp())


def find_run(models: ReadModels, run_id: str) -> RunRecord:
    record = models.runs.runs.get(run_id)
    if record is None:
        raise NotFound("run", run_id)
    return record


def plan_cancel(record: RunRecord) -> RunCancelRequested:
    if not record.active:
        raise Conflict(f"run {record.info.id} is {record.info.status}: only a pending or "
                       "running run can be canceled", details={"status": record.info.status})
    if record.lifecycle.cancel_requested_at is not None:
        raise Conflict(f"run {record.info.id} is already being canceled",
                       details={"status": record.info.status})
    return RunCancelRequested(run_id=record.info.id, ts=now_timestamp())


def finish_canceled(record: RunRecord) -> list[Event]:
    """The end of a canceled run that nothing executes any more (its server died while
    canceling it, or another writer left it): its in-flight items end as canceled
    faults, so that a finished run holds no item still running or awaiting a verdict."""
    now = now_timestamp()
    faults: list[Event] = [
        ItemFaulted(run_id=record.info.id, sequence=sequence, error=CANCELED, canceled=True,
                    ts=now)
        for sequence, item in sorted(record.items.items())
        if item.state in ("running", "awaiting")]
    return [*faults, RunFinished(run_id=record.info.id, status="canceled", ts=now)]


def unfinished_sequences(record: RunRecord) -> list[int]:
    """The items a retry runs again: all but those judged."""
    return [sequence for sequence in range(1, record.total + 1)
            if record.item(sequence).state not in FINISHED_ITEM_STATES]


def resumed_sequences(record: RunRecord) -> tuple[list[int], list[int]]:
    """What resuming an interrupted run does (SPEC §7.4): the items that run again
    (pending or running) and those judged from the answer they already have (awaiting).
    Judged and faulted items are finished, and kept; a retry is what runs faults again."""
    again: list[int] = []
    to_judge: list[int] = []
    for sequence in range(1, record.total + 1):
        state = record.item(sequence).state
        if state in ("pending", "running"):
            again.append(sequence)
        elif state == "awaiting":
            to_judge.append(sequence)
    return again, to_judge


def plan_retry(record: RunRecord) -> RunResumed:
    if record.active:
        raise Conflict(f"run {record.info.id} is still {record.info.status}: retry it once "
                       "it has finished", details={"status": record.info.status})
    if not unfinished_sequences(record):
        raise Conflict(f"run {record.info.id} has no faulted or unfinished items to retry",
                       details={"status": record.info.status})
    return RunResumed(run_id=record.info.id, ts=now_timestamp())
