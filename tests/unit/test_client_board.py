"""LiveBoard: the stream's messages, as the server builds them, fold into the board
the server shows."""

from __future__ import annotations

from typing import Any

import msgspec
from httpx_sse import ServerSentEvent

from events import schema as ev
from events.writer import encode_line
from harness.api_shapes import BOARD_LIMIT, Bootstrap
from harness.client import LiveBoard, ResetMessage
from harness.client.stream import decode
from projections.board import active_board, totals
from projections.messages import StreamMessage
from projections.readmodels import ReadModels
from tests.support.events import TS, fold, run_history
from tests.support.folding import messages_missed


def server_board(models: ReadModels) -> dict[str, Any]:
    board = Bootstrap(active_board(models, limit=BOARD_LIMIT), models.queue.items(),
                      totals(models), str(models.position))
    return without_log_totals(board)


def without_log_totals(board: Bootstrap) -> dict[str, Any]:
    data = msgspec.to_builtins(board)
    del data["totals"]["eventsApplied"], data["totals"]["problems"]
    del data["position"]
    return data


def delivered(messages: list[StreamMessage]) -> list[Any]:
    """The messages as a client receives them: encoded, sent, decoded by the client."""
    return [decode(ServerSentEvent(event=m.event, data=m.data.decode())) for m in messages]


def history() -> list[ev.Event]:
    retried = [
        ev.RunCreated(run_id="retried", provider_name="p", model_name="m", dataset_name="d",
                      total=3, ts=TS),
        ev.RunStarted(run_id="retried", ts=TS),
        ev.ItemStarted(run_id="retried", sequence=1, prompt_text="a", ts=TS),
        ev.ItemStarted(run_id="retried", sequence=2, prompt_text="b", ts=TS),
        ev.ItemFaulted(run_id="retried", sequence=1, error="boom", ts=TS),
        ev.ItemDelta(run_id="retried", sequence=2, text="partial", ts=TS),
        ev.ItemStarted(run_id="retried", sequence=1, prompt_text="a", ts=TS),
        ev.RunResumed(run_id="retried", ts=TS),
        ev.ItemStarted(run_id="retried", sequence=2, prompt_text="b", ts=TS),
    ]
    return [*run_history("done", total=3), *retried,
            *run_history("failed", total=2, answers=(False,), finish="failed"),
            ev.FeedbackGiven(run_id="done", rating="up", ts=TS),
            ev.QueueEnqueued(queue_id="q1", spec={"modelName": "m"}, ts=TS)]


def test_the_whole_state_from_the_start_folds_into_the_servers_board() -> None:
    models = fold(*history())
    board = LiveBoard()
    for message in delivered(messages_missed(models, 0)):
        board.apply(message)
    assert without_log_totals(board.snapshot()) == server_board(models)


def test_folding_event_by_event_matches_the_board_after_every_event() -> None:
    events = history()
    board = LiveBoard()
    offset = 0
    for count in range(1, len(events) + 1):
        models = fold(*events[:count])
        for message in delivered(messages_missed(models, offset)):
            board.apply(message)
        offset += len(encode_line(events[count - 1]))
        assert without_log_totals(board.snapshot()) == server_board(models), events[count - 1]


def test_a_reset_drops_everything() -> None:
    board = LiveBoard()
    for message in delivered(messages_missed(fold(*history()), 0)):
        board.apply(message)
    board.apply(ResetMessage("g:0"), cursor="0:0")
    assert board.runs == {} and board.queue == [] and board.snapshot().totals.runs == 0
