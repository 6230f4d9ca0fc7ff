"""The error hierarchy of the API.

Every mistake a client can make is one of these; ``web.http`` maps them to an HTTP
status and the SPEC's error shape ``{"error": {"code", "message", "details"}}`` in one
place. Anything else that escapes a handler is a bug and becomes a 500.
"""

from __future__ import annotations

import errno
from typing import Any

from events.writer import TornWrite


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


class Exposed(HarnessError):
    """The server was reached beyond loopback and has no write token to guard it."""

    status = 403
    code = "exposed_without_token"


class NotFound(HarnessError):
    status = 404
    code = "not_found"

    def __init__(self, kind: str, identifier: str) -> None:
        super().__init__(f"no {kind} with id {identifier!r}",
                         details={"kind": kind, "id": identifier})


class RequestTimeout(HarnessError):
    """The request's body did not arrive in time."""

    status = 408
    code = "request_timeout"


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


class UnknownHost(HarnessError):
    """A ``Host`` this server does not answer to (DNS rebinding, or a misrouted request)."""

    status = 421
    code = "unknown_host"


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


class WriteRefused(LogUnavailable):
    """The OS refused an append (an I/O error, no descriptors left): nothing was
    written, and the same command may succeed later."""

    code = "write_refused"


class InsufficientStorage(WriteRefused):
    """The disk (or the quota, or the file-size limit) is full: nothing was written."""

    status = 507
    code = "insufficient_storage"


FULL_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def write_failed(error: OSError) -> WriteRefused:
    """The client-facing error for an append the OS refused."""
    reason = error.strerror or str(error) or type(error).__name__
    details = {"errno": errno.errorcode.get(error.errno or 0), "reason": reason}
    # A write to a regular file comes back short only when the disk or the file-size
    # limit is full (the writer reports that as ``TornWrite``, without an errno).
    if error.errno in FULL_DISK_ERRNOS or isinstance(error, TornWrite):
        return InsufficientStorage(f"the log could not be written: {reason}", details=details)
    return WriteRefused(f"the log could not be written: {reason}", details=details)
