"""``AsyncHarness``: the client over anyio (asyncio or trio)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from harness.client import calls
from harness.client.calls import Call
from harness.client.stream import DEFAULT_BACKOFF, Backoff
from harness.client.subscribe import AsyncSubscription
from harness.client.sync import DEFAULT_URL, http_options
from projections.archive import RunSummary

P = ParamSpec("P")
T = TypeVar("T")


def _sent(build: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncHarness, P], Awaitable[T]]:
    @functools.wraps(build)
    async def method(self: AsyncHarness, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.send(build(*args, **kwargs))
    return method


class AsyncHarness:
    """``Harness`` with every method awaited; ``async with AsyncHarness(url) as h``."""

    def __init__(self, url: str = DEFAULT_URL, *, token: str | None = None,
                 timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.AsyncClient(**http_options(url, token, timeout_s))

    async def send(self, call: Call[T]) -> T:
        response = await self.http.request(call.method, call.path, params=call.params,
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

    async def iter_archive(self, **filters: Any) -> AsyncIterator[RunSummary]:
        """Every run of the archive matching ``filters``, newest first, page after page."""
        cursor = None
        while True:
            page = await self.archive(**filters, cursor=cursor)
            for summary in page.runs:
                yield summary
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def subscribe(self, *, after: str | None = None, run_ids: Collection[str] = (),
                  replicas: Sequence[str] = (),
                  backoff: Backoff = DEFAULT_BACKOFF, idle_timeout_s: float = 60.0,
                  text_deltas: bool = False) -> AsyncSubscription:
        """As ``Harness.subscribe``; iterate it with ``async for``."""
        http = httpx.AsyncClient(headers=self.http.headers,
                                 timeout=httpx.Timeout(10, read=idle_timeout_s))
        return AsyncSubscription(http, servers=[self.url, *replicas], after=after,
                                 run_ids=run_ids, backoff=backoff, text_deltas=text_deltas)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncHarness:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()
