"""Feedback: on a run (into the run log) and on any web page (its own log, via the widget)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from events.schema import FeedbackGiven
from events.writer import now_timestamp
from harness.api_shapes import RunFeedback
from harness.blank import NOT_BLANK
from harness.errors import NotFound
from harness.page_feedback import Comment, PageFeedback, PageUrl, Selector
from web.api import endpoint
from web.http import json_response, live_state

WIDGET = Path(__file__).resolve().parents[1] / "static" / "widget.js"


class PageFeedbackRequest(msgspec.Struct, rename="camel", kw_only=True):
    url: PageUrl
    rating: Literal["up", "down"] | None = None
    comment: Comment | None = None
    selector: Selector | None = None


# The store's rule "a rating or a comment", said in the schema too.
RATING_OR_COMMENT = {"anyOf": [
    {"required": ["rating"], "properties": {"rating": {"enum": ["up", "down"]}}},
    {"required": ["comment"], "properties": {"comment": {"type": "string", "pattern": NOT_BLANK}}},
]}
PageFeedbackBody = Annotated[PageFeedbackRequest, Meta(extra_json_schema=RATING_OR_COMMENT)]


class PageQuery(msgspec.Struct, rename="camel", kw_only=True):
    url: PageUrl


class PageFeedbackList(msgspec.Struct, rename="camel", kw_only=True):
    url: str
    entries: list[PageFeedback]


class ClearedPageFeedback(msgspec.Struct, rename="camel", kw_only=True):
    url: str
    cleared: int


@endpoint(summary="Rate a run up or down, with a comment", tag="feedback", body=RunFeedback,
          response=RunFeedback, statuses=(201,), errors=(404,))
async def give_run_feedback(request: Request, body: RunFeedback) -> Response:
    state = request.app.state
    if body.run_id not in state.live.models.runs.runs:
        raise NotFound("run", body.run_id)
    await state.live.append([FeedbackGiven(run_id=body.run_id, ts=now_timestamp(),
                                           rating=body.rating, comment=body.comment)])
    return json_response(body, status=201)


@endpoint(summary="Page feedback for one URL, newest first", tag="feedback", query=PageQuery,
          response=PageFeedbackList, cacheable=True)
async def list_page_feedback(request: Request, query: PageQuery) -> Response:
    entries = request.app.state.page_feedback.entries(query.url)
    return live_state(request, PageFeedbackList(url=query.url, entries=entries),
                      position=request.app.state.live.position)


@endpoint(summary="Feedback on a web page, from the embeddable widget", tag="feedback",
          body=PageFeedbackBody, response=PageFeedback, statuses=(201,))
async def give_page_feedback(request: Request, body: PageFeedbackRequest) -> Response:
    state = request.app.state
    entry = await state.page_feedback.add(url=body.url, rating=body.rating,
                                          comment=body.comment, selector=body.selector)
    return json_response(entry, status=201)


@endpoint(summary="Clear one URL's page feedback", tag="feedback", query=PageQuery,
          response=ClearedPageFeedback)
async def clear_page_feedback(request: Request, query: PageQuery) -> Response:
    cleared = await request.app.state.page_feedback.clear(url=query.url)
    return json_response(ClearedPageFeedback(url=query.url, cleared=cleared))


@endpoint(summary="The embeddable feedback widget script", tag="feedback",
          media_type="text/javascript")
async def widget(request: Request) -> Response:
    # Any page may embed it, including pages that isolate themselves with COEP.
    return FileResponse(WIDGET, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache",
                                 "Cross-Origin-Resource-Policy": "cross-origin"})


routes = [
    Route("/api/feedback", give_run_feedback, methods=["POST"]),
    Route("/api/page-feedback", list_page_feedback, methods=["GET"]),
    Route("/api/page-feedback", give_page_feedback, methods=["POST"]),
    Route("/api/page-feedback", clear_page_feedback, methods=["DELETE"]),
    Route("/widget.js", widget, methods=["GET"]),
]
