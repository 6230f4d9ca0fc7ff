"""A shed run's details, read back from the log by position and folded again.

A finished run lets the log hold its items and log lines (``projections.shedding``);
whoever needs them — an item route, a resuming stream, a retry, the fold about to
change the run — asks ``RunDetails``, which reads the run's own events back
(``EventLog.read_at``) and folds them into a fresh run: the very fold that made the
run in the first place, so what comes back is what the read models showed. The last
few runs read are kept (``cached_runs``, ``cached_items``).

The log is the truth, and it may have changed since the positions were noted (a
rotation, a rewrite in place under the same generation): a position that no longer
holds a record of this run, or a fold that does not end in the run the read models
hold (its status, counts, usage, positions…), is ``HistoryChanged`` — a clear error
until the reader rebuilds the models from the new history, never a wrong answer.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Callable

import anyio
import anyio.to_thread

from events.log import EventLog, RecordBatch
from harness.errors import LogUnavailable
from harness.time_travel import RecordGone, events_at
from projections import shedding
from projections.readmodels import Applied, ReadModels
from projections.state import RunRecord
from projections.time_travel import fold_run

logger = logging.getLogger("harness.readback")

CACHED_RUNS = 8
CACHED_ITEMS = 200_000

_Key = tuple[str, str, int]  # run id, generation, the run's ``changed_at``


class HistoryChanged(LogUnavailable):
    """The log no longer holds a run's history as the read models noted it."""

    code = "history_changed"

    def __init__(self, run_id: str, why: str) -> None:
        super().__init__(f"the log no longer holds run {run_id}'s history as it was read "
                         f"({why}); the server rebuilds its read models from the log as "
                         "it is now: retry shortly", details={"runId": run_id})


class RunDetails:
    """Shed runs' details from ``log``; ``cached_runs`` and ``cached_items`` bound what
    is kept of the runs read last (whichever is reached first)."""

    def __init__(self, log: EventLog, *, cached_runs: int = CACHED_RUNS,
                 cached_items: int = CACHED_ITEMS) -> None:
        self.log = log
        self.cached_runs = cached_runs
        self.cached_items = cached_items
        self.reads = 0  # runs read back from the log
        self.hits = 0  # asks answered from the cache
        self._cache: OrderedDict[_Key, RunRecord] = OrderedDict()
        self._cached_items = 0
        self._loading: dict[_Key, anyio.Event] = {}

    async def of(self, record: RunRecord, *, generation: str) -> RunRecord:
        """``record`` itself if it holds its details; else its run folded afresh from
        the log (read-only: shared with other readers). ``generation`` is the history
        the read models holding ``record`` were folded from."""
        if not record.shed:
            return record
        key = (record.info.id, generation, record.changed_at)
        while (loading := self._loading.get(key)) is not None:
            await loading.wait()  # another reader is reading this run back: share it
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.hits += 1
            return cached
        self._loading[key] = done = anyio.Event()
        try:
            folded = await read_back(self.log, record, generation=generation)
        finally:
            del self._loading[key]
            done.set()
        self.reads += 1
        self._keep(key, folded)
        return folded

    async def restore(self, record: RunRecord, *, generation: str) -> None:
        """Make ``record`` hold its details again (the fold is about to change it).

        Folded afresh, never the cached copy: readers may hold that one across awaits
        (a resume going through its items), and the fold changes what it adopts in place."""
        if not record.shed:
            return
        folded = await read_back(self.log, record, generation=generation)
        if record.shed:
            self._forget((record.info.id, generation, record.changed_at))
            record.restore_details(folded)  # its objects are the record's own from now on

    def forget_all(self) -> None:
        """Drop every run kept (the read models are being rebuilt: a history rewritten
        in place may keep its generation, and with it these runs' keys)."""
        self._cache.clear()
        self._cached_items = 0

    def _keep(self, key: _Key, folded: RunRecord) -> None:
        self._cache[key] = folded
        self._cached_items += len(folded.items)
        while len(self._cache) > 1 and (len(self._cache) > self.cached_runs
                                        or self._cached_items > self.cached_items):
            self._forget(next(iter(self._cache)))

    def _forget(self, key: _Key) -> None:
        folded = self._cache.pop(key, None)
        if folded is not None:
            self._cached_items -= len(folded.items)


async def read_back(log: EventLog, record: RunRecord, *, generation: str) -> RunRecord:
    """``record``'s run folded from its own events in ``log`` (``HistoryChanged`` if
    the log no longer holds them as they were: ``generation`` is then retired, and the
    live reader rebuilds the read models from the log as it is)."""
    try:
        return await _read_back(log, record, generation=generation)
    except HistoryChanged:
        log.retire(generation)
        log.notify()
        raise


async def _read_back(log: EventLog, record: RunRecord, *, generation: str) -> RunRecord:
    run_id = record.info.id
    # The run as asked for: the fold may restore and change it while it is read back,
    # and the read is checked against what was asked, not against what it became.
    expected, positions = record.summary(), record.positions
    events = []
    try:
        async for event, end in events_at(log, generation, positions):
            if getattr(event, "run_id", None) != run_id:
                raise HistoryChanged(run_id, f"offset {end} holds another run's event")
            events.append((event, end))
    except RecordGone as gone:
        raise HistoryChanged(run_id, str(gone)) from None
    # Off the event loop: a run of 100,000 events folds for about half a second.
    folded = await anyio.to_thread.run_sync(fold_run, run_id, events)
    if folded is None or folded.summary() != expected:
        raise HistoryChanged(run_id, "its events fold to another run")
    return folded


async def fold_batch(models: ReadModels, batch: RecordBatch, details: RunDetails | None, *,
                     keep_records: bool = True, in_thread: bool = False,
                     each: Callable[[Applied], None] = lambda applied: None) -> None:
    """Apply all of ``batch`` to ``models``, reading back the details of each shed run
    it reaches before its event is applied (``Applied.needs``). ``each`` is called with
    every part applied, in order, at once (before anything else may change or shed the
    runs it changed). ``in_thread`` folds in a worker thread (a replay, off the event
    loop, of models nothing else sees yet)."""
    fold = functools.partial(models.apply_batch, batch, keep_records=keep_records)
    while True:
        applied = await anyio.to_thread.run_sync(fold) if in_thread else fold()
        each(applied)
        if applied.needs is None:
            return
        if details is None:
            raise RuntimeError(f"run {applied.needs.info.id} shed its details and changes "
                               "again: folding it needs the log to read them back from")
        logger.info("run %s changes again: its details are read back from the log",
                    applied.needs.info.id)
        await details.restore(applied.needs, generation=batch.generation)


async def shed_finished_runs(models: ReadModels) -> int:
    """Let the log hold the details of every finished run of the live ``models``
    (``projections.shedding``): their shed forms are made in a worker thread and
    adopted back on the event loop; how many runs were shed."""
    todo = shedding.sheddable(models)
    forms = await anyio.to_thread.run_sync(shedding.shed_forms, todo) if todo else []
    return shedding.shed(models, forms)
