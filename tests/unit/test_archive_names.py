"""Filtered archive reads start from the runs carrying the filter's names (``RunNames``),
and list exactly what a walk over every run lists, as runs keep being created."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from events import schema as ev
from events.writer import encode_line
from projections.archive import ArchiveFilter, archive_page
from projections.readmodels import ReadModels
from tests.support.events import TS
from tests.support.folding import fold_lines

NAMES = ("gpt", "GPT", "claude", "llama")
LABELS = ({}, {"team": "a"}, {"team": "b"}, {"team": "a", "ci": "yes"})

run_specs = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(("arith", "mmlu")),
                               st.sampled_from(LABELS), st.booleans()), max_size=30)
filters = st.builds(
    ArchiveFilter,
    status=st.sampled_from((frozenset(), frozenset({"running"}), frozenset({"completed"}),
                            frozenset({"pending", "running"}))),
    model=st.sampled_from((None, *NAMES)),
    dataset=st.sampled_from((None, "arith", "ARITH", "mmlu", "none")),
    labels=st.sampled_from(((), (("team", "a"),), (("team", "a"), ("ci", "yes")))))


def lines(specs: list[tuple[str, str, dict[str, str], bool]], first: int) -> list[bytes]:
    out = []
    for number, (model, dataset, labels, finished) in enumerate(specs, start=first):
        run_id = f"r{number}"
        out += [encode_line(ev.RunCreated(run_id=run_id, provider_name="simulated",
                                          model_name=model, dataset_name=dataset, total=1,
                                          labels=labels, ts=TS)),
                encode_line(ev.RunStarted(run_id=run_id, ts=TS))]
        if finished:
            out.append(encode_line(ev.RunFinished(run_id=run_id, status="completed", ts=TS)))
    return out


def walked(models: ReadModels, where: ArchiveFilter) -> list[str]:
    """What a walk over every run finds, in the archive's order."""
    runs = models.runs.order
    return [r.info.id for r in sorted((r for r in runs if where.admits(r)),
                                      key=lambda r: r.ordinal, reverse=True)]


@settings(max_examples=60, deadline=None)
@given(run_specs, run_specs, filters)
def test_a_filtered_page_lists_what_a_walk_over_every_run_lists(before, after, where) -> None:
    models = fold_lines(ReadModels(), lines(before, 0), "g")
    first = archive_page(models, where, limit=100)
    assert [s.run.id for s in first.runs] == walked(models, where)
    start = sum(len(line) for line in lines(before, 0))
    fold_lines(models, lines(after, len(before)), "g", start=start)  # runs created since
    again = archive_page(models, where, limit=100)
    assert [s.run.id for s in again.runs] == walked(models, where)
    assert again.total == len(walked(models, where))
