"""The MCP proxy over HTTP, against a real stdio MCP server written with the SDK."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import msgspec
import pytest

from events.schema import RunLog
from harness.mcp_proxy import McpProxy
from harness.settings import Settings
from tests.support.events import append, run_history
from tests.support.servers import in_process_client

FAKE_SERVER = Path(__file__).parent.parent / "fakes" / "mcp_tools_server.py"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


def write_config(data_dir: Path, servers: dict) -> None:
    (data_dir / "mcp.json").write_text(json.dumps({"mcpServers": servers}))


def configured(folder: Path) -> Path:
    fake = {"command": sys.executable, "args": [str(FAKE_SERVER)]}
    write_config(folder, {
        "tools": fake,
        "impatient": {**fake, "timeoutS": 1},
        "missing": {"command": str(folder / "no-such-program")},
        "halfway": {"args": ["no command, no url"]},
    })
    for run_id in ("run-9", "run-3"):  # the runs that tool calls are recorded against
        append(folder / "runs.jsonl", *run_history(run_id, finish=None))
    return folder


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return configured(tmp_path)


@pytest.fixture
async def client(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process_client(Settings(data_dir=data_dir, semantic_memory=False)) as http:
        yield http


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return configured(tmp_path_factory.mktemp("mcp"))


@pytest.fixture(scope="module")
async def shared(shared_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """One app, and so one running ``tools`` server, for the tests that only call its
    tools and look at what they logged themselves: a Python MCP server costs about a
    second of CPU to start. A test that kills, outwaits or lists servers takes ``client``."""
    async with in_process_client(Settings(data_dir=shared_dir, semantic_memory=False)) as http:
        yield http


def run_logs(data_dir: Path) -> list[RunLog]:
    path = data_dir / "runs.jsonl"
    if not path.exists():
        return []
    return [msgspec.json.decode(line, type=RunLog) for line in path.read_bytes().splitlines()
            if b'"type":"run_log"' in line]


async def call(client: httpx.AsyncClient, server: str, tool: str, **body: object) -> httpx.Response:
    return await client.post(f"/api/mcp/servers/{server}/tools/{tool}", json=body)


async def connected(client: httpx.AsyncClient, server: str, *, timeout_s: float = 30) -> None:
    """Start ``server``'s session and wait until it is up. Starting a Python MCP server
    takes about a second of CPU, more on a busy machine: a test of a one-second timeout
    must not spend it on the start."""
    await client.get(f"/api/mcp/servers/{server}/tools")  # may time out; the start goes on
    with anyio.fail_after(timeout_s):
        while True:
            listing = (await client.get("/api/mcp/servers")).json()["servers"]
            if {s["name"]: s["state"] for s in listing}[server] == "connected":
                return
            await anyio.sleep(0.05)


@pytest.mark.anyio
async def test_the_listing_shows_every_configured_server_and_what_is_wrong_with_one(
        client: httpx.AsyncClient) -> None:
    listing = (await client.get("/api/mcp/servers")).json()
    servers = {server["name"]: server for server in listing["servers"]}
    assert sorted(servers) == ["halfway", "impatient", "missing", "tools"]
    assert servers["tools"]["transport"] == "stdio"
    assert servers["halfway"]["state"] == "misconfigured"
    assert "command" in servers["halfway"]["lastError"]
    assert listing["configError"] is None


@pytest.mark.anyio
async def test_the_tools_of_a_server_are_listed_with_their_input_schemas(
        shared: httpx.AsyncClient) -> None:
    listing = (await shared.get("/api/mcp/servers/tools/tools")).json()
    tools = {tool["name"]: tool for tool in listing["tools"]}
    assert {"add", "explode", "pid", "wait"} <= set(tools)
    assert tools["add"]["inputSchema"]["required"] == ["a", "b"]
    assert tools["add"]["description"] == "Add two integers."


@pytest.mark.anyio
async def test_a_tool_call_returns_its_result_and_is_logged_to_its_run(
        shared: httpx.AsyncClient, shared_dir: Path) -> None:
    before = len(run_logs(shared_dir))
    response = await call(shared, "tools", "add", arguments={"a": 2, "b": 40}, runId="run-9")
    assert response.status_code == 200
    assert response.json()["content"] == [{"type": "text", "text": "42"}]
    assert response.json()["structuredContent"] == {"result": 42}
    [line] = run_logs(shared_dir)[before:]
    assert (line.run_id, line.level) == ("run-9", "info")
    assert line.message.startswith("mcp tools.add → ok")


@pytest.mark.anyio
async def test_a_call_without_a_run_writes_nothing_to_the_runs_log(
        shared: httpx.AsyncClient, shared_dir: Path) -> None:
    before = (shared_dir / "runs.jsonl").read_bytes()
    assert (await call(shared, "tools", "add", arguments={"a": 1, "b": 1})).status_code == 200
    assert (shared_dir / "runs.jsonl").read_bytes() == before


@pytest.mark.anyio
async def test_a_failing_tool_is_a_502_with_the_servers_message_logged_as_an_error(
        shared: httpx.AsyncClient, shared_dir: Path) -> None:
    before = len(run_logs(shared_dir))
    response = await call(shared, "tools", "explode", runId="run-9")
    assert response.status_code == 502
    assert "the fuse was lit" in response.json()["error"]["message"]
    [line] = run_logs(shared_dir)[before:]
    assert line.level == "error" and "the fuse was lit" in line.message


@pytest.mark.anyio
async def test_arguments_that_break_the_input_schema_are_a_422_listing_each_error(
        shared: httpx.AsyncClient, shared_dir: Path) -> None:
    before = (shared_dir / "runs.jsonl").read_bytes()
    response = await call(shared, "tools", "add", arguments={"a": "two"}, runId="run-9")
    assert response.status_code == 422
    errors = response.json()["error"]["details"]["errors"]
    assert {error["path"] for error in errors} == {"/", "/a"}
    assert (shared_dir / "runs.jsonl").read_bytes() == before


@pytest.mark.anyio
@pytest.mark.parametrize("method, path", [
    ("GET", "/api/mcp/servers/nobody/tools"),
    ("POST", "/api/mcp/servers/nobody/tools/add"),
    ("POST", "/api/mcp/servers/tools/tools/subtract"),
    ("GET", "/api/mcp/servers/halfway/tools"),
])
async def test_an_unknown_server_or_tool_is_a_404(shared: httpx.AsyncClient, method: str,
                                                   path: str) -> None:
    response = await shared.request(method, path, json={"arguments": {}})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.anyio
async def test_a_body_that_is_not_a_tool_call_is_rejected(shared: httpx.AsyncClient) -> None:
    malformed = await shared.post("/api/mcp/servers/tools/tools/add", content=b"{",
                                  headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    wrong = await shared.post("/api/mcp/servers/tools/tools/add", json={"arguments": [1, 2]})
    assert wrong.status_code == 422


@pytest.mark.anyio
async def test_a_server_that_cannot_start_is_a_502_naming_the_reason(
        client: httpx.AsyncClient) -> None:
    response = await call(client, "missing", "add", arguments={"a": 1, "b": 2})
    assert response.status_code == 502
    assert "No such file" in response.json()["error"]["message"]
    servers = {s["name"]: s for s in (await client.get("/api/mcp/servers")).json()["servers"]}
    assert servers["missing"]["state"] == "failed"


@pytest.mark.anyio
async def test_a_call_that_outlasts_the_servers_timeout_is_a_502_and_the_session_survives(
        client: httpx.AsyncClient, data_dir: Path) -> None:
    await connected(client, "impatient")
    response = await call(client, "impatient", "wait", arguments={"seconds": 30}, runId="run-3")
    assert response.status_code == 502
    assert "within 1.0 s" in response.json()["error"]["message"]
    [line] = run_logs(data_dir)
    assert line.level == "error" and "did not answer within 1.0 s" in line.message
    again = await call(client, "impatient", "add", arguments={"a": 1, "b": 2})
    assert again.json()["structuredContent"] == {"result": 3}


@pytest.mark.anyio
async def test_a_killed_server_is_restarted_and_the_next_call_succeeds(
        client: httpx.AsyncClient) -> None:
    first_pid = (await call(client, "tools", "pid")).json()["structuredContent"]["result"]
    os.kill(first_pid, signal.SIGKILL)
    with anyio.fail_after(20):
        while True:
            servers = (await client.get("/api/mcp/servers")).json()["servers"]
            tools = next(s for s in servers if s["name"] == "tools")
            if tools["restarts"] >= 1 and tools["state"] == "connected":
                break
            await anyio.sleep(0.05)
    response = await call(client, "tools", "add", arguments={"a": 1, "b": 2})
    assert response.status_code == 200
    second_pid = (await call(client, "tools", "pid")).json()["structuredContent"]["result"]
    assert second_pid != first_pid


@pytest.mark.anyio
async def test_without_mcp_json_there_are_no_servers(tmp_path: Path) -> None:
    async with McpProxy(Settings(data_dir=tmp_path)) as proxy:
        listing = proxy.servers()
    assert listing.servers == [] and listing.config_error is None


@pytest.mark.anyio
async def test_a_malformed_mcp_json_is_reported_by_the_listing(tmp_path: Path) -> None:
    (tmp_path / "mcp.json").write_text('{"mcpServers": ')
    async with McpProxy(Settings(data_dir=tmp_path)) as proxy:
        listing = proxy.servers()
    assert listing.servers == []
    assert "not a valid MCP config" in listing.config_error


@pytest.mark.anyio
async def test_a_call_for_an_unknown_run_is_a_404_and_writes_nothing(
        shared: httpx.AsyncClient, shared_dir: Path) -> None:
    before = (shared_dir / "runs.jsonl").read_bytes()
    response = await call(shared, "tools", "add", arguments={"a": 1, "b": 2}, runId="no-run")
    assert response.status_code == 404
    assert (shared_dir / "runs.jsonl").read_bytes() == before
