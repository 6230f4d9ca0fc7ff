"""Read responses encoded once per log position and served again from memory.

A read route whose body is a function of its URL and the log position (the board, the
archive, a run, its items…) is built and encoded once per position; every further
request for that URL at that position is served those bytes. When the log moves on,
the whole cache is dropped: it never serves a body from another position, so it needs
no invalidation rule beyond "same position".

Bounded in entries and in bytes; a body too large to be worth keeping (an export of a
big run) is simply not kept.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from starlette.responses import Response


@dataclass(frozen=True, slots=True)
class EncodedResponse:
    """What a response was, to be rebuilt per request (middleware edits the headers
    of the response object it is given, so one object is never sent twice)."""

    body: bytes
    headers: tuple[tuple[str, str], ...]  # content-type included, content-length not

    def response(self) -> Response:
        return Response(self.body, headers=dict(self.headers))


class ResponsesAtPosition:
    """Up to ``max_entries`` responses, ``max_bytes`` of bodies in all, for one position.

    ``max_body_bytes`` is the largest body kept.
    """

    def __init__(self, *, max_entries: int = 256, max_bytes: int = 8 << 20,
                 max_body_bytes: int = 512 << 10) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_body_bytes = max_body_bytes
        self.position = ""
        self._entries: OrderedDict[str, EncodedResponse] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, position: str, key: str) -> EncodedResponse | None:
        if position != self.position:
            self._start_over(position)
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found

    def keep(self, position: str, key: str, response: Response) -> None:
        """Keep ``response`` if it is a success tagged with exactly ``position``."""
        body = getattr(response, "body", None)
        if (response.status_code != 200 or not isinstance(body, bytes)
                or len(body) > self.max_body_bytes or response.background is not None):
            return
        if position != self.position:
            self._start_over(position)
        headers = tuple((name, value) for name, value in response.headers.items()
                        if name != "content-length")
        entry = EncodedResponse(body, headers)
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous.body)
        self._entries[key] = entry
        self._bytes += len(body)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.body)

    def _start_over(self, position: str) -> None:
        self.position = position
        self._entries.clear()
        self._bytes = 0
