"""``harness.client``: the harness API from Python, typed, and its live stream, resumed.

::

    from harness.client import Harness

    with Harness("http://127.0.0.1:7860", token=None) as harness:
        run = harness.create_run(provider_name="simulated", model_name="m",
                                 dataset_name="arithmetic", limit=20)
        for message in harness.subscribe(run_ids=[run.run.id]):
            ...

Results are the msgspec structs the server encodes (``RunSnapshot``, ``ArchivePage``,
…); an API error raises ``ApiError`` with its ``status``, ``code``, ``message`` and
``details``. ``AsyncHarness`` is the same over anyio. Nothing here imports server code:
only the shared types of ``harness.api_shapes`` and ``projections``.
"""

from harness.api_shapes import Bootstrap, Health, RunDetail, RunSpec
from harness.client.aio import AsyncHarness
from harness.client.board import LiveBoard
from harness.client.errors import ApiError
from harness.client.stream import FROM_START, Backoff, StreamMessage
from harness.client.subscribe import AsyncSubscription, Subscription
from harness.client.sync import Harness
from projections.messages import (
    QueueMessage,
    ResetMessage,
    RunItemMessage,
    RunProgressMessage,
    RunStatusMessage,
)
from projections.text_deltas import RunItemDeltaMessage, apply_text_delta

__all__ = [
    "FROM_START",
    "ApiError",
    "AsyncHarness",
    "AsyncSubscription",
    "Backoff",
    "Bootstrap",
    "Harness",
    "Health",
    "LiveBoard",
    "QueueMessage",
    "ResetMessage",
    "RunDetail",
    "RunItemDeltaMessage",
    "RunItemMessage",
    "RunProgressMessage",
    "RunSpec",
    "RunStatusMessage",
    "StreamMessage",
    "Subscription",
    "apply_text_delta",
]
