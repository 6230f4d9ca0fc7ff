"""A subscriber that stops at a run's final status has the run's final progress.

A tool following one run (``watch --exit``, a CI script on the client library) may stop
at the first message that says the run ended; the stream must have brought the run's
final progress by then, live and on a resume alike. Against a real server process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.client import FROM_START, Harness
from projections.messages import RunProgressMessage, RunStatusMessage
from projections.state import ACTIVE_STATUSES, Progress
from tests.support.processes import ServerProcess, serving

ITEMS = 12


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serving(tmp_path_factory.mktemp("stream-order")) as process:
        yield process


def progress_at_final_status(harness: Harness, run_id: str, *, after: str | None) -> Progress:
    """The run's progress as a subscriber has folded it when the run's final status
    arrives, stopping right there."""
    progress = None
    with harness.subscribe(after=after, run_ids=[run_id]) as subscription:
        for message in subscription:
            if isinstance(message, RunProgressMessage):
                progress = message.progress
            elif (isinstance(message, RunStatusMessage)
                  and message.run.status not in ACTIVE_STATUSES):
                assert progress is not None, "the run ended before any progress came"
                return progress
    raise AssertionError("a subscription never ends")


def start_run(harness: Harness) -> tuple[str, str]:
    """A new run's id, and a cursor from just before it was created."""
    before = harness.health().position
    created = harness.create_run(provider_name="simulated", model_name="m",
                                 dataset_name="arithmetic", limit=ITEMS, concurrency=2,
                                 config={"faultRate": 0, "latencyMs": 50})
    return created.run.id, before


def test_a_resume_from_the_start_brings_an_ended_runs_progress_before_its_status(
        server: ServerProcess) -> None:
    with Harness(server.url) as harness:
        run_id, before = start_run(harness)
        assert progress_at_final_status(harness, run_id, after=before).completed == ITEMS
        # The run has ended: a resume now rebuilds it from the read models.
        assert progress_at_final_status(harness, run_id, after=FROM_START).completed == ITEMS


def test_the_live_stream_brings_the_final_progress_no_later_than_the_final_status(
        server: ServerProcess) -> None:
    with Harness(server.url) as harness:
        for _ in range(3):  # the last item and the run's end often share a batch
            run_id, before = start_run(harness)
            assert progress_at_final_status(harness, run_id, after=before).completed == ITEMS
