"""REST over loopback: read models, positions and ETags, errors, CORS, and restarts."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote, unquote

import httpx
import msgspec
import orjson
import pytest

from events import schema as ev
from harness.cli import main as cli_main
from tests.support.events import TS, append, at, run_history
from tests.support.servers import RunningServer, start_server
from tests.support.waiting import wait_until


@pytest.fixture
def populated(server: RunningServer) -> RunningServer:
    append(server.log_path, *run_history("done", total=3, answers=(True, False, True)))
    append(server.log_path,
           ev.RunCreated(run_id="live", provider_name="OpenAI", model_name="gpt-4.1",
                         dataset_name="logic", total=4, labels={"team": "evals"}, ts=TS),
           ev.RunStarted(run_id="live", ts=TS),
           ev.ItemStarted(run_id="live", sequence=1, prompt_text="Which?", choices=("A", "B"),
                          ts=TS),
           ev.ItemFaulted(run_id="live", sequence=2, error="provider 500", ts=TS))
    server.settle()
    return server


def test_the_active_board_has_the_spec_shape_active_runs_first(populated: RunningServer) -> None:
    board = httpx.get(f"{populated.url}/api/runs/active").json()
    assert [snapshot["run"]["id"] for snapshot in board] == ["live", "done"]
    live = board[0]
    assert set(live) == {"run", "progress", "lifecycle", "currentItem", "recentItems"}
    assert live["progress"] == {"completed": 0, "total": 4, "correct": 0, "incorrect": 0,
                                "awaiting": 0, "faulted": 1, "pending": 3}
    assert live["currentItem"]["promptText"] == "Which?"
    assert live["lifecycle"] == {"resumedCount": 0, "lastResumedAt": None,
                                 "cancelRequestedAt": None}


def test_every_read_carries_its_position_and_a_matching_etag_gives_304(
        populated: RunningServer) -> None:
    for path in ("/api/runs/active", "/api/runs", "/api/runs/done", "/api/runs/done/items",
                 "/api/runs/done/logs", "/api/data", "/api/datasets", "/api/health",
                 "/api/runs/done/export?format=csv", "/api/queue", "/api/memory"):
        first = httpx.get(f"{populated.url}{path}")
        assert first.status_code == 200, path
        assert first.headers["x-harness-position"], path
        again = httpx.get(f"{populated.url}{path}",
                          headers={"If-None-Match": first.headers["etag"]})
        if path != "/api/health":  # uptime moves on
            assert again.status_code == 304, path
            assert again.content == b""


def test_the_etag_changes_when_the_log_moves(populated: RunningServer) -> None:
    first = httpx.get(f"{populated.url}/api/runs/active")
    append(populated.log_path, ev.RunFinished(run_id="live", status="canceled", ts=TS))
    populated.settle()
    again = httpx.get(f"{populated.url}/api/runs/active",
                      headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    statuses = {snapshot["run"]["id"]: snapshot["run"]["status"] for snapshot in again.json()}
    assert statuses == {"live": "canceled", "done": "completed"}


def test_a_read_repeated_at_one_position_is_the_same_response_and_the_next_is_fresh(
        populated: RunningServer) -> None:
    paths = ("/api/runs/active?limit=3", "/api/runs?limit=50", "/api/data",
             "/api/runs/live/export?format=csv")
    first = {path: httpx.get(f"{populated.url}{path}") for path in paths}
    for path, response in first.items():
        again = httpx.get(f"{populated.url}{path}")
        assert again.content == response.content, path
        for header in ("content-type", "content-disposition", "etag", "x-harness-position"):
            assert again.headers.get(header) == response.headers.get(header), (path, header)
    append(populated.log_path, ev.RunFinished(run_id="live", status="failed", ts=TS))
    populated.settle()
    board = httpx.get(f"{populated.url}/api/runs/active?limit=3").json()
    assert [snapshot["run"]["status"] for snapshot in board] == ["failed", "completed"]
    archive = httpx.get(f"{populated.url}/api/runs?limit=50").json()
    assert archive["runs"][0]["run"]["status"] == "failed"


def test_a_malformed_query_is_a_422_even_with_a_matching_etag(populated: RunningServer) -> None:
    etag = httpx.get(f"{populated.url}/api/runs/active").headers["etag"]
    refused = httpx.get(f"{populated.url}/api/runs/active?limit=99",
                        headers={"If-None-Match": etag})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "limit"


@pytest.mark.parametrize("path, field", [
    ("/api/runs/active?limit=0", "limit"),
    ("/api/runs/active?limit=25", "limit"),
    ("/api/runs/active?limit=ten", "limit"),
    ("/api/runs?limit=201", "limit"),
    ("/api/runs?status=exploded", "status"),
    ("/api/runs?cursor=zzz", "cursor"),
    ("/api/runs/done/items?state=weird", "state"),
    ("/api/runs/done/logs?level=loud", "level"),
    ("/api/runs/compare?ids=done", "ids"),
    ("/api/runs/done/export?format=xlsx", "format"),
])
def test_parameters_out_of_range_get_422_naming_the_field(populated: RunningServer, path: str,
                                                          field: str) -> None:
    response = httpx.get(f"{populated.url}{path}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"]["field"] == field
    assert error["message"]


@pytest.mark.parametrize("path", ["/api/runs/nope", "/api/runs/nope/items", "/api/runs/nope/logs",
                                  "/api/runs/compare?ids=done,nope", "/api/nothing-here"])
def test_unknown_ids_and_routes_get_404_in_the_error_shape(populated: RunningServer,
                                                           path: str) -> None:
    response = httpx.get(f"{populated.url}{path}")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_the_archive_filters_and_pages_newest_first(server: RunningServer) -> None:
    for number in range(7):
        append(server.log_path, ev.RunCreated(
            run_id=f"r{number}", provider_name="simulated", model_name=f"m{number % 2}",
            dataset_name="arithmetic", total=1, labels={"batch": str(number % 3)}, ts=TS))
    server.settle()
    first = httpx.get(f"{server.url}/api/runs", params={"model": "m0", "limit": 2}).json()
    assert [s["run"]["id"] for s in first["runs"]] == ["r6", "r4"]
    second = httpx.get(f"{server.url}/api/runs",
                       params={"model": "m0", "limit": 2, "cursor": first["nextCursor"]}).json()
    assert [s["run"]["id"] for s in second["runs"]] == ["r2", "r0"]
    labelled = httpx.get(f"{server.url}/api/runs", params={"label": "batch:1"}).json()
    assert [s["run"]["id"] for s in labelled["runs"]] == ["r4", "r1"]
    text = httpx.get(f"{server.url}/api/runs", params={"q": "R5"}).json()
    assert [s["run"]["id"] for s in text["runs"]] == ["r5"]


def test_archive_rows_carry_accuracy_and_duration(server: RunningServer) -> None:
    events = run_history("a", total=2, answers=(True, False), finish=None)
    events.append(ev.RunFinished(run_id="a", status="completed", ts=at("2026-03-06T19:43:13.623Z")))
    append(server.log_path, *events)
    server.settle()
    row = httpx.get(f"{server.url}/api/runs").json()["runs"][0]
    assert row["accuracy"] == 0.5
    assert row["durationMs"] == 2500


def test_items_are_grouped_by_state_and_paged(populated: RunningServer) -> None:
    page = httpx.get(f"{populated.url}/api/runs/live/items").json()
    assert page["counts"] == {"correct": 0, "incorrect": 0, "awaiting": 0, "faulted": 1,
                              "running": 1, "pending": 2}
    assert [i["sequence"] for i in page["groups"]["pending"]] == [3, 4]
    assert page["groups"]["faulted"][0]["error"] == "provider 500"
    first = httpx.get(f"{populated.url}/api/runs/done/items", params={"limit": 2}).json()
    rest = httpx.get(f"{populated.url}/api/runs/done/items",
                     params={"limit": 2, "cursor": first["nextCursor"]}).json()
    sequences = [item["sequence"] for page in (first, rest)
                 for group in page["groups"].values() for item in group]
    assert sorted(sequences) == [1, 2, 3]
    assert rest["nextCursor"] is None


def test_logs_can_be_filtered_by_level_and_read_after_an_index(populated: RunningServer) -> None:
    logs = httpx.get(f"{populated.url}/api/runs/done/logs").json()["entries"]
    assert [e["kind"] for e in logs] == ["run_created", "run_started", "run_finished"]
    after = httpx.get(f"{populated.url}/api/runs/done/logs", params={"after": 2}).json()
    assert [e["index"] for e in after["entries"]] == [3]


def test_compare_shows_accuracy_and_the_items_runs_disagree_on(server: RunningServer) -> None:
    append(server.log_path, *run_history("x", total=3, answers=(True, True, False)))
    append(server.log_path, *run_history("y", total=3, answers=(True, False, False)))
    server.settle()
    body = httpx.get(f"{server.url}/api/runs/compare", params={"ids": "x,y"}).json()
    assert [(r["id"], round(r["accuracy"], 2)) for r in body["runs"]] == [("x", 0.67), ("y", 0.33)]
    assert [d["sequence"] for d in body["disagreements"]] == [2]
    assert body["disagreements"][0]["answers"]["y"]["correct"] is False


def test_runs_on_different_datasets_are_not_compared(server: RunningServer) -> None:
    created, *rest = run_history("logic-run")
    append(server.log_path, *run_history("x"),
           msgspec.structs.replace(created, dataset_name="logic"), *rest)
    server.settle()
    response = httpx.get(f"{server.url}/api/runs/compare", params={"ids": "x,logic-run"})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"datasets": ["arithmetic", "logic"]}


def test_export_downloads_items_as_csv_and_jsonl(populated: RunningServer) -> None:
    as_csv = httpx.get(f"{populated.url}/api/runs/done/export", params={"format": "csv"})
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["sequence"], r["state"]) for r in rows] == [
        ("1", "correct"), ("2", "incorrect"), ("3", "correct")]
    as_jsonl = httpx.get(f"{populated.url}/api/runs/done/export", params={"format": "jsonl"})
    items = [orjson.loads(line) for line in as_jsonl.content.splitlines()]
    assert [item["answer"] for item in items] == ["A", "A", "A"]


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:9000", "null"])
def test_cors_admits_local_origins_and_file_pages(server: RunningServer, origin: str) -> None:
    simple = httpx.get(f"{server.url}/api/health", headers={"Origin": origin})
    assert simple.headers["access-control-allow-origin"] == origin
    # Page feedback: the one write a file:// page (origin null) may make.
    preflight = httpx.options(f"{server.url}/api/page-feedback", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize("origin", ["https://evil.example", "http://localhost.evil.example",
                                    "http://192.168.1.5:7860"])
def test_cors_refuses_other_origins(server: RunningServer, origin: str) -> None:
    simple = httpx.get(f"{server.url}/api/health", headers={"Origin": origin})
    assert "access-control-allow-origin" not in simple.headers
    preflight = httpx.options(f"{server.url}/api/feedback", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers


def test_bad_lines_are_counted_in_health_and_later_lines_still_read(server: RunningServer) -> None:
    with server.log_path.open("ab") as log:
        log.write(b"garbage\n[1]\n{\"type\":\"nope\"}\n")
    append(server.log_path, *run_history("after"))
    with server.log_path.open("ab") as log:
        log.write(b'{"type":"run_started","runId":"after"')  # no newline yet
    wait_until(lambda: httpx.get(f"{server.url}/api/runs/after").status_code == 200)
    health = httpx.get(f"{server.url}/api/health").json()
    assert health["problems"] == {"invalid_json": 1, "not_an_object": 1, "unknown_type": 1}
    assert [p["kind"] for p in health["recentProblems"]] == [
        "invalid_json", "not_an_object", "unknown_type"]
    assert int(health["position"].split(":")[1]) < server.log_path.stat().st_size  # held back


def read_everything(server: RunningServer) -> dict[str, object]:
    seen: dict[str, object] = {}
    for path in ("/api/runs/active?limit=24", "/api/runs?limit=200", "/api/data"):
        seen[path] = httpx.get(f"{server.url}{path}").json()
    for summary in seen["/api/runs?limit=200"]["runs"]:  # type: ignore[index]
        run_id = summary["run"]["id"]
        for suffix in ("", "/items?limit=1000", "/logs?limit=1000"):
            seen[f"{run_id}{suffix}"] = httpx.get(f"{server.url}/api/runs/{run_id}{suffix}").json()
    return seen


def test_a_restarted_server_shows_exactly_what_the_live_one_showed(server_factory) -> None:
    live = server_factory()
    append(live.log_path, *run_history("a", total=4, answers=(True, False, True, True)))
    append(live.log_path, {"type": "nope"})
    append(live.log_path, *run_history("b", total=3, answers=(True,), finish=None),
           ev.RunResumed(run_id="b", ts=TS), ev.FeedbackGiven(run_id="a", rating="up", ts=TS),
           ev.QueueEnqueued(queue_id="q1", spec={"modelName": "m"}, ts=TS))
    live.settle()
    before = read_everything(live)
    live.stop()
    restarted = server_factory(live.settings)
    restarted.settle()
    assert read_everything(restarted) == before


@pytest.mark.parametrize("query", ["label=", "status=", "status=running,", "ids=a,,b"])
def test_empty_values_of_list_parameters_are_refused_not_ignored(server: RunningServer,
                                                                 query: str) -> None:
    path = "/api/runs/compare" if query.startswith("ids") else "/api/runs"
    assert httpx.get(f"{server.url}{path}?{query}").status_code == 422


@pytest.mark.parametrize("run_id", ["运行-1", 'say "hi"', "tab\there"])
def test_any_run_id_can_be_exported_with_a_safe_file_name(server: RunningServer,
                                                          run_id: str) -> None:
    append(server.log_path, *run_history(run_id, total=1, answers=(True,)))
    server.settle()
    response = httpx.get(f"{server.url}/api/runs/{quote(run_id, safe='')}/export",
                         params={"format": "csv"})
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.isascii() and "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("UTF-8''", 1)[1]) == f"{run_id}.csv"


def test_the_replay_cli_prints_what_the_live_server_shows(server: RunningServer,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    append(server.log_path, *run_history("a", total=4, answers=(True, False, True)))
    append(server.log_path, {"type": "nope"}, ev.RunResumed(run_id="a", ts=TS))
    server.settle()
    assert cli_main(["replay", str(server.log_path), "--run", "a", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == httpx.get(f"{server.url}/api/runs/a/items", params={"limit": 1000}).json()
    assert cli_main(["replay", str(server.log_path), "--json"]) == 0
    board = json.loads(capsys.readouterr().out)
    assert board["runs"] == httpx.get(f"{server.url}/api/runs").json()["runs"]
    assert board["position"] == httpx.get(f"{server.url}/api/health").json()["position"]


def test_health_counts_unreadable_lines_of_the_side_logs(settings) -> None:
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "memory.jsonl").write_bytes(b"not json\n")
    (settings.data_dir / "page-feedback.jsonl").write_bytes(b"[]\nnope\n")
    server = start_server(settings)
    try:
        side = httpx.get(f"{server.url}/api/health").json()["sideLogs"]
    finally:
        server.stop()
    assert (side["memoryBadLines"], side["pageFeedbackBadLines"]) == (1, 2)
