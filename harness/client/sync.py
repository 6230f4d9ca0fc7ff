"""``Harness``: the blocking client."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from harness.client import calls
from harness.client.calls import Call
from harness.client.stream import DEFAULT_BACKOFF, Backoff
from harness.client.subscribe import Subscription
from projections.archive import RunSummary

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:7860"


def http_options(url: str, token: str | None, timeout_s: float) -> dict[str, Any]:
    """What both clients give httpx: the base URL, the bearer token on every request
    (the server asks for it on writes only), and a timeout for each step of a request."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return {"base_url": url.rstrip("/"), "headers": headers, "timeout": timeout_s}


def _sent(build: Callable[P, Call[T]]) -> Callable[Concatenate[Harness, P], T]:
    @functools.wraps(build)
    def method(self: Harness, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.send(build(*args, **kwargs))
    return method


class Harness:
    """A harness server at ``url``; ``token`` is its ``HARNESS_TOKEN``, if it has one.

    ``timeout_s`` bounds each step of a request (connect, each read, write). A command
    such as ``cancel`` answers when the run has ended, so allow it that long. Use it as
    a context manager, or call ``close``.
    """

    def __init__(self, url: str = DEFAULT_URL, *, token: str | None = None,
                 timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(**http_options(url, token, timeout_s))

    def send(self, call: Call[T]) -> T:
        response = self.http.request(call.method, call.path, params=call.params,
                                     content=call.content(),
                                     headers={"Content-Type": "application/json"}
                                     if call.body is not None else None)
        return call.read(response)

    data = _sent(calls.data)
    board = _sent(calls.board)
    archive = _sent(calls.archive)
    run = _sent(calls.run)
    items = _sent(calls.items)
    logs = _sent(calls.logs)
    compare = _sent(calls.compare)
    export = _sent(calls.export)
    datasets = _sent(calls.datasets)
    health = _sent(calls.health)
    memory = _sent(calls.memory)
    queue = _sent(calls.queue)
    create_run = _sent(calls.create_run)
    cancel = _sent(calls.cancel)
    retry = _sent(calls.retry)
    enqueue = _sent(calls.enqueue)
    remove_queued = _sent(calls.remove_queued)
    feedback = _sent(calls.feedback)
    add_memory = _sent(calls.add_memory)
    create_pack = _sent(calls.create_pack)
    import_captures = _sent(calls.import_captures)

    def iter_archive(self, **filters: Any) -> Iterator[RunSummary]:
        """Every run of the archive matching ``filters`` (those of ``archive``), newest
        first, page after page."""
        cursor = None
        while True:
            page = self.archive(**filters, cursor=cursor)
            yield from page.runs
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def subscribe(self, *, after: str | None = None, run_ids: Collection[str] = (),
                  replicas: Sequence[str] = (),
                  backoff: Backoff = DEFAULT_BACKOFF, idle_timeout_s: float = 60.0,
                  text_deltas: bool = False) -> Subscription:
        """The live stream from ``after`` (a cursor; ``None``: from now on, ``FROM_START``:
        the whole current state first), optionally only about ``run_ids``.

        A connection silent for ``idle_timeout_s`` (the server pings every 10 s) is taken
        for dead and replaced. ``replicas`` are other servers following the same log:
        when one fails, the next attempt goes to the next, with the same cursor.
        ``text_deltas`` asks for a running item's streamed text as ``run_item_delta``
        messages (what it appended), far fewer bytes than whole items; ``LiveBoard``
        applies them, a consumer of its own must too (``apply_text_delta``).
        """
        http = httpx.Client(headers=self.http.headers,
                            timeout=httpx.Timeout(10, read=idle_timeout_s))
        return Subscription(http, servers=[self.url, *replicas], after=after, run_ids=run_ids,
                            backoff=backoff, text_deltas=text_deltas)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
