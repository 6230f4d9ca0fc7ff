"""Start-up on a JetStream log from a read-model snapshot: the snapshot's position is a
stream sequence and its generation the stream's history, so a start folds only the
records after it, and a purged or re-created stream makes it worthless."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from events.jetstream import JetStreamLog
from harness.live import LiveLog
from harness.snapshots import SnapshotStore
from harness.snapshotting import take_snapshot
from tests.support.events import run_history
from tests.support.nats import NatsServer
from tests.support.state import dump, dump_read_back

pytestmark = pytest.mark.anyio


@pytest.fixture
async def log(nats_server: NatsServer) -> AsyncIterator[JetStreamLog]:
    log = JetStreamLog(nats_server.log_url("SNAP"), recheck_s=60)
    yield log
    await log.aclose()


async def started(log: JetStreamLog, store: SnapshotStore | None) -> LiveLog:
    live = LiveLog(log)
    await live.start(snapshots=store)
    await live.reader.aclose()
    return live


async def test_a_snapshot_plus_the_streams_tail_equals_a_full_replay(
        log: JetStreamLog, tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    await log.append(run_history("r1", total=3))
    await take_snapshot(await started(log, None), store)
    await log.append(run_history("r2", total=2, answers=(False, True), finish=None))

    resumed = await started(log, store)
    full = await started(log, None)

    assert resumed.events_in_snapshot == len(run_history("r1", total=3))
    assert resumed.position == full.position == await log.current()
    assert await dump_read_back(resumed.models, resumed.details) == dump(full.models)
    assert {record.info.id for record in resumed.models.runs.order} == {"r1", "r2"}


@pytest.mark.parametrize("how", ["purged", "re-created"])
async def test_a_snapshot_of_an_earlier_history_of_the_stream_is_ignored(
        log: JetStreamLog, tmp_path: Path, how: str) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    await log.append(run_history("old", total=3))
    await take_snapshot(await started(log, None), store)
    js = await log.jetstream()
    if how == "purged":
        await js.purge_stream("SNAP")
    else:
        await js.delete_stream("SNAP")
        await log.history()  # made again
    await log.append(run_history("new", total=1, answers=(True,)))

    resumed = await started(log, store)

    assert resumed.events_in_snapshot == 0
    assert {record.info.id for record in resumed.models.runs.order} == {"new"}
    assert dump(resumed.models) == dump((await started(log, None)).models)
