"""The coalescer on its own, with a clock the test moves."""

from __future__ import annotations

from events.bus import Broadcast
from events.position import Position
from harness.live import LogBatch
from projections.messages import StreamMessage
from web.coalescing import ItemCoalescer
from web.fanout import Fanout, StreamClient


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def item(sequence: int, state: str = "running", run_id: str = "r") -> StreamMessage:
    return StreamMessage("run_item", run_id, f'{{"state":"{state}"}}'.encode(), sequence,
                         state == "running")


def coalescer(clock: Clock, current: dict[tuple[str, int], StreamMessage]) -> ItemCoalescer:
    return ItemCoalescer(lambda run_id, sequence: current.get((run_id, sequence)),
                         window_s=0.25, clock=clock)


def test_a_running_items_second_update_within_the_window_waits_for_its_end() -> None:
    clock, current = Clock(), {("r", 1): item(1)}
    held = coalescer(clock, current)
    status = StreamMessage("run_status", "r", b"{}")
    assert held.pass_on([status, item(1)]) == [status, item(1)]
    clock.now += 0.1
    assert held.pass_on([item(1)]) == []
    assert held.next_due() == 100.25 and held.due() == []
    clock.now = 100.25
    assert held.due() == [current[("r", 1)]]
    assert held.next_due() is None


def test_an_item_that_stops_running_is_sent_at_once_and_drops_what_was_held() -> None:
    clock = Clock()
    held = coalescer(clock, {})
    held.pass_on([item(1), item(2)])
    clock.now += 0.05
    assert held.pass_on([item(1), item(2)]) == []
    assert held.pass_on([item(1, "awaiting")]) == [item(1, "awaiting")]
    clock.now += 1
    assert held.due() == []  # item 2's run is gone: nothing to rebuild; item 1 was sent


def test_a_zero_window_passes_everything_on() -> None:
    held = ItemCoalescer(lambda run_id, sequence: None, window_s=0, clock=Clock())
    assert held.pass_on([item(1), item(1)]) == [item(1), item(1)]


def test_a_runs_status_releases_its_held_items_just_before_it() -> None:
    clock = Clock()
    current = {("r", 1): item(1), ("s", 1): item(1, run_id="s")}
    held = coalescer(clock, current)
    held.pass_on([item(1), item(1, run_id="s")])
    clock.now += 0.05
    assert held.pass_on([item(1), item(1, run_id="s")]) == []
    ended = StreamMessage("run_status", "r", b'{"status":"failed"}')
    assert held.pass_on([ended]) == [current[("r", 1)], ended]
    assert held.next_due() == 100.25  # run s's item is still held
    clock.now = 100.25
    assert held.due() == [current[("s", 1)]]


def test_when_the_last_client_leaves_nothing_held_goes_to_the_next_one() -> None:
    """Unheard, a held update would go stale: the next client would be sent it under the
    cursor of a batch long before its own opening."""
    clock, current = Clock(), {("r", 1): item(1)}
    held = coalescer(clock, current)
    fanout = Fanout(Broadcast(), encode=lambda messages, cursor: cursor.encode(),
                    reset=lambda reset: b"reset", coalescer=held)
    first = StreamClient(run_ids=frozenset(), board_only=False)
    fanout.attach(first)
    generation = "g"
    fanout.publish(LogBatch(Position(generation, 10), [], [item(1)]))
    clock.now += 0.1
    fanout.publish(LogBatch(Position(generation, 20), [], [item(1)]))
    assert held.holding
    fanout.detach(first)
    fanout.attach(StreamClient(run_ids=frozenset(), board_only=False))
    clock.now += 1
    assert not held.holding and held.due() == []
