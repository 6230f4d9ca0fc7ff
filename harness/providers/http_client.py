"""The HTTP client the server's providers share, made when a provider first needs it.

Building an ``httpx.AsyncClient`` loads the CA bundle into an SSL context and imports
httpcore (and trio, when installed): about a fifth of a server's restart, which a
server that never calls a model over HTTP should not pay.
"""

from __future__ import annotations

import httpx


class SharedHttpClient:
    """One ``httpx.AsyncClient``, made on the first ``client()``; ``aclose`` closes it."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> SharedHttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
