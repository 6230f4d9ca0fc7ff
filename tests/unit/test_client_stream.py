"""The subscriber's rules, without a network: cursor, reset, backoff, refusals, and a
client that imports no server code."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from httpx_sse import ServerSentEvent

from harness.client import FROM_START, ApiError, Backoff, ResetMessage, RunProgressMessage
from harness.client.stream import SubscriptionState


def progress_event(id: str = "") -> ServerSentEvent:
    data = ('{"runId": "r", "progress": {"completed": 0, "total": 1, "correct": 0, '
            '"incorrect": 0, "awaiting": 0, "faulted": 0, "pending": 1}, '
            '"currentSequence": null, "recentSequences": []}')
    return ServerSentEvent(event="run_progress", data=data, id=id)


def test_the_cursor_moves_with_each_id_and_a_reset_starts_over_from_the_start() -> None:
    state = SubscriptionState(servers=["http://a/"], after="g:10", run_ids=["r"])
    assert state.request() == {"url": "http://a/api/events", "params": [("runId", "r")],
                               "headers": {"Last-Event-ID": "g:10"}}
    assert isinstance(state.receive(progress_event()), RunProgressMessage)
    assert state.cursor == "g:10"  # the middle of a group: still where it was
    state.receive(progress_event(id="g:20"))
    assert state.cursor == "g:20"
    reset = state.receive(ServerSentEvent(event="reset", data='{"position": "h:5"}', id="h:5"))
    assert reset == ResetMessage("h:5")
    assert (state.cursor, state.resets) == (FROM_START, 1)


def test_pings_and_unknown_events_are_skipped() -> None:
    state = SubscriptionState(servers=["http://a"], after=None, run_ids=())
    assert state.receive(ServerSentEvent(event="ping", data="")) is None
    assert state.receive(ServerSentEvent(event="something_new", data="{}", id="g:3")) is None


def test_a_live_only_subscriber_resumes_from_the_position_it_connected_at() -> None:
    state = SubscriptionState(servers=["http://a"], after=None, run_ids=())
    state.opened(httpx.Response(200, headers={"X-Harness-Position": "g:42"}))
    assert state.request()["headers"] == {"Last-Event-ID": "g:42"}


def test_each_failure_moves_to_the_next_replica_with_the_same_cursor() -> None:
    state = SubscriptionState(servers=["http://a", "http://b"], after="g:7", run_ids=())
    assert state.failed() == 1
    assert state.request()["url"] == "http://b/api/events"
    assert state.request()["headers"] == {"Last-Event-ID": "g:7"}
    assert state.failed() == 2
    assert state.request()["url"] == "http://a/api/events"
    state.opened(httpx.Response(200))
    assert state.failures == 0


def test_a_client_error_is_raised_and_a_server_error_retried() -> None:
    body = b'{"error": {"code": "invalid", "message": "bad runId", "details": null}}'
    refused = SubscriptionState.refusal(httpx.Response(422, content=body))
    assert isinstance(refused, ApiError) and (refused.status, refused.code) == (422, "invalid")
    assert isinstance(SubscriptionState.refusal(httpx.Response(503)), ConnectionError)


def test_an_error_body_not_in_the_spec_shape_still_becomes_an_api_error() -> None:
    error = ApiError.from_response(httpx.Response(502, content=b"<html>Bad gateway</html>"))
    assert (error.status, error.code, error.message) == (502, "http_error",
                                                         "<html>Bad gateway</html>")


@pytest.mark.parametrize("attempt", range(12))
def test_backoff_is_jittered_below_an_exponential_cap(attempt: int) -> None:
    backoff = Backoff(first_s=0.1, max_s=5)
    cap = min(5, 0.1 * 2 ** attempt)
    delays = [backoff.delay_s(attempt) for _ in range(200)]
    assert all(0 <= delay <= cap for delay in delays)
    assert len(set(delays)) > 1


def test_the_client_imports_no_server_code() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, harness.client, harness.terminal.watch; "
                               "print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True).stdout.split()
    server = [name for name in loaded if name.split(".")[0] in {"starlette", "uvicorn",
                                                                  "sse_starlette", "web",
                                                                  "numpy", "bm25s", "mcp"}
              or name in {"harness.live", "harness.executor", "harness.commands",
                          "harness.providers", "harness.memory.service"}]
    assert server == []
