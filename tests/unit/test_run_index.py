"""The run fold's indexes (status, creation order) always equal a recomputation from
every run."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from events import schema as ev
from projections.archive import ArchiveFilter, archive_page
from projections.creation_order import created_key
from projections.readmodels import ReadModels
from projections.run_index import finish_key
from projections.runs import RunStore

RUN_IDS = ("r1", "r2", "r3", "r4", "r5")
run_ids = st.sampled_from(RUN_IDS)
# Few distinct times, so that ties in finish time happen; sometimes none at all.
times = st.one_of(st.none(), st.integers(0, 4).map(
    lambda minute: datetime(2026, 3, 6, 19, minute, tzinfo=UTC)))

status_events = st.one_of(
    st.builds(lambda r, t: ev.RunCreated(run_id=r, provider_name="p", model_name="m",
                                         dataset_name="d", total=2, ts=t), run_ids, times),
    st.builds(lambda r, t: ev.RunStarted(run_id=r, ts=t), run_ids, times),
    st.builds(lambda r, t: ev.RunResumed(run_id=r, ts=t), run_ids, times),
    st.builds(lambda r, s, t: ev.RunFinished(run_id=r, status=s, ts=t), run_ids,
              st.sampled_from(["completed", "failed", "canceled"]), times),
    st.builds(lambda r, t: ev.RunCancelRequested(run_id=r, ts=t), run_ids, times),
    st.builds(lambda r, t: ev.ItemJudged(run_id=r, sequence=1, correct=True, ts=t),
              run_ids, times),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(status_events, max_size=40), st.integers(1, 6))
def test_board_order_and_counts_equal_a_scan_of_every_run(events: list[ev.Event],
                                                          limit: int) -> None:
    store = RunStore()
    for at, event in enumerate(events, start=1):
        store.apply(event, at, None)
        index = store.index
        scanned_active = [r for r in reversed(store.order) if r.active]
        scanned_finished = sorted((r for r in store.order if not r.active), key=finish_key,
                                  reverse=True)
        assert index.newest_active(limit) == scanned_active[:limit]
        assert list(index.latest_finished()) == scanned_finished
        assert index.by_status == Counter(r.info.status for r in store.order)
        assert index.active_count == len(scanned_active)


# Every status: a filter that admits every run but takes the general path.
ANY_STATUS = ArchiveFilter(status=frozenset({"pending", "running", "completed", "failed",
                                             "canceled"}))


@settings(max_examples=300, deadline=None)
@given(st.lists(status_events, max_size=40), st.integers(1, 6), st.booleans())
def test_archive_pages_by_creation_equal_a_sort_of_every_run(
        events: list[ev.Event], limit: int, descending: bool) -> None:
    models = ReadModels()
    store = models.runs
    for at, event in enumerate(events, start=1):
        store.apply(event, at, None)
        # Read between events too: the order catches up on runs created since.
        expected = sorted(store.order, key=created_key, reverse=descending)
        cursor: str | None = None
        for start in range(0, len(expected) + limit, limit):
            page = archive_page(models, ArchiveFilter(), limit=limit, cursor=cursor,
                                descending=descending)
            scanned = archive_page(models, ANY_STATUS, limit=limit, cursor=cursor,
                                   descending=descending)
            assert page == scanned
            assert [s.run.id for s in page.runs] == [
                r.info.id for r in expected[start:start + limit]]
            assert page.total == len(expected)
            cursor = page.next_cursor
            if cursor is None:
                break
