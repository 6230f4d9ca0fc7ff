"""HARNESS_TOKEN: writes need the bearer token, reads and CORS preflights do not."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from web.auth import BearerTokenAuth


async def echo(request: object) -> PlainTextResponse:
    return PlainTextResponse("done")


def client(token: str | None) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/api/thing", echo, methods=["GET", "POST", "DELETE",
                                                                   "OPTIONS"])],
                    middleware=[Middleware(BearerTokenAuth, token=token)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


@pytest.mark.anyio
async def test_a_write_without_the_token_is_401_in_the_error_shape() -> None:
    async with client("tok-123") as http:
        response = await http.post("/api/thing")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["Bearer tok-12", "Bearer tok-1234", "Basic tok-123",
                                    "tok-123", "Bearer"])
async def test_a_write_with_a_wrong_token_is_401(header: str) -> None:
    async with client("tok-123") as http:
        response = await http.delete("/api/thing", headers={"Authorization": header})
    assert response.status_code == 401


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["Bearer tok-123", "bearer tok-123"])
async def test_a_write_with_the_token_goes_through(header: str) -> None:
    async with client("tok-123") as http:
        response = await http.post("/api/thing", headers={"Authorization": header})
    assert response.status_code == 200
    assert response.text == "done"


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_reads_and_preflights_need_no_token(method: str) -> None:
    async with client("tok-123") as http:
        response = await http.request(method, "/api/thing")
    assert response.status_code == 200


@pytest.mark.anyio
async def test_without_a_token_writes_are_open() -> None:
    async with client(None) as http:
        response = await http.post("/api/thing")
    assert response.status_code == 200
