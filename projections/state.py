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
from typing import Any, Literal

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
    one compressed blob (``pack``), which a snapshot holds for a run still holding them.
    The positions are kept as steps from the previous one (the first from 0): small
    numbers, which compress to about a byte an event."""

    items: list[Item]
    changed_at: dict[int, int]
    position_steps: list[int]


_pack_encoder = msgspec.json.Encoder()
_pack_decoder = msgspec.json.Decoder(PackedItems)
_steps_decoder = msgspec.json.Decoder(list[int])


def _steps(positions: list[int]) -> list[int]:
    return [b - a for a, b in pairwise([0, *positions])]


def pack_positions(positions: list[int]) -> bytes:
    """Log offsets, ascending, as a small compressed blob (``unpack_positions``)."""
    return zlib.compress(_pack_encoder.encode(_steps(positions)), 1)


@functools.lru_cache(maxsize=32)
def unpack_positions(blob: bytes) -> array[int]:
    """What ``pack_positions`` made; the last few are kept, so that reading a run back
    or stepping through its history decodes them once."""
    return array("q", accumulate(_steps_decoder.decode(zlib.decompress(blob))))


class DetailsNotHeld(RuntimeError):
    """A shed run's items or log lines were asked of the run itself: they are in the
    log, and must be read back from it (``harness.readback``)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id!r} holds no item details in memory: read them back "
                         "from the log")
        self.run_id = run_id


class RunRecord:
    """Everything the projections know of one run.

    ``counts`` holds how many items are in each state except ``pending`` (derived);
    ``changed_at`` and ``item_changed_at`` are log offsets of the last change, which is
    what lets a resuming client be sent only what changed after its cursor.

    A run *holds* its details — its items, when each changed, its log lines and its
    event positions — as objects, or a finished run has *shed* them (``shed``): the log
    holds them, so the run keeps only what the board, the archive, progress and the
    index need (its info, lifecycle, counts, usage totals), its event positions as one
    small compressed blob, and, for the few finished runs the board may show, the items
    its snapshot names (current and recent). Its details are then read back from the
    log by position and folded again (``harness.readback``); asking the run itself for
    them raises ``DetailsNotHeld``, never an empty answer. The fold never changes a shed
    run: ``RunStore.apply`` asks for its details back first (``NEEDS_DETAILS``).

    ``positions`` are the log offsets just after each event this run applied, in order:
    time travel and read-back fold exactly these (``EventLog.read_at``).
    """

    __slots__ = (
        "_board",
        "_item_changed_at",
        "_items",
        "_logs",
        "_positions",
        "_shed_positions",
        "changed_at",
        "config",
        "counts",
        "current",
        "info",
        "lifecycle",
        "ordinal",
        "recent",
        "shed",
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
        self._logs: list[LogEntry] | None = []
        self.changed_at = 0
        self._item_changed_at: dict[int, int] | None = {}
        self.ordinal = ordinal
        self.usage = UsageTotals()
        self._positions: array[int] | None = array("q")
        self.shed = False
        self._shed_positions = b""
        self._board: dict[int, Item] | None = None

    # The three accessors below are spelt out, not one shared helper: the fold reads them
    # for every event it applies, and a helper call costs ~20 ns more per read (measured),
    # a few per cent of a cold replay.
    @property
    def items(self) -> dict[int, Item]:
        items = self._items
        if items is None:
            raise DetailsNotHeld(self.info.id)
        return items

    @property
    def item_changed_at(self) -> dict[int, int]:
        changed = self._item_changed_at
        if changed is None:
            raise DetailsNotHeld(self.info.id)
        return changed

    @property
    def logs(self) -> list[LogEntry]:
        logs = self._logs
        if logs is None:
            raise DetailsNotHeld(self.info.id)
        return logs

    @property
    def positions(self) -> array[int]:
        positions = self._positions
        return positions if positions is not None else unpack_positions(self._shed_positions)

    def pack(self) -> bytes:
        """The items, their change positions and the run's event positions as one blob
        (``hold_packed`` takes it back); may run in a worker thread."""
        positions = self.positions.tolist()  # one copy first
        state = PackedItems(items=list(self.items.values()), changed_at=self.item_changed_at,
                            position_steps=_steps(positions))
        return zlib.compress(_pack_encoder.encode(state), 1)

    def hold_packed(self, blob: bytes, logs: list[LogEntry]) -> None:
        """Hold the details ``pack`` made ``blob`` of, and ``logs``, as objects."""
        packed = _pack_decoder.decode(zlib.decompress(blob))
        self._items = {item.sequence: item for item in packed.items}
        self._item_changed_at = packed.changed_at
        self._positions = array("q", accumulate(packed.position_steps))
        self._logs = logs
        self.shed, self._shed_positions, self._board = False, b"", None

    def shed_positions(self) -> bytes:
        """The event positions as a shed run keeps them (``pack_positions``); may run in
        a worker thread."""
        return self._shed_positions if self.shed else pack_positions(self.positions.tolist())

    def shed_details(self, positions: bytes, *, keep_board: bool) -> None:
        """Let the log hold the details from now on; ``positions`` is what
        ``shed_positions`` gave. With ``keep_board``, the items the run's snapshot shows
        stay, so that the board can show it without reading the log."""
        if self.shed:
            return
        if keep_board:
            board = self.items
            self._board = {s: board[s] for s in (self.current, *self.recent) if s in board}
        self._items = self._item_changed_at = self._logs = self._positions = None
        self._shed_positions = positions
        self.shed = True

    def hold_board_items(self, items: list[Item]) -> None:
        """The items a shed run keeps for the board (what ``board_items`` gave)."""
        self._board = {item.sequence: item for item in items}

    @property
    def holds_snapshot(self) -> bool:
        """Whether ``snapshot`` can answer: the run holds its details or its board items."""
        return not self.shed or self._board is not None

    def drop_board_items(self) -> None:
        self._board = None

    def board_items(self) -> list[Item] | None:
        """A shed run's items kept for the board, if it keeps them."""
        return None if self._board is None else list(self._board.values())

    def restore_details(self, folded: RunRecord) -> None:
        """Hold again the details of ``folded``: this run folded afresh from its own
        events read back from the log (``same_run`` as this one)."""
        self._items, self._item_changed_at = folded.items, folded.item_changed_at
        self._logs, self._positions = folded.logs, array("q", folded.positions)
        self.shed, self._shed_positions, self._board = False, b"", None

    def summary(self) -> tuple[Any, ...]:
        """Everything a run keeps when shed: two runs with the same summary and the same
        event positions folded the same events."""
        return (self.info, self.lifecycle, self.total, self.config, self.counts, self.current,
                self.recent, self.changed_at, self.usage, self.positions.tolist())

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
        """The run as the board shows it: a shed run answers only if it kept its board
        items (else ``DetailsNotHeld``)."""
        items = self._items if self._items is not None else self._board
        if items is None:
            raise DetailsNotHeld(self.info.id)
        current = items.get(self.current) if self.current is not None else None
        return RunSnapshot(
            run=self.info,
            progress=self.progress(),
            lifecycle=self.lifecycle,
            current_item=current,
            recent_items=tuple(items[s] for s in self.recent[:recent]),
        )

    @property
    def active(self) -> bool:
        return self.info.status in ACTIVE_STATUSES
