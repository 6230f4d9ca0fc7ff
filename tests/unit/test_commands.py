"""Planning commands: what each request becomes, or why it is refused, before any write."""

from __future__ import annotations

from pathlib import Path

import pytest

from events import schema as ev
from harness.api_shapes import RunSpec
from harness.commands import (
    is_own_run,
    plan_cancel,
    plan_create,
    plan_retry,
    provider_config,
    run_concurrency,
    unfinished_sequences,
)
from harness.datasets import DatasetCatalog
from harness.errors import Conflict, Invalid
from harness.settings import Settings
from projections.runs import Changes, RunStore
from projections.state import RunRecord
from tests.support.events import TS, run_history


def fold(*events: ev.Event) -> RunStore:
    store = RunStore()
    for offset, event in enumerate(events, start=1):
        assert store.apply(event, offset, Changes()) is None
    return store


def record_of(*events: ev.Event) -> RunRecord:
    return next(iter(fold(*events).runs.values()))


@pytest.fixture
def catalog(tmp_path: Path) -> DatasetCatalog:
    return DatasetCatalog(tmp_path)


def spec(**overrides: object) -> RunSpec:
    fields = {"provider_name": "simulated", "model_name": "m", "dataset_name": "logic"}
    return RunSpec(**{**fields, **overrides})  # type: ignore[arg-type]


def test_a_created_run_keeps_its_concurrency_apart_from_the_provider_config(
        catalog: DatasetCatalog) -> None:
    created = plan_create(spec(limit=10, concurrency=7, config={"seed": 3}), catalog, Settings())
    assert created.total == 10
    assert created.run_id.startswith("run-")
    assert created.ts is not None
    assert run_concurrency(created.config) == 7
    assert provider_config(created.config) == {"seed": 3}


def test_a_limit_beyond_the_dataset_is_cut_to_its_size(catalog: DatasetCatalog) -> None:
    assert plan_create(spec(limit=100_000), catalog, Settings()).total == 200


@pytest.mark.parametrize(("overrides", "field"), [
    ({"provider_name": "nobody"}, "providerName"),
    ({"dataset_name": "missing"}, "datasetName"),
    ({"config": {"faultRate": 2}}, "config"),
])
def test_an_unusable_spec_names_the_field_at_fault(
        catalog: DatasetCatalog, overrides: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        plan_create(spec(**overrides), catalog, Settings())
    assert refused.value.details["field"] == field


def test_only_a_pending_or_running_run_can_be_canceled() -> None:
    running = record_of(*run_history("r", finish=None))
    assert plan_cancel(running).run_id == "r"
    with pytest.raises(Conflict):
        plan_cancel(record_of(*run_history("r")))
    with pytest.raises(Conflict):
        plan_cancel(record_of(*run_history("r", finish=None),
                              ev.RunCancelRequested(run_id="r", ts=TS)))


def test_retry_takes_the_faulted_and_unfinished_items_of_a_finished_run() -> None:
    history = run_history("r", total=4, answers=(True, False), finish=None)
    history += [ev.ItemStarted(run_id="r", sequence=3, prompt_text="Q3", ts=TS),
                ev.ItemFaulted(run_id="r", sequence=3, error="boom", ts=TS)]
    active = record_of(*history)
    with pytest.raises(Conflict):
        plan_retry(active)
    finished = record_of(*history, ev.RunFinished(run_id="r", status="completed", ts=TS))
    assert unfinished_sequences(finished) == [3, 4]
    assert plan_retry(finished).run_id == "r"


def test_a_run_with_nothing_left_to_do_cannot_be_retried() -> None:
    with pytest.raises(Conflict):
        plan_retry(record_of(*run_history("r")))


def test_only_runs_the_executor_created_count_as_its_own(catalog: DatasetCatalog) -> None:
    assert not is_own_run(record_of(*run_history("r", finish=None)))
    created = plan_create(spec(), catalog, Settings())
    assert is_own_run(record_of(created))
