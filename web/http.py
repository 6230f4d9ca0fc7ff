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

import msgspec
import msgspec.inspect
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from harness.errors import (
    BodyTooLarge,
    HarnessError,
    Invalid,
    MalformedBody,
    UnsupportedMediaType,
)

T = TypeVar("T")
StructT = TypeVar("StructT", bound=msgspec.Struct)
JSON = "application/json"
POSITION_HEADER = "X-Harness-Position"

_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def json_response(value: Any, *, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    return Response(encode(value), status_code=status, media_type=JSON, headers=headers)


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
    etag = f'W/"{position if version is None else version}"'
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
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=tags)
    return Response(body(), media_type=media_type, headers=tags)


def _matches(if_none_match: str | None, etag: str) -> bool:
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


async def read_body(request: Request, model: type[T], *, limit_bytes: int) -> T:
    """The JSON body as ``model``: 413 over ``limit_bytes``, 400 if not JSON, 422 if
    a field is missing or out of its type or range. Nothing is buffered past the limit.
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
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise BodyTooLarge(limit_bytes)
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise MalformedBody(f"request body is not valid JSON: {error}") from None
    try:
        return msgspec.convert(_integral_floats_as_ints(document), model)
    except msgspec.ValidationError as error:
        raise invalid(error, "body") from None


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


EXCEPTION_HANDLERS = {HarnessError: harness_error, HTTPException: http_error}
