"""``GET /api/datasets``: the built-in and user datasets with their sizes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.datasets import DatasetCatalog
from web.http import live_state


async def list_datasets(request: Request) -> Response:
    catalog: DatasetCatalog = request.app.state.datasets
    # Files on disk change without the log moving, so the ETag is the body's digest.
    return live_state(request, catalog.list(), position=request.app.state.live.position)


routes = [Route("/api/datasets", list_datasets, methods=["GET"])]
