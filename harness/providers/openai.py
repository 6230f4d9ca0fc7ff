"""A provider for any OpenAI-compatible chat-completions endpoint, streaming.

``POST {base_url}/chat/completions`` with ``stream: true`` and
``stream_options.include_usage``; the reply is Server-Sent Events whose ``data:`` lines
are JSON chunks, ending with ``data: [DONE]``. Text comes from
``choices[0].delta.content``; the token counts from the chunk that carries ``usage``.

Failures: 429, 500, 502, 503 and 504 and connection errors are retried with
exponential backoff and jitter (or after the server's ``Retry-After``, capped), at most
``max_retries`` times, and only while nothing has been yielded yet — streamed text is
never sent twice. Any other 4xx fails at once with the server's message; waiting longer
than ``timeoutS`` for the next bytes fails with "timed out after …".
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx
import msgspec

from events.schema import Usage
from harness.providers.base import Prompt, ProviderError, check_keys, config_number

OPTIONS = ("temperature", "maxTokens", "timeoutS")
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, kw_only=True)
class ChatOptions:
    """``temperature`` (0–2) and ``max_tokens`` are passed on when given; ``timeout_s``
    (default 60) is the longest wait for the next bytes of the reply."""

    temperature: float | None = None
    max_tokens: int | None = None
    timeout_s: float = 60.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ChatOptions:
        check_keys(config, OPTIONS, provider="openai")
        temperature = max_tokens = None
        if "temperature" in config:
            temperature = config_number(config, "temperature", default=1, minimum=0, maximum=2)
        if "maxTokens" in config:
            max_tokens = int(config_number(config, "maxTokens", default=1, minimum=1,
                                           maximum=1_000_000, integer=True))
        timeout_s = config_number(config, "timeoutS", default=60, minimum=0.01, maximum=3600)
        return cls(temperature=temperature, max_tokens=max_tokens, timeout_s=timeout_s)


class OpenAIProvider:
    """Streams chat completions from ``base_url``. ``http_client`` is shared when given
    (its own timeouts are overridden per request); otherwise each stream opens its own.
    ``backoff_s`` is the first retry's mean delay, doubled on each retry;
    ``retry_after_cap_s`` bounds how long a server's ``Retry-After`` can make us wait."""

    name = "openai"

    def __init__(self, *, base_url: str, api_key: str | None = None,
                 http_client: httpx.AsyncClient | None = None, max_retries: int = 3,
                 backoff_s: float = 0.5, retry_after_cap_s: float = 30.0,
                 connect_timeout_s: float = 5.0) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Accept": "text/event-stream"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._http_client = http_client
        self._max_retries = max_retries
        self._backoff_s = backoff_s
        self._retry_after_cap_s = retry_after_cap_s
        self._connect_timeout_s = connect_timeout_s

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> None:
        ChatOptions.from_config(config)

    async def stream(self, prompt: Prompt, *, model: str, config: Mapping[str, Any]
                     ) -> AsyncIterator[str | Usage]:
        options = ChatOptions.from_config(config)
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": prompt.text}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if options.temperature is not None:
            body["temperature"] = options.temperature
        if options.max_tokens is not None:
            body["max_tokens"] = options.max_tokens
        async with self._client() as client:
            failures = 0
            while True:
                started = False
                try:
                    # aclosing: if our consumer stops early, the response is closed now,
                    # not whenever the garbage collector finalises the inner generator.
                    async with contextlib.aclosing(
                            self._attempt(client, body, options.timeout_s)) as pieces:
                        async for piece in pieces:
                            started = True
                            yield piece
                    return
                except _Transient as problem:
                    if started:
                        raise ProviderError(f"stream broken: {problem}", retryable=True) from None
                    if failures == self._max_retries:
                        raise ProviderError(f"{problem} (gave up after {failures + 1} attempts)",
                                            retryable=True) from None
                    failures += 1
                    await anyio.sleep(self._delay_s(failures, problem.retry_after_s))

    def _client(self) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
        if self._http_client is not None:
            return contextlib.nullcontext(self._http_client)
        return httpx.AsyncClient()

    async def _attempt(self, client: httpx.AsyncClient, body: dict[str, Any], timeout_s: float
                       ) -> AsyncGenerator[str | Usage, None]:
        timeout = httpx.Timeout(timeout_s, connect=self._connect_timeout_s)
        try:
            async with client.stream("POST", self._url, json=body, headers=self._headers,
                                     timeout=timeout) as response:
                if response.status_code != 200:
                    await response.aread()
                    message = f"HTTP {response.status_code}: {_server_message(response)}"
                    if response.status_code in RETRIED_STATUSES:
                        raise _Transient(message, retry_after_s=_retry_after_s(response))
                    raise ProviderError(message, retryable=False)
                async for piece in _stream_pieces(response):
                    yield piece
        except httpx.ReadTimeout:
            raise ProviderError(f"timed out after {timeout_s:g} s waiting for {self._url}",
                                retryable=True) from None
        except httpx.TransportError as error:
            raise _Transient(f"{type(error).__name__} talking to {self._url}: {error}") from None

    def _delay_s(self, failures: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, self._retry_after_cap_s)
        # Jitter spreads the retries of many concurrent items that failed together.
        return self._backoff_s * 2.0 ** (failures - 1) * random.uniform(0.5, 1.5)


class _Transient(Exception):
    """A failure worth retrying if nothing has been streamed yet."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class _ApiError(msgspec.Struct):
    message: str = ""


class _ErrorBody(msgspec.Struct):
    error: _ApiError | str | None = None


class _Delta(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None


class _TokenCounts(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] = []
    usage: _TokenCounts | None = None
    error: _ApiError | None = None


_chunk_decoder = msgspec.json.Decoder(_Chunk)
_error_decoder = msgspec.json.Decoder(_ErrorBody)


async def _stream_pieces(response: httpx.Response) -> AsyncIterator[str | Usage]:
    """The text chunks of an SSE chat-completions reply, then its ``Usage`` if it sent one."""
    usage: Usage | None = None
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue  # comments, event names, blank separators
        data = line[5:].strip()
        if data == "[DONE]":
            break
        try:
            chunk = _chunk_decoder.decode(data)
        except msgspec.DecodeError as error:
            raise ProviderError(f"malformed stream chunk ({error}): {data[:200]!r}",
                                retryable=True) from None
        if chunk.error is not None:
            raise ProviderError(f"error in stream: {chunk.error.message}", retryable=True)
        if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
            yield chunk.choices[0].delta.content
        if chunk.usage is not None:
            usage = Usage(prompt_tokens=chunk.usage.prompt_tokens,
                          completion_tokens=chunk.usage.completion_tokens)
    if usage is not None:
        yield usage


def _server_message(response: httpx.Response) -> str:
    try:
        error = _error_decoder.decode(response.content).error
    except msgspec.DecodeError:
        error = None
    if isinstance(error, _ApiError) and error.message:
        return error.message
    if isinstance(error, str) and error:
        return error
    return response.text.strip()[:300] or response.reason_phrase


def _retry_after_s(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, from either of its forms (seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
