"""The one exception an API error becomes on the client side."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec


class ApiError(Exception):
    """The server refused a request: the SPEC error ``{"error": {"code", "message",
    "details"}}`` and the HTTP ``status`` it came with (401 for a missing or wrong
    token, 404 for an unknown id, 409 for a command the run's state forbids, …)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """The error a non-success response carries; a body not in the SPEC's shape (a
        proxy's page, say) becomes ``http_error`` with the body's start as the message."""
        try:
            error = msgspec.json.decode(response.content)["error"]
            return cls(response.status_code, str(error["code"]), str(error["message"]),
                       error.get("details"))
        except (msgspec.DecodeError, KeyError, TypeError, UnicodeDecodeError):
            text = response.content[:200].decode("utf-8", "replace").strip()
            return cls(response.status_code, "http_error", text or response.reason_phrase)
