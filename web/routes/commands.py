"""The write API of runs and the queue (SPEC §4.2, §7.1): each handler parses the body,
hands it to the executor, and answers with the state the command produced."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.commands import RunSpec
from harness.executor import Executor
from projections.queue import QueuedRun
from projections.state import RunSnapshot
from web.api import endpoint
from web.http import json_response, read_model


class QueueListing(msgspec.Struct, rename="camel"):
    queue: list[QueuedRun]


def _executor(request: Request) -> Executor:
    return request.app.state.executor


@endpoint(summary="Create a run and dispatch it now", tag="commands", body=RunSpec,
          response=RunSnapshot, statuses=(201,))
async def create_run(request: Request, body: RunSpec) -> Response:
    record = await _executor(request).create(body)
    return json_response(record.snapshot(), status=201,
                         headers={"Location": f"/api/runs/{record.info.id}"})


@endpoint(summary="Cancel a pending or running run; answers once it has ended",
          tag="commands", response=RunSnapshot, errors=(409,))
async def cancel_run(request: Request) -> Response:
    record = await _executor(request).cancel(request.path_params["run_id"])
    return json_response(record.snapshot())


@endpoint(summary="Re-run a finished run's faulted and unfinished items", tag="commands",
          response=RunSnapshot, errors=(409,))
async def retry_run(request: Request) -> Response:
    record = await _executor(request).retry(request.path_params["run_id"])
    return json_response(record.snapshot())


@endpoint(summary="Run specs waiting for a free slot, in order", tag="queue",
          response=QueueListing, cacheable=True, per_position=True)
async def list_queue(request: Request) -> Response:
    live = request.app.state.live
    return read_model(request, QueueListing(live.models.queue.items()), position=live.position)


@endpoint(summary="Queue a run spec; it starts when fewer than HARNESS_MAX_RUNS run",
          tag="queue", body=RunSpec, response=QueuedRun, statuses=(201,))
async def enqueue_run(request: Request, body: RunSpec) -> Response:
    queued = await _executor(request).enqueue(body)
    return json_response(queued, status=201, headers={"Location": "/api/queue"})


@endpoint(summary="Remove a queued run spec", tag="queue", statuses=(204,))
async def remove_queued(request: Request) -> Response:
    await _executor(request).dequeue(request.path_params["queue_id"])
    return Response(status_code=204)


routes = [
    Route("/api/runs", create_run, methods=["POST"]),
    Route("/api/run", create_run, methods=["POST"]),
    Route("/api/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
    Route("/api/run/{run_id}/cancel", cancel_run, methods=["POST"]),
    Route("/api/runs/{run_id}/retry", retry_run, methods=["POST"]),
    Route("/api/queue", list_queue, methods=["GET"]),
    Route("/api/queue", enqueue_run, methods=["POST"]),
    Route("/api/queue/{queue_id}", remove_queued, methods=["DELETE"]),
]
