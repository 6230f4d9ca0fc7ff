"""The error hierarchy of the API.

Every mistake a client can make is one of these; ``web.http`` maps them to an HTTP
status and the SPEC's error shape ``{"error": {"code", "message", "details"}}`` in one
place. Anything else that escapes a handler is a bug and becomes a 500.
"""

from __future__ import annotations

from typing import Any


class HarnessError(Exception):
    """Base of every client-visible error; ``status`` and ``code`` say how it is reported."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class MalformedBody(HarnessError):
    """The request body is not valid JSON."""

    status = 400
    code = "malformed_json"


class Unauthorized(HarnessError):
    status = 401
    code = "unauthorized"


class Forbidden(HarnessError):
    """A request from a web page this server does not serve (another origin)."""

    status = 403
    code = "forbidden_origin"


class NotFound(HarnessError):
    status = 404
    code = "not_found"

    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(f"no {kind} with id {identifier!r}",
                         details={"kind": kind, "id": identifier})


class Conflict(HarnessError):
    """A command that the current state forbids (cancel a finished run, retry an active one)."""

    status = 409
    code = "conflict"


class BodyTooLarge(HarnessError):
    status = 413
    code = "body_too_large"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            f"request body is over the limit of {limit_bytes} bytes",
            details={"limitBytes": limit_bytes},
        )


class UnsupportedMediaType(HarnessError):
    """A body that is not declared as JSON."""

    status = 415
    code = "unsupported_media_type"


class Invalid(HarnessError):
    """A parameter or field out of its type or range."""

    status = 422
    code = "invalid"


class Unavailable(HarnessError):
    """A dependency outside the server failed (an MCP tool, a provider)."""

    status = 502
    code = "bad_gateway"


class LogUnavailable(HarnessError):
    """The log cannot be read or written right now (its reader is down, its server away);
    the client may retry later."""

    status = 503
    code = "log_unavailable"
