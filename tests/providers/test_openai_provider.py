"""The OpenAI-compatible provider against a real fake server on loopback."""

from __future__ import annotations

import socket
from typing import Any

import anyio
import httpx
import pytest

from events.schema import Usage
from harness.errors import Invalid
from harness.providers import ProviderError, make_provider
from harness.providers.base import Prompt
from harness.providers.openai import OpenAIProvider
from harness.settings import Settings
from tests.fakes.openai_server import API_KEY, CHUNKS, REPLY, RunningFake

pytestmark = pytest.mark.anyio

PROMPT = Prompt(run_id="run-1", sequence=1, attempt=1, text="Capital of France?\nA. Paris",
                choices=["Paris", "Rome"], expected="A")


def provider(base_url: str, **options: Any) -> OpenAIProvider:
    return OpenAIProvider(base_url=base_url, api_key=options.pop("api_key", API_KEY),
                          backoff_s=0.001, **options)


async def collect(source: OpenAIProvider, model: str = "gpt-test",
                  config: dict[str, Any] | None = None) -> list[str | Usage]:
    with anyio.fail_after(20):
        return [piece async for piece in source.stream(PROMPT, model=model, config=config or {})]


async def test_chunks_arrive_in_order_and_join_to_the_reply(fake_openai: RunningFake) -> None:
    pieces = await collect(provider(fake_openai.base_url))
    texts = [piece for piece in pieces if isinstance(piece, str)]
    assert len(texts) == CHUNKS
    assert "".join(texts) == REPLY


async def test_usage_comes_last(fake_openai: RunningFake) -> None:
    pieces = await collect(provider(fake_openai.base_url))
    assert pieces[-1] == Usage(prompt_tokens=42, completion_tokens=17)
    assert all(isinstance(piece, str) for piece in pieces[:-1])


async def test_the_request_asks_for_a_stream_with_usage_and_passes_options(
        fake_openai: RunningFake) -> None:
    await collect(provider(fake_openai.base_url), config={"temperature": 0, "maxTokens": 64})
    [request] = fake_openai.fake.requests
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert request["messages"] == [{"role": "user", "content": PROMPT.text}]
    assert (request["temperature"], request["max_tokens"]) == (0, 64)


async def test_a_429_is_retried_and_then_succeeds(fake_openai: RunningFake) -> None:
    pieces = await collect(provider(fake_openai.base_url), model="rate-limited-once")
    assert "".join(piece for piece in pieces if isinstance(piece, str)) == REPLY
    assert len(fake_openai.fake.requests) == 2


async def test_an_overloaded_server_is_retried_three_times_then_reported(
        fake_openai: RunningFake) -> None:
    with pytest.raises(ProviderError) as raised:
        await collect(provider(fake_openai.base_url), model="overloaded")
    assert "HTTP 503: The server is overloaded" in raised.value.message
    assert "gave up after 4 attempts" in raised.value.message
    assert raised.value.retryable
    assert len(fake_openai.fake.requests) == 4


async def test_a_stalled_reply_times_out(fake_openai: RunningFake) -> None:
    with pytest.raises(ProviderError) as raised:
        await collect(provider(fake_openai.base_url), model="stall", config={"timeoutS": 0.3})
    assert "timed out after 0.3 s" in raised.value.message
    assert len(fake_openai.fake.requests) == 1


async def test_a_rejected_key_fails_at_once_with_the_servers_message(
        fake_openai: RunningFake) -> None:
    with pytest.raises(ProviderError) as raised:
        await collect(provider(fake_openai.base_url, api_key="sk-wrong"))
    assert raised.value.message == "HTTP 401: Incorrect API key provided: sk-wr***ong."
    assert not raised.value.retryable
    assert len(fake_openai.fake.requests) == 1


async def test_an_unreachable_server_is_retried_then_reported() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ProviderError) as raised:
        await collect(provider(f"http://127.0.0.1:{port}/v1"))
    assert "ConnectError" in raised.value.message
    assert "gave up after 4 attempts" in raised.value.message


async def test_a_shared_client_is_used_and_left_open(fake_openai: RunningFake) -> None:
    async with httpx.AsyncClient() as client:
        source = provider(fake_openai.base_url, http_client=client)
        await collect(source)
        await collect(source)
        assert not client.is_closed
    assert len(fake_openai.fake.requests) == 2


async def test_make_provider_builds_openai_from_settings_whatever_the_case(
        fake_openai: RunningFake) -> None:
    settings = Settings(openai_base_url=fake_openai.base_url, openai_api_key=API_KEY)
    source = make_provider("OpenAI", settings)
    with anyio.fail_after(20):
        pieces = [piece async for piece in source.stream(PROMPT, model="gpt", config={})]
    assert "".join(piece for piece in pieces if isinstance(piece, str)) == REPLY


@pytest.mark.parametrize(("config", "key"), [
    ({"timeoutS": 0}, "timeoutS"),
    ({"temperature": 3}, "temperature"),
    ({"maxTokens": 1.5}, "maxTokens"),
    ({"max_tokens": 10}, "max_tokens"),
])
async def test_a_bad_config_is_invalid_and_names_the_key(config: dict[str, Any], key: str
                                                         ) -> None:
    with pytest.raises(Invalid) as raised:
        OpenAIProvider.validate_config(config)
    assert key in raised.value.message


async def test_stopping_a_stream_early_frees_its_connection(fake_openai: RunningFake) -> None:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as client:
        source = provider(fake_openai.base_url, http_client=client)
        stream = source.stream(PROMPT, model="gpt-test", config={})
        with anyio.fail_after(20):
            assert isinstance(await anext(stream), str)
            await stream.aclose()  # type: ignore[attr-defined]
        pieces = await collect(source)
    assert "".join(piece for piece in pieces if isinstance(piece, str)) == REPLY
