"""The thin edge between Starlette and the domain: parse, validate, respond.

Request bodies and query strings are validated by converting them into msgspec
structs — the same types that ``/openapi.json`` is generated from — so a 422 names the
exact field that is wrong. Read responses carry the log position their snapshot
reflects and a weak ETag, and answer ``304`` to a matching ``If-None-Match``.
"""

from __future__ import annotations

import functools
import hashlib
import re
import typing
from typing import Any, TypeVar

import anyio
import msgspec
import msgspec.inspect
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from harness.errors import (
    BodyTooLarge,
    HarnessError,
    Invalid,
    MalformedBody,
    RequestTimeout,
    UnsupportedMediaType,
    write_failed,
)

T = TypeVar("T")
StructT = TypeVar("StructT", bound=msgspec.Struct)
JSON = "application/json"
POSITION_HEADER = "X-Harness-Position"
POLICY_VIOLATION = 1008  # WebSocket close code
# Arrays and objects inside one another in a request body; the deepest legitimate body
# (an MCP tool's arguments) is far shallower.
MAX_BODY_DEPTH = 64

_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def json_response(value: Any, *, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    return Response(encode(value), status_code=status, media_type=JSON, headers=headers)


async def refuse(scope: Scope, receive: Receive, send: Send, error: HarnessError) -> None:
    """Refuse a connection from ASGI middleware: ``error`` in the SPEC shape, or, for a
    WebSocket handshake, a close before accepting (the client sees a 403)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": POLICY_VIOLATION})
        return
    await json_response(error.to_json(), status=error.status)(scope, receive, send)


def read_model(request: Request, value: Any, *, position: object,
               version: object | None = None, headers: dict[str, str] | None = None,
               render: typing.Callable[[], bytes] | None = None, media_type: str = JSON
               ) -> Response:
    """A read-model response tagged with the log position it reflects.

    The ETag is the position itself: read models are a function of the log, so the
    same position and URL always give the same body. A body that also depends on
    something else names it all in ``version``, which is then the ETag. ``render``
    makes a body other than ``value`` as JSON (a download), and is not called for a
    ``304``.
    """
    etag = position_etag(position if version is None else version)
    return _tagged(request, render or (lambda: encode(value)), etag, str(position), headers,
                   media_type)


def live_state(request: Request, value: Any, *, position: object) -> Response:
    """A response that also reflects things outside the log (uptime, files on disk):
    its ETag is a digest of the body."""
    body = encode(value)
    etag = f'W/"{hashlib.blake2b(body, digest_size=10).hexdigest()}"'
    return _tagged(request, lambda: body, etag, str(position), None, JSON)


def _tagged(request: Request, body: typing.Callable[[], bytes], etag: str, position: str,
            headers: dict[str, str] | None, media_type: str) -> Response:
    tags = {POSITION_HEADER: position, "ETag": etag, **(headers or {})}
    if etag_matches(request, etag):
        return Response(status_code=304, headers=tags)
    return Response(body(), media_type=media_type, headers=tags)


def position_etag(position: object) -> str:
    """The ETag of a read model at ``position``: read models are a function of the log."""
    return f'W/"{position}"'


def etag_matches(request: Request, etag: str) -> bool:
    """Whether the request's ``If-None-Match`` names ``etag`` (weakly) or ``*``."""
    if_none_match = request.headers.get("if-none-match")
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def parse_query(request: Request, model: type[StructT]) -> StructT:
    """The query string as ``model``; repeated parameters fill list-typed fields, and
    so do comma-separated values for the fields a model names in ``comma_separated``."""
    params = request.query_params
    values: dict[str, Any] = {}
    commas: frozenset[str] = getattr(model, "comma_separated", frozenset())
    for name, takes_several in _query_fields(model):
        if takes_several:
            # Empty values are kept, so that validation refuses them (``?status=`` is a 422,
            # not "no filter"): the schema says what a value must be, and so does the code.
            found = [part for value in params.getlist(name)
                     for part in (value.split(",") if name in commas else [value])]
            if found:
                values[name] = found
        elif name in params:
            values[name] = params[name]
    try:
        return msgspec.convert(values, model, strict=False)
    except msgspec.ValidationError as error:
        raise invalid(error, "query") from None


async def read_body(request: Request, model: type[T], *, limit_bytes: int,
                    timeout_s: float = 30.0) -> T:
    """The JSON body as ``model``: 413 over ``limit_bytes``, 400 if not JSON, 422 if
    a field is missing or out of its type or range, 408 if it has not all arrived
    within ``timeout_s`` (a client trickling a body holds a connection and a task).
    Nothing is buffered past the limit.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON and not media_type.endswith("+json"):
        # A form or text/plain body is what a cross-site page can send without a preflight.
        raise UnsupportedMediaType(f"the body must be sent as {JSON}, got {media_type or 'none'}",
                                   details={"contentType": media_type or None})
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit_bytes:
        raise BodyTooLarge(limit_bytes)
    chunks: list[bytes] = []
    size = 0
    with anyio.move_on_after(timeout_s) as deadline:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit_bytes:
                raise BodyTooLarge(limit_bytes)
            chunks.append(chunk)
    if deadline.cancelled_caught:
        raise RequestTimeout(f"the request body did not arrive within {timeout_s:g} s",
                             details={"timeoutS": timeout_s})
    document = _decode(b"".join(chunks))
    try:
        return msgspec.convert(_integral_floats_as_ints(document), model)
    except msgspec.ValidationError as error:
        raise invalid(error, "body") from None


def _decode(raw: bytes) -> Any:
    """The JSON document in ``raw``; 400 for anything that is not JSON we would keep.

    msgspec raises more than its ``DecodeError``: ``UnicodeDecodeError`` for invalid
    UTF-8 in a string, ``RecursionError`` past ~1,000 levels of nesting. Documents
    nested deeper than ``MAX_BODY_DEPTH`` are refused too: no request needs them, and
    everything after this point (conversion, the log, its readers) may recurse.
    """
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise MalformedBody(f"request body is not valid JSON: {error}") from None
    except UnicodeDecodeError as error:
        raise MalformedBody(f"request body is not valid UTF-8: {error}") from None
    except RecursionError:
        document = None  # deeper than the decoder goes: certainly too deep
    else:
        if _depth_within(document, MAX_BODY_DEPTH):
            return document
    raise MalformedBody(f"request body is nested deeper than {MAX_BODY_DEPTH} levels",
                        details={"maxDepth": MAX_BODY_DEPTH})


def _depth_within(document: Any, limit: int) -> bool:
    """Whether no array or object in ``document`` lies deeper than ``limit`` (iterative,
    so that checking cannot itself overflow the stack)."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if type(value) is dict:
            children: Any = value.values()
        elif type(value) is list:
            children = value
        else:
            continue
        if depth > limit:
            return False
        pending.extend((child, depth + 1) for child in children)
    return True


def _integral_floats_as_ints(value: Any) -> Any:
    """JSON does not tell ``3`` from ``3.0``, and JSON Schema calls both an integer;
    strict conversion would refuse the second for an ``int`` field."""
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is dict:
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if type(value) is list:
        return [_integral_floats_as_ints(item) for item in value]
    return value


def invalid(error: msgspec.ValidationError, where: str) -> Invalid:
    """A 422 from a msgspec validation error, naming the field it is about."""
    text = str(error)
    missing = re.search(r"missing required field `([^`]+)`", text)
    _, at, path = text.rpartition(" - at `")
    field = path.rstrip("`").removeprefix("$").lstrip(".") if at else ""
    if missing:
        field = f"{field}.{missing.group(1)}" if field else missing.group(1)
    if field and where == "query":
        field = field.split("[", 1)[0]  # the parameter, not which of its repeated values
    return Invalid(f"invalid {where}: {text}", details={"in": where, "field": field or None})


@functools.cache
def _query_fields(model: type) -> tuple[tuple[str, bool], ...]:
    """Each field's name on the wire, and whether it takes several values (a list)."""
    return tuple((field.encode_name, _is_list(field.type))
                 for field in msgspec.inspect.type_info(model).fields)  # type: ignore[attr-defined]


def _is_list(kind: msgspec.inspect.Type) -> bool:
    if isinstance(kind, msgspec.inspect.Metadata):  # Annotated[..., Meta(...)]
        return _is_list(kind.type)
    if isinstance(kind, msgspec.inspect.UnionType):
        return any(_is_list(member) for member in kind.types)
    return isinstance(kind, msgspec.inspect.ListType)


async def harness_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HarnessError)
    return json_response(exc.to_json(), status=exc.status)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the API's error shape."""
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    body = {"error": {"code": codes.get(exc.status_code, "http_error"),
                      "message": exc.detail, "details": None}}
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return json_response(body, status=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> set[str]:
    """Every method some route serves at this path (Starlette names only the first
    route's when one path has a route per method)."""
    allowed: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            allowed |= getattr(route, "methods", None) or set()
    return allowed


async def os_error(request: Request, exc: Exception) -> Response:
    """An OS error that reached a handler is a write the disk refused (the log and the
    side logs are the only files a command writes): 507 when the disk is full, else 503,
    both in the SPEC's shape and saying that nothing was written."""
    assert isinstance(exc, OSError)
    return await harness_error(request, write_failed(exc))


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug: still answered in the SPEC's shape (Starlette logs the traceback)."""
    body = {"error": {"code": "internal_error", "message": "internal server error",
                      "details": None}}
    return json_response(body, status=500)


EXCEPTION_HANDLERS = {HarnessError: harness_error, HTTPException: http_error,
                      OSError: os_error, Exception: internal_error}
