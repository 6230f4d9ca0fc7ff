"""One immutable, typed class per event type of the log (SPEC §3).

A line is decoded once, straight into its class, by a msgspec tagged union: the JSON
``type`` picks the class, field names are camelCase on the wire and snake_case here.
Unknown fields are ignored so that writers may add their own; a missing required
field or a value out of its type or range makes the whole line a problem.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta

# Decoded by msgspec's own RFC 3339 parser, in C: as strict as a pattern and less than
# a third of its cost, which is most of a replay's decoding time. Writers pass a ``datetime``
# (``events.writer.now_timestamp``), written to the millisecond; readers get one back.
Timestamp = Annotated[
    datetime,
    Meta(tz=True, description="RFC 3339 UTC with milliseconds, e.g. 2026-03-06T19:43:11.123Z"),
]
# The same format kept as text, where the exact characters matter (a signed document).
TimestampText = Annotated[str, Meta(
    pattern=r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
    description="RFC 3339 with a time zone, e.g. 2026-03-06T19:43:11.123Z")]
Sequence = Annotated[int, Meta(ge=1, description="1-based position of the item in its run")]
LogLevel = Literal["debug", "info", "warning", "error"]
# Items of one run at the most. The read models list, export and compare a run's items
# by sequence; a writer's typo of a trillion must become a counted problem, not a stall.
MAX_ITEMS = 100_000
FinalStatus = Literal["completed", "failed", "canceled"]


class Event(
    msgspec.Struct,
    tag_field="type",
    rename="camel",
    frozen=True,
    kw_only=True,
    omit_defaults=True,
    gc=False,
):
    """The envelope every line carries besides its ``type``. Subclasses repeat
    ``frozen=True``: msgspec inherits it, mypy does not know that.

    ``gc=False``: an event holds only strings, numbers and plain containers, never a
    cycle, so the cycle collector need not track the millions a replay decodes.
    """

    ts: Timestamp | None = None
    event_id: str | None = None


class RunEvent(Event, frozen=True):
    run_id: str


class ItemEvent(RunEvent, frozen=True):
    sequence: Sequence


class RunCreated(RunEvent, tag="run_created", frozen=True):
    provider_name: str
    model_name: str
    dataset_name: str
    total: Annotated[int, Meta(ge=0, le=MAX_ITEMS)]
    config: dict[str, Any] = {}
    labels: dict[str, str] = {}


class RunStarted(RunEvent, tag="run_started", frozen=True):
    pass


class ItemStarted(ItemEvent, tag="item_started", frozen=True):
    prompt_text: str
    # A tuple, not a list: a tuple of strings is not tracked by the cycle collector, and
    # every item of every run keeps this one (a list each made full collections grow
    # with history).
    choices: tuple[str, ...] | None = None


class ItemDelta(ItemEvent, tag="item_delta", frozen=True):
    text: str


class Usage(msgspec.Struct, rename="camel", frozen=True, omit_defaults=True):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ItemAnswered(ItemEvent, tag="item_answered", frozen=True):
    response_text: str
    answer: str | None = None
    latency_ms: Annotated[float, Meta(ge=0)] | None = None
    usage: Usage | None = None


class ItemJudged(ItemEvent, tag="item_judged", frozen=True):
    correct: bool
    expected: str | None = None
    score: float | None = None
    judge: str | None = None
    rationale: str | None = None


class ItemFaulted(ItemEvent, tag="item_faulted", frozen=True):
    error: str
    canceled: bool = False


class RunLog(RunEvent, tag="run_log", frozen=True):
    level: LogLevel
    message: str
    sequence: Sequence | None = None


class RunCancelRequested(RunEvent, tag="run_cancel_requested", frozen=True):
    pass


class RunResumed(RunEvent, tag="run_resumed", frozen=True):
    pass


class RunFinished(RunEvent, tag="run_finished", frozen=True):
    status: FinalStatus
    error: str | None = None


class FeedbackGiven(RunEvent, tag="feedback_given", frozen=True):
    rating: Literal["up", "down"]
    comment: str | None = None


class QueueEnqueued(Event, tag="queue_enqueued", frozen=True):
    queue_id: str
    spec: dict[str, Any]


class QueueRemoved(Event, tag="queue_removed", frozen=True):
    queue_id: str


class QueueDispatched(Event, tag="queue_dispatched", frozen=True):
    queue_id: str
    run_id: str


AnyEvent = Union[  # noqa: UP007 - msgspec needs a real Union object for the decoder
    RunCreated,
    RunStarted,
    ItemStarted,
    ItemDelta,
    ItemAnswered,
    ItemJudged,
    ItemFaulted,
    RunLog,
    RunCancelRequested,
    RunResumed,
    RunFinished,
    FeedbackGiven,
    QueueEnqueued,
    QueueRemoved,
    QueueDispatched,
]
