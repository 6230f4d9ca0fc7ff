"""A resuming SSE client's opening comes in bounded slices, together exactly what it missed."""

from __future__ import annotations

import pytest

from projections.messages import resume_slices
from tests.support.events import fold, run_history
from tests.support.folding import held

pytestmark = pytest.mark.anyio


async def test_the_opening_is_built_in_bounded_slices_that_add_up_to_everything_missed(
        ) -> None:
    models = fold(*run_history("a", total=40, answers=(True,) * 40),
                  *run_history("b", total=3))
    slices = [part async for part in resume_slices(models, 0, None, items=True,
                                                    details=held, slice_size=16)]
    assert len(slices) > 2
    assert all(0 < len(part) <= 16 for part in slices)
    messages = [message for part in slices for message in part]
    assert [m.event for m in messages].count("run_status") == 2
    assert sum(m.event == "run_item" for m in messages) == 43
    assert [m.run_id for m in messages if m.event == "run_status"] == ["a", "b"]


async def test_slices_are_built_as_they_are_asked_for() -> None:
    models = fold(*run_history("a", total=40, answers=(True,) * 40))
    slices = resume_slices(models, 0, None, items=True, details=held, slice_size=8)
    first = await anext(slices)
    assert len(first) == 8  # the rest is not built yet: a generator, not a list
    assert sum([len(part) async for part in slices]) == 42 - 8
