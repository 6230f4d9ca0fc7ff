"""``/openapi.json`` and ``/docs``: the API described from the routes' own declarations.

Schemas come from the msgspec types that ``@endpoint`` validates with (JSON Schema
2020-12, which OpenAPI 3.1 uses as is); nothing here restates a field by hand.
``/docs`` renders the document with a vendored Swagger UI, so it works offline.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from web.api import Operation, operation_of
from web.http import json_response

REF = "#/components/schemas/{name}"
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
DESCRIPTIONS = {
    200: "OK", 201: "Created", 204: "Done; no body",
    304: "Not modified: the If-None-Match ETag still holds",
    400: "Malformed JSON", 401: "A write without the bearer token (when HARNESS_TOKEN is set)",
    404: "Unknown id", 409: "The current state forbids this command",
    403: "Sent by a web page of another origin (only local pages may write)",
    413: "Body over the limit", 415: "The body is not sent as application/json",
    422: "A parameter or field out of its type or range",
    503: "The log cannot be used right now: a write was not taken (nothing was written), "
         "a finished run's history is no longer in the log as it was read "
         "(history_changed: retry once the server has rebuilt), or, for health, a task "
         "the server needs is down",
    507: "The disk is full: nothing was written",
    502: "The upstream (MCP server, provider) failed",
}


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    details: Any = None


class ErrorBody(msgspec.Struct):
    """The shape of every error response."""

    error: ErrorDetail


def build_document(routes: list[BaseRoute], *, title: str, version: str) -> dict[str, Any]:
    operations = [(route.path, method, op) for route in routes if isinstance(route, Route)
                  for op in [operation_of(route.endpoint)] if op is not None
                  for method in sorted((route.methods or set()) - {"HEAD"})]
    types: list[Any] = [ErrorBody]
    for _, _, op in operations:
        types += [t for t in (op.query, op.body, *_alternatives(op.response)) if t is not None]
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    schema_of = dict(zip(map(id, types), schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op in operations:
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, op, schema_of,
                                                                components)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": (
            "Event-sourced server for LLM evaluation and agent runs. Every read carries "
            "`X-Harness-Position` (the log position it reflects) and a weak `ETag`. "
            "Live streams: `GET /api/events` (SSE) and the WebSocket `/ws/runs`, which "
            "OpenAPI cannot describe: it sends `{position, record}` per log record.")},
        "paths": paths,
        "components": {"schemas": components},
    }


def _operation(path: str, method: str, op: Operation, schema_of: dict[int, Any],
               components: dict[str, Any]) -> dict[str, Any]:
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _PATH_PARAM.findall(path)]
    if op.query is not None:
        parameters += _query_parameters(schema_of[id(op.query)], components)
    errors = set(op.errors)
    if op.query is not None:
        errors.add(422)
    if op.body is not None:
        errors |= {400, 413, 415, 422}
    if parameters and any(p["in"] == "path" for p in parameters):
        errors.add(404)
    if method != "GET":
        errors |= {401, 403, 503, 507}  # every write may find the log unable to take it
    responses: dict[str, Any] = {}
    for status in op.statuses:
        responses[str(status)] = _success(status, op, schema_of)
    if op.cacheable:
        responses["304"] = {"description": DESCRIPTIONS[304]}
    error_content = {"application/json": {"schema": schema_of[id(ErrorBody)]}}
    for status in sorted(errors):
        responses[str(status)] = {"description": DESCRIPTIONS.get(status, "Error"),
                                  "content": error_content}
    operation: dict[str, Any] = {
        "summary": op.summary, "tags": [op.tag],
        "operationId": f"{method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
        "responses": responses,
    }
    if op.description:
        operation["description"] = op.description
    if parameters:
        operation["parameters"] = parameters
    if op.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": schema_of[id(op.body)]}}}
    return operation


def _alternatives(response: Any) -> tuple[Any, ...]:
    """A response declared as a tuple of types is any one of them."""
    return response if isinstance(response, tuple) else (response,)


def _success(status: int, op: Operation, schema_of: dict[int, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": DESCRIPTIONS.get(status, "OK")}
    if isinstance(op.response, tuple):
        schema = {"oneOf": [schema_of[id(t)] for t in op.response]}
        response["content"] = {op.media_type: {"schema": schema}}
    elif op.response is not None:
        response["content"] = {op.media_type: {"schema": schema_of[id(op.response)]}}
    elif op.media_type != "application/json":
        response["content"] = {op.media_type: {"schema": {"type": "string"}}}
    return response


def _query_parameters(schema: dict[str, Any], components: dict[str, Any]) -> list[dict]:
    """One parameter per field of a query struct; list fields may be repeated."""
    name = schema["$ref"].rsplit("/", 1)[1]
    struct = components[name]
    required = set(struct.get("required", ()))
    parameters = []
    for field, field_schema in struct["properties"].items():
        parameter = {"name": field, "in": "query", "required": field in required,
                     "schema": field_schema}
        if field_schema.get("type") == "array":
            parameter.update(style="form", explode=True)
        parameters.append(parameter)
    return parameters


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><nav style="font:14px system-ui,sans-serif;padding:8px 16px">
<a href="/">&larr; Dashboard</a></nav>
<div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
</script></body></html>"""


async def openapi_json(request: Request) -> Response:
    document = request.app.state.openapi()
    return json_response(document)


async def docs(request: Request) -> Response:
    return HTMLResponse(DOCS_PAGE)


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False),
    Route("/docs", docs, methods=["GET"], include_in_schema=False),
]
