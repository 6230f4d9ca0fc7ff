"""``/api/browser-harness``: signed packs out, captured answers back in as a run (SPEC §8)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.api_shapes import ImportRequest, PackRequest
from harness.browser_harness import build_pack, import_captures
from harness.packs import Pack
from projections.state import RunSnapshot
from web.api import endpoint
from web.details import with_details
from web.http import json_response

# An import carries every reply of a pack of up to 10,000 items, whole chat answers
# included, so it may be this many times the ordinary body limit.
IMPORT_BODY_FACTOR = 16


@endpoint(summary="Build a signed Browser Harness pack from a dataset", tag="browser-harness",
          body=PackRequest, response=Pack, statuses=(201,), errors=(404,))
async def create_pack(request: Request, body: PackRequest) -> Response:
    state = request.app.state
    pack = await build_pack(datasets=state.datasets, key=state.secret,
                            dataset_name=body.dataset_name, model_name=body.model_name,
                            provider_name=body.provider_name, limit=body.limit)
    return json_response(pack, status=201)


@endpoint(summary="Import Browser Harness captures as a judged run", tag="browser-harness",
          body=ImportRequest, response=RunSnapshot, statuses=(201, 200), errors=(404,),
          body_limit_factor=IMPORT_BODY_FACTOR,
          description="201 with the new run; 200 with the same run when this import was "
                      "already made (nothing is written again).")
async def create_import(request: Request, body: ImportRequest) -> Response:
    state = request.app.state
    imported = await import_captures(live=state.live, datasets=state.datasets, key=state.secret,
                                     pack=body.pack, captures=body.captures,
                                     in_flight=state.imports_in_flight)
    [record] = await with_details(state.live, [imported.record])  # an earlier import: shed
    return json_response(record.snapshot(), status=201 if imported.created else 200,
                         headers={"Location": f"/api/runs/{imported.record.info.id}"})


routes = [
    Route("/api/browser-harness/packs", create_pack, methods=["POST"]),
    Route("/api/browser-harness/imports", create_import, methods=["POST"]),
]
