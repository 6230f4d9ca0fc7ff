"""The read models' shapes (SPEC §4.1), as mutable msgspec structs.

They are encoded straight to JSON at the edge, so their field names and order *are*
the API. Counters and bookkeeping that the API does not show live in ``RunRecord``.
"""

from __future__ import annotations

import functools
import zlib
from array import array
from datetime import datetime
from itertools import accumulate, pairwise
from typing import Any, Literal, NamedTuple

import msgspec

from events.schema import Usage

ItemStateName = Literal["pending", "running", "awaiting", "correct", "incorrect", "faulted"]
RunStatus = Literal["pending", "running", "completed", "failed", "canceled"]
ITEM_STATES: tuple[str, ...] = ("correct", "incorrect", "awaiting", "faulted", "running", "pending")
ACTIVE_STATUSES = frozenset({"pending", "running"})
PREVIEW_CHARS = 280


class _Model(msgspec.Struct, rename="camel", kw_only=True, gc=False):
    """Read-model values refer down to plain data and never back up, so they form no
    cycles and are left out of the cycle collector's tracking."""


class Feedback(_Model):
    rating: Literal["up", "down"]
    comment: str | None = None
    at: datetime | None = None


class RunInfo(_Model):
    id: str
    provider_name: str
    dataset_name: str
    model_name: str
    status: RunStatus = "pending"
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    labels: dict[str, str] = {}
    error: str | None = None
    feedback: Feedback | None = None


class Lifecycle(_Model):
    """``resumed_count`` counts every ``run_resumed``; ``retried_count`` those of them
    that re-opened a finished run (a user's retry) rather than a crashed one."""

    resumed_count: int = 0
    last_resumed_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    retried_count: int = 0


class Progress(_Model):
    completed: int
    total: int
    correct: int
    incorrect: int
    awaiting: int
    faulted: int
    pending: int


class Activity(_Model):
    preview: str = ""
    chunks: int = 0
    chars: int = 0
    last_chunk_at: datetime | None = None


class UsageTotals(msgspec.Struct, rename="camel", gc=False):
    """A run's token usage and latency summed over its items' current attempts, kept by
    the fold so that the archive never needs a run's items."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms_sum: float = 0.0
    latency_items: int = 0  # items with a latency

    def count(self, item: Item, sign: int) -> None:
        """Add (``sign`` 1) or take away (-1) what ``item`` reported."""
        if item.usage is not None:
            self.prompt_tokens += sign * (item.usage.prompt_tokens or 0)
            self.completion_tokens += sign * (item.usage.completion_tokens or 0)
        if item.latency_ms is not None:
            self.latency_ms_sum += sign * item.latency_ms
            self.latency_items += sign


class Item(_Model):
    sequence: int
    state: ItemStateName = "pending"
    prompt_text: str | None = None
    choices: tuple[str, ...] | None = None
    response_text: str | None = None
    answer: str | None = None
    expected: str | None = None
    correct: bool | None = None
    score: float | None = None
    judge: str | None = None
    rationale: str | None = None
    latency_ms: float | None = None
    usage: Usage | None = None
    error: str | None = None
    canceled: bool = False
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    activity: Activity | None = None


class LogEntry(_Model):
    """A run's log line, or one of its lifecycle events (``kind`` says which)."""

    index: int
    kind: str
    ts: datetime | None
    level: str
    message: str
    sequence: int | None = None


class RunSnapshot(_Model):
    run: RunInfo
    progress: Progress
    lifecycle: Lifecycle
    current_item: Item | None
    recent_items: tuple[Item, ...]


class PackedItems(_Model, array_like=True):
    """A run's items, when each last changed, and the log positions of its events, as
    one compressed blob (``pack``). The positions are kept as steps from the previous
    one (the first from 0): small numbers, which compress to about a byte an event."""

    items: list[Item]
    changed_at: dict[int, int]
    position_steps: list[int]


class _Unpacked(NamedTuple):
    items: dict[int, Item]
    changed_at: dict[int, int]
    positions: array[int]


_pack_encoder = msgspec.json.Encoder()
_pack_decoder = msgspec.json.Decoder(PackedItems)


@functools.lru_cache(maxsize=32)
def _unpacked(blob: bytes) -> _Unpacked:
    """What a packed run holds; the last few are kept, so that paging through one run's
    items, answering a resume or stepping through its history decodes each run once."""
    packed = _pack_decoder.decode(zlib.decompress(blob))
    return _Unpacked({item.sequence: item for item in packed.items}, packed.changed_at,
                     array("q", accumulate(packed.position_steps)))


class RunRecord:
    """Everything the projections know of one run.

    ``counts`` holds how many items are in each state except ``pending`` (derived);
    ``changed_at`` and ``item_changed_at`` are log offsets of the last change, which is
    what lets a resuming client be sent only what changed after its cursor.

    A finished run's items may be *packed* (``pack``): kept as one compressed blob
    instead of thousands of objects, and decoded when a reader asks for them
    (``items`` is then a shared, read-only view). The fold unpacks a run before it
    changes it. The board, the archive and progress never need a run's items.

    ``positions`` are the log offsets just after each event this run applied, in order:
    time travel reads exactly these back (``EventLog.read_at``) to fold the run at any
    point. They are packed with the items, so a snapshot keeps them too.
    """

    __slots__ = (
        "_item_changed_at",
        "_items",
        "_positions",
        "changed_at",
        "config",
        "counts",
        "current",
        "info",
        "lifecycle",
        "logs",
        "ordinal",
        "packed",
        "recent",
        "total",
        "usage",
    )

    def __init__(self, info: RunInfo, total: int, config: dict[str, Any], ordinal: int) -> None:
        self.info = info
        self.lifecycle = Lifecycle()
        self.total = total
        self.config = config
        self._items: dict[int, Item] | None = {}
        self.counts = {"running": 0, "awaiting": 0, "correct": 0, "incorrect": 0, "faulted": 0}
        self.current: int | None = None
        self.recent: tuple[int, ...] = ()
        self.logs: list[LogEntry] = []
        self.changed_at = 0
        self._item_changed_at: dict[int, int] | None = {}
        self.packed: bytes | None = None
        self.ordinal = ordinal
        self.usage = UsageTotals()
        self._positions: array[int] | None = array("q")

    @property
    def items(self) -> dict[int, Item]:
        items = self._items
        return items if items is not None else _unpacked(self.packed or b"").items

    @property
    def item_changed_at(self) -> dict[int, int]:
        changed = self._item_changed_at
        return changed if changed is not None else _unpacked(self.packed or b"").changed_at

    @property
    def positions(self) -> array[int]:
        positions = self._positions
        return positions if positions is not None else _unpacked(self.packed or b"").positions

    def pack(self, *, keep: bool = True) -> bytes:
        """The items and positions as one blob; with ``keep``, held instead of them
        from now on."""
        if self.packed is not None:
            return self.packed
        positions = self.positions.tolist()  # one copy: this may run in a worker thread
        state = PackedItems(items=list(self.items.values()), changed_at=self.item_changed_at,
                            position_steps=[b - a for a, b in pairwise([0, *positions])])
        blob = zlib.compress(_pack_encoder.encode(state), 1)
        if keep:
            self.hold_packed(blob)
        return blob

    def hold_packed(self, blob: bytes) -> None:
        """Hold ``blob`` (what ``pack`` made of this run) instead of the objects."""
        self.packed = blob
        self._items = self._item_changed_at = self._positions = None

    def unpack(self) -> None:
        """Hold the items as objects again, to change them: decoded afresh, never the
        shared view (the cache's objects may be in a reader's hands)."""
        if self.packed is not None:
            packed = _pack_decoder.decode(zlib.decompress(self.packed))
            self._items = {item.sequence: item for item in packed.items}
            self._item_changed_at = packed.changed_at
            self._positions = array("q", accumulate(packed.position_steps))
            self.packed = None

    def progress(self) -> Progress:
        counts = self.counts
        correct, incorrect = counts["correct"], counts["incorrect"]
        awaiting, faulted = counts["awaiting"], counts["faulted"]
        return Progress(
            completed=correct + incorrect,
            total=self.total,
            correct=correct,
            incorrect=incorrect,
            awaiting=awaiting,
            faulted=faulted,
            pending=self.total - correct - incorrect - awaiting - faulted,
        )

    def state_counts(self) -> dict[str, int]:
        progress = self.progress()
        counts = dict(self.counts)
        counts["pending"] = progress.pending - counts["running"]
        return {state: counts[state] for state in ITEM_STATES}

    def item(self, sequence: int) -> Item:
        """The item's current state; a sequence never started is ``pending``."""
        return self.items.get(sequence) or Item(sequence=sequence)

    def snapshot(self, *, recent: int = 5) -> RunSnapshot:
        current = self.items.get(self.current) if self.current is not None else None
        return RunSnapshot(
            run=self.info,
            progress=self.progress(),
            lifecycle=self.lifecycle,
            current_item=current,
            recent_items=tuple(self.items[s] for s in self.recent[:recent]),
        )

    @property
    def active(self) -> bool:
        return self.info.status in ACTIVE_STATUSES
