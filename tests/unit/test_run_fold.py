"""The run fold: statuses, progress, items, retries and lifecycle, as SPEC §3–4.1 say."""

from __future__ import annotations

from events import schema as ev
from tests.support.events import TS, at, fold, run_history


def test_a_whole_run_ends_completed_with_its_counts() -> None:
    record = fold(*run_history("a", total=3, answers=(True, False, True))).runs.runs["a"]
    snapshot = record.snapshot()
    assert snapshot.run.status == "completed"
    assert (snapshot.run.started_at, snapshot.run.finished_at) == (TS, TS)
    progress = snapshot.progress
    assert (progress.completed, progress.correct, progress.incorrect, progress.pending) == (
        3, 2, 1, 0)


def test_item_states_move_through_running_awaiting_and_judged() -> None:
    base = run_history("a", total=2, answers=(), finish=None)
    started = ev.ItemStarted(run_id="a", sequence=1, prompt_text="Q", ts=TS)
    answered = ev.ItemAnswered(run_id="a", sequence=1, response_text="B", answer="B", ts=TS)
    record = fold(*base, started).runs.runs["a"]
    assert record.item(1).state == "running"
    assert record.progress().pending == 2  # pending includes running items
    record = fold(*base, started, answered).runs.runs["a"]
    assert record.item(1).state == "awaiting"
    assert record.progress().awaiting == 1 and record.progress().pending == 1


def test_streamed_chunks_build_the_activity_preview() -> None:
    long_text = "x" * 300
    record = fold(*run_history("a", total=1, answers=(), finish=None),
                  ev.ItemStarted(run_id="a", sequence=1, prompt_text="Q", ts=TS),
                  ev.ItemDelta(run_id="a", sequence=1, text="Hello ", ts=TS),
                  ev.ItemDelta(run_id="a", sequence=1, text=long_text,
                               ts=at("2026-03-06T19:43:12.000Z"))).runs.runs["a"]
    activity = record.snapshot().current_item.activity
    assert activity.chunks == 2 and activity.chars == 306
    assert activity.preview == ("Hello " + long_text)[-280:]
    assert activity.last_chunk_at == at("2026-03-06T19:43:12.000Z")


def test_a_faulted_item_started_again_is_a_new_attempt_counted_once() -> None:
    record = fold(
        *run_history("a", total=1, answers=(), finish=None),
        ev.ItemStarted(run_id="a", sequence=1, prompt_text="Q", ts=TS),
        ev.ItemFaulted(run_id="a", sequence=1, error="boom", ts=TS),
        ev.ItemStarted(run_id="a", sequence=1, prompt_text="Q", ts=TS),
        ev.ItemAnswered(run_id="a", sequence=1, response_text="A", ts=TS),
        ev.ItemJudged(run_id="a", sequence=1, correct=True, ts=TS),
    ).runs.runs["a"]
    item = record.item(1)
    assert (item.state, item.attempts, item.error) == ("correct", 2, None)
    progress = record.progress()
    assert (progress.completed, progress.faulted, progress.total) == (1, 0, 1)


def test_cancel_and_resume_update_the_lifecycle() -> None:
    record = fold(
        *run_history("a", total=2, answers=(True,), finish=None),
        ev.RunCancelRequested(run_id="a", ts=at("2026-03-06T19:44:00.000Z")),
        ev.RunFinished(run_id="a", status="canceled", ts=at("2026-03-06T19:44:01.000Z")),
    ).runs.runs["a"]
    assert record.info.status == "canceled"
    assert record.lifecycle.cancel_requested_at == at("2026-03-06T19:44:00.000Z")
    resumed = fold(
        *run_history("a", total=2, answers=(True,), finish="canceled"),
        ev.RunResumed(run_id="a", ts=at("2026-03-06T19:45:00.000Z")),
    ).runs.runs["a"]
    assert resumed.info.status == "running" and resumed.info.finished_at is None
    assert resumed.lifecycle.resumed_count == 1
    assert resumed.lifecycle.last_resumed_at == at("2026-03-06T19:45:00.000Z")


def test_a_missing_timestamp_leaves_time_fields_unchanged() -> None:
    record = fold(ev.RunCreated(run_id="a", provider_name="p", model_name="m",
                                dataset_name="d", total=1),
                  ev.RunStarted(run_id="a")).runs.runs["a"]
    assert record.info.status == "running"
    assert record.info.created_at is None and record.info.started_at is None


def test_recent_items_are_the_five_latest_state_changes_newest_first() -> None:
    record = fold(*run_history("a", total=7, answers=(True,) * 7)).runs.runs["a"]
    assert [item.sequence for item in record.snapshot().recent_items] == [7, 6, 5, 4, 3]


def test_logs_hold_log_lines_and_lifecycle_events_in_order() -> None:
    record = fold(*run_history("a", total=1, answers=(True,), finish=None),
                  ev.RunLog(run_id="a", level="warning", message="slow provider", ts=TS),
                  ev.RunFinished(run_id="a", status="failed", error="quota", ts=TS)
                  ).runs.runs["a"]
    assert [entry.kind for entry in record.logs] == [
        "run_created", "run_started", "log", "run_finished"]
    assert record.logs[-1].message == "failed: quota"
    assert [entry.index for entry in record.logs] == [1, 2, 3, 4]


def test_feedback_is_the_latest_rating() -> None:
    record = fold(*run_history("a"),
                  ev.FeedbackGiven(run_id="a", rating="down", ts=TS),
                  ev.FeedbackGiven(run_id="a", rating="up", comment="good", ts=TS)).runs.runs["a"]
    assert (record.info.feedback.rating, record.info.feedback.comment) == ("up", "good")


def test_the_queue_keeps_pending_specs_in_order() -> None:
    models = fold(ev.QueueEnqueued(queue_id="q1", spec={"modelName": "a"}, ts=TS),
                  ev.QueueEnqueued(queue_id="q2", spec={"modelName": "b"}, ts=TS),
                  ev.QueueEnqueued(queue_id="q3", spec={"modelName": "c"}, ts=TS),
                  ev.QueueRemoved(queue_id="q2"),
                  ev.QueueDispatched(queue_id="q1", run_id="r1"))
    assert [q.queue_id for q in models.queue.items()] == ["q3"]
