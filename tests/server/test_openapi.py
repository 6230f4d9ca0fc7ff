"""The OpenAPI document describes every route, /docs renders it offline, and the live
server keeps every promise it makes (schemathesis: no 5xx, no response off its schema)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.events import append, run_history
from tests.support.servers import RunningServer

STREAMS = "/api/events"  # endless by design: tested in test_sse.py


def test_the_document_is_openapi_3_1_with_every_api_route(server: RunningServer) -> None:
    document = httpx.get(f"{server.url}/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    for path, method in [("/api/runs/active", "get"), ("/api/runs", "get"),
                         ("/api/runs/{run_id}/items", "get"), ("/api/health", "get"),
                         ("/api/events", "get"), ("/api/feedback", "post"),
                         ("/api/browser-harness/imports", "post"), ("/api/memory", "post")]:
        assert method in paths[path], (path, method)
    limit = next(p for p in paths["/api/runs/active"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 24)
    assert "RunSnapshot" in document["components"]["schemas"]


def test_the_docs_page_loads_only_from_the_server(server: RunningServer) -> None:
    page = httpx.get(f"{server.url}/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"https?://", page.text)
    for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page.text):
        assert httpx.get(f"{server.url}{asset}").status_code == 200, asset


@pytest.fixture
def api_schema(server: RunningServer):
    append(server.log_path, *run_history("run-1", total=3))
    server.settle()
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path=STREAMS)
# Schema-valid bodies that the server must still refuse with a 422 for reasons no
# schema can state: a tampered or expired pack (its signature), a dataset that does not
# exist on disk, a config key the chosen provider does not take. Only the check
# "schema-valid data is accepted" is waived there; every other check still applies.
SEMANTIC_REFUSALS = {"/api/browser-harness/imports", "/api/runs", "/api/run", "/api/queue"}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """One keep-alive session for every case, as a real client holds one (a connection
    per case cost a tenth of this test's CPU); no proxy from the environment."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture
def executed_cases() -> Iterator[list[str]]:
    """The operations of the cases the fuzz test ran. None at all is a failure: with
    pytest 9.2 schemathesis's plugin broke and ran nothing, and that must not pass."""
    cases: list[str] = []
    yield cases
    assert cases, "schemathesis executed no case against the live server"


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_the_live_server_honours_its_openapi_document(case, http: requests.Session,
                                                      executed_cases: list[str]) -> None:
    excluded = [positive_data_acceptance] if case.operation.path in SEMANTIC_REFUSALS else []
    case.call_and_validate(session=http, excluded_checks=excluded)
    executed_cases.append(case.operation.label)
