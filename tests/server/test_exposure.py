"""The app guards itself however it is launched: reached beyond loopback without a token
it refuses service, and it answers only to the host names it knows.

Driven through ASGI: ``TestClient(app, base_url="http://192.0.2.10:8000")`` makes the
app see a connection on a documentation address (RFC 5737) without sending anything.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from harness.settings import Settings
from web.app import create_app

BEYOND_LOOPBACK = "http://192.0.2.10:8000"
SPEC = {"providerName": "simulated", "modelName": "m", "datasetName": "arithmetic",
        "limit": 1, "config": {"latencyMs": 0}}


@pytest.fixture
def bare_uvicorn_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Starlette]:
    """``web.main:app`` as ``uvicorn web.main:app --host 0.0.0.0`` imports it: built from
    the environment, which has no token."""
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("HARNESS_TOKEN", "HARNESS_ALLOW_UNAUTHENTICATED", "HARNESS_ALLOWED_HOSTS",
                 "HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HARNESS_SEMANTIC_MEMORY", "0")
    import web.main
    yield importlib.reload(web.main).app


def log_size(tmp_path: Path) -> int:
    log = tmp_path / "data" / "runs.jsonl"
    return log.stat().st_size if log.exists() else 0


def test_uvicorn_web_main_refuses_a_write_reaching_it_beyond_loopback(
        bare_uvicorn_app: Starlette, tmp_path: Path) -> None:
    with TestClient(bare_uvicorn_app, base_url=BEYOND_LOOPBACK) as client:
        before = log_size(tmp_path)
        response = client.post("/api/runs", json=SPEC)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "exposed_without_token"
        assert client.get("/api/memory").status_code == 403  # reads are refused too
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/runs"):
            pass
    assert log_size(tmp_path) == before


def test_the_same_app_serves_on_loopback(bare_uvicorn_app: Starlette) -> None:
    with TestClient(bare_uvicorn_app, base_url="http://127.0.0.1:7860") as client:
        assert client.post("/api/runs", json=SPEC).status_code == 201


@pytest.mark.parametrize("opened", [{"token": "tok"}, {"allow_unauthenticated": True}])
def test_a_token_or_an_explicit_opt_in_lets_it_serve_beyond_loopback(
        settings: Settings, opened: dict) -> None:
    app = create_app(replace(settings, host="0.0.0.0", **opened))
    with TestClient(app, base_url=BEYOND_LOOPBACK) as client:
        response = client.post("/api/runs", json=SPEC, headers={"Authorization": "Bearer tok"})
        assert response.status_code == 201


@pytest.mark.parametrize("host", ["evil.example", "evil.example:7860", "localhost.evil.example"])
def test_a_foreign_host_header_is_refused(settings: Settings, host: str) -> None:
    with TestClient(create_app(settings), base_url="http://127.0.0.1:7860") as client:
        response = client.get("/api/health", headers={"Host": host})
        assert response.status_code == 421
        assert response.json()["error"]["code"] == "unknown_host"
        with (pytest.raises(WebSocketDisconnect),
              client.websocket_connect("/ws/runs", headers={"Host": host})):
            pass


@pytest.mark.parametrize("host", ["localhost:7860", "127.0.0.1:7860", "[::1]:7860",
                                  "app.localhost", "192.0.2.10:8000"])
def test_loopback_names_and_address_literals_are_answered(settings: Settings,
                                                          host: str) -> None:
    with TestClient(create_app(settings), base_url="http://127.0.0.1:7860") as client:
        assert client.get("/api/health", headers={"Host": host}).status_code == 200


def test_names_listed_in_harness_allowed_hosts_are_answered(settings: Settings) -> None:
    configured = Settings.from_env({"HARNESS_ALLOWED_HOSTS": "harness.internal, other.lan"},
                                   dotenv=Path("/nonexistent"))
    app = create_app(replace(settings, allowed_hosts=configured.allowed_hosts))
    with TestClient(app, base_url="http://127.0.0.1:7860") as client:
        for host in ("harness.internal", "other.lan:7860"):
            assert client.get("/api/health", headers={"Host": host}).status_code == 200
        assert client.get("/api/health", headers={"Host": "evil.example"}).status_code == 421
