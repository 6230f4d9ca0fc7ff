"""Reading a Server-Sent Events stream from an httpx streaming response."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx


def sse_messages(response: httpx.Response) -> Iterator[tuple[str, Any]]:
    """``(event, decoded data)`` for each message; pings and comments are skipped."""
    event: str | None = None
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if event not in (None, "ping") and data:
                yield event, json.loads("\n".join(data))
            event, data = None, []
        elif line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
