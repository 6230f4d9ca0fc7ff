"""A tiny, real OpenAI-compatible chat-completions server, for tests over loopback.

``POST /v1/chat/completions`` streams ``REPLY`` as Server-Sent Events the way OpenAI
does (a role chunk, content chunks, a usage chunk when asked, ``[DONE]``). The model
name picks a misbehaviour:

- ``rate-limited-once``: the first request answers 429 (``Retry-After: 0``), then normal;
- ``overloaded``: always 503, without ``Retry-After``;
- ``stall``: sends the role chunk, then nothing until the client goes away;
- anything else: a normal reply.

A request without ``Authorization: Bearer <api_key>`` gets OpenAI's 401. Every request
body received is kept in ``requests``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

REPLY = "Paris is the capital of France, so the first choice is right.\n\nAnswer: A"
CHUNKS = 6
API_KEY = "sk-test-key"
STALL_LIMIT_S = 30


class FakeOpenAI:
    def __init__(self, *, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self._rate_limited: set[str] = set()
        self.app = Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    def reset(self) -> None:
        self.requests.clear()
        self._rate_limited.clear()

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided: sk-wr***ong.", "invalid_api_key")
        model = body["model"]
        if model == "rate-limited-once" and model not in self._rate_limited:
            self._rate_limited.add(model)
            return _error(429, "Rate limit reached for requests", "rate_limit_exceeded",
                          headers={"Retry-After": "0"})
        if model == "overloaded":
            return _error(503, "The server is overloaded", "server_error")
        include_usage = bool(body.get("stream_options", {}).get("include_usage"))
        events = _stall(request) if model == "stall" else _reply(model, include_usage)
        return StreamingResponse(events, media_type="text/event-stream")


@dataclass(frozen=True)
class RunningFake:
    """A ``FakeOpenAI`` being served; ``base_url`` ends in ``/v1`` like OpenAI's."""

    fake: FakeOpenAI
    base_url: str


def _error(status: int, message: str, code: str, *, headers: dict[str, str] | None = None
           ) -> Response:
    return JSONResponse({"error": {"message": message, "type": "error", "code": code}},
                        status_code=status, headers=headers)


def _event(model: str, delta: dict[str, Any], *, usage: dict[str, int] | None = None
           ) -> bytes:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": None}]
    chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
             "choices": choices, "usage": usage}
    return f"data: {json.dumps(chunk)}\n\n".encode()


async def _reply(model: str, include_usage: bool) -> AsyncIterator[bytes]:
    yield _event(model, {"role": "assistant", "content": ""})
    size = -(-len(REPLY) // CHUNKS)
    for start in range(0, len(REPLY), size):
        yield _event(model, {"content": REPLY[start:start + size]})
    if include_usage:
        yield _event(model, {}, usage={"prompt_tokens": 42, "completion_tokens": 17,
                                       "total_tokens": 59})
    yield b"data: [DONE]\n\n"


async def _stall(request: Request) -> AsyncIterator[bytes]:
    yield _event("stall", {"role": "assistant", "content": ""})
    # Poll for the client leaving: with ASGI 2.4 Starlette does not cancel a streaming
    # response on disconnect, and a stuck response would hold up the server's shutdown.
    with anyio.move_on_after(STALL_LIMIT_S):
        while not await request.is_disconnected():
            await anyio.sleep(0.05)
