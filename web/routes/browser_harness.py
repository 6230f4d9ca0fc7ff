"""``/api/browser-harness``: signed packs out, captured answers back in as a run (SPEC §8)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.browser_harness import build_pack, import_captures
from harness.packs import Capture, Pack
from web.http import json_response, read_body

Name = Annotated[str, Meta(min_length=1, max_length=200)]
# An import carries every reply of a pack of up to 10,000 items, whole chat answers
# included, so it may be this many times the ordinary body limit.
IMPORT_BODY_FACTOR = 16


class PackRequest(msgspec.Struct, rename="camel", kw_only=True):
    dataset_name: Name
    model_name: Name
    provider_name: Name = "browser"
    limit: Annotated[int, Meta(ge=1, le=10_000)] | None = None


class ImportRequest(msgspec.Struct, rename="camel", kw_only=True):
    pack: Pack
    captures: list[Capture]


async def create_pack(request: Request) -> Response:
    state = request.app.state
    body = await read_body(request, PackRequest, limit_bytes=state.settings.max_body_bytes)
    pack = await build_pack(datasets=state.datasets, key=state.secret,
                            dataset_name=body.dataset_name, model_name=body.model_name,
                            provider_name=body.provider_name, limit=body.limit)
    return json_response(pack, status=201)


async def create_import(request: Request) -> Response:
    """201 with the new run; 200 with the same run when this import was already made."""
    state = request.app.state
    body = await read_body(request, ImportRequest,
                           limit_bytes=IMPORT_BODY_FACTOR * state.settings.max_body_bytes)
    imported = await import_captures(live=state.live, datasets=state.datasets, key=state.secret,
                                     pack=body.pack, captures=body.captures)
    return json_response(imported.record.snapshot(), status=201 if imported.created else 200,
                         headers={"Location": f"/api/runs/{imported.record.info.id}"})


routes = [
    Route("/api/browser-harness/packs", create_pack, methods=["POST"]),
    Route("/api/browser-harness/imports", create_import, methods=["POST"]),
]
