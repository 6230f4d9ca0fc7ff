"""Every event type of the schema has a fold, and a type without one is a problem."""

from __future__ import annotations

import typing

from events import schema as ev
from projections.readmodels import ReadModels
from projections.runs import RunStore
from tests.support.events import fold, run_history


def test_every_event_type_in_the_schema_has_a_fold() -> None:
    schema_types = set(typing.get_args(ev.AnyEvent))
    assert schema_types == set(ReadModels().handled_types)


class Unfolded(ev.RunEvent, tag="unfolded"):
    """A type a writer might add before the folds learn it."""


def test_an_event_type_without_a_fold_is_a_counted_problem_not_a_crash() -> None:
    models = fold(*run_history("a"))
    assert RunStore().apply(Unfolded(run_id="a"), 1, None) == (
        "unhandled_event", "no fold for unfolded events")
    assert models.runs.apply(Unfolded(run_id="a"), 1, None) is not None
