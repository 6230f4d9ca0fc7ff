"""Browser Harness over a real server: pack out, captures in, a judged run on the board."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from harness.packs import PackItem, new_pack
from harness.settings import Settings
from tests.support.events import append, run_history
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until

SECRET = "pack-signing-secret"
QUIZ = [
    {"id": "q1", "question": "2 + 2?", "choices": ["3", "4", "5"], "answer": "B"},
    {"id": "q2", "question": "Capital of France?", "choices": ["Paris", "Rome"], "answer": "A"},
    {"id": "q3", "question": "3 × 3?", "choices": ["6", "9"], "answer": "9"},
]


@pytest.fixture
def harness(settings: Settings, server_factory: Callable[..., RunningServer]) -> RunningServer:
    """A server with a user dataset ``quiz`` and a known signing secret."""
    return start_harness(settings, server_factory)


def start_harness(settings: Settings, server_factory: Callable[..., RunningServer],
                  **options: object) -> RunningServer:
    settings = replace(settings, secret=SECRET, **options)  # type: ignore[arg-type]
    settings.datasets_dir.mkdir(parents=True)
    (settings.datasets_dir / "quiz.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in QUIZ))
    return server_factory(settings)


def make_pack(server: RunningServer, **body: object) -> dict:
    response = httpx.post(f"{server.url}/api/browser-harness/packs",
                          json={"datasetName": "quiz", "modelName": "chat-web", **body})
    assert response.status_code == 201, response.text
    return response.json()


def send(server: RunningServer, pack: dict, captures: list[dict]) -> httpx.Response:
    return httpx.post(f"{server.url}/api/browser-harness/imports",
                      json={"pack": pack, "captures": captures})


def log_bytes(server: RunningServer) -> bytes:
    return server.log_path.read_bytes() if server.log_path.exists() else b""


def test_a_pack_holds_the_prompts_but_never_the_answers(harness: RunningServer) -> None:
    pack = make_pack(harness, limit=2, providerName="ChatGPT")
    assert [item["sequence"] for item in pack["items"]] == [1, 2]
    assert pack["items"][0]["promptText"].startswith("2 + 2?")
    assert pack["items"][0]["choices"] == ["3", "4", "5"]
    assert pack["providerName"] == "ChatGPT"
    assert len(pack["signature"]) == 64
    assert set(pack) == {"packId", "createdAt", "expiresAt", "datasetName", "modelName",
                         "providerName", "items", "signature"}
    assert all(set(item) == {"sequence", "promptText", "choices"} for item in pack["items"])


def test_imported_captures_become_a_judged_run_on_the_board(harness: RunningServer) -> None:
    pack = make_pack(harness)
    response = send(harness, pack, [
        {"sequence": 1, "responseText": "It is 4.\nAnswer: B",
         "capturedAt": "2026-03-06T19:50:00.000Z"},
        {"sequence": 2, "responseText": "Answer: B"},
    ])
    assert response.status_code == 201, response.text
    run = response.json()
    run_id = run["run"]["id"]
    assert response.headers["location"] == f"/api/runs/{run_id}"
    assert run["run"]["status"] == "completed"
    assert run["progress"] == {"completed": 2, "total": 3, "correct": 1, "incorrect": 1,
                                    "awaiting": 0, "faulted": 1, "pending": 0}

    board = httpx.get(f"{harness.url}/api/runs/active").json()
    assert run_id in json.dumps(board)
    detail = httpx.get(f"{harness.url}/api/runs/{run_id}").json()
    assert detail["config"] == {"source": "browser-harness", "packId": pack["packId"]}
    items = httpx.get(f"{harness.url}/api/runs/{run_id}/items").json()
    assert "not captured" in json.dumps(items)
    assert "2026-03-06T19:50:00Z" in json.dumps(items)  # the capture's time, as finishedAt


def test_the_same_import_twice_makes_one_run_and_writes_once(harness: RunningServer) -> None:
    pack = make_pack(harness)
    captures = [{"sequence": 3, "responseText": "9"}]
    first = send(harness, pack, captures)
    assert first.status_code == 201
    written = log_bytes(harness)

    second = send(harness, pack, captures)
    assert second.status_code == 200
    assert second.json()["run"]["id"] == first.json()["run"]["id"]
    assert second.headers["location"] == first.headers["location"]
    assert log_bytes(harness) == written
    archive = httpx.get(f"{harness.url}/api/runs").json()
    assert len(archive["runs"]) == 1


def test_twenty_identical_imports_at_once_write_one_run(
        settings: Settings, server_factory: Callable[..., RunningServer]) -> None:
    # Patient enough for a busy shared machine: the point is how many copies are written.
    harness = start_harness(settings, server_factory, append_deadline_s=60.0)
    pack = make_pack(harness)
    captures = [{"sequence": 1, "responseText": "Answer: B"},
                {"sequence": 2, "responseText": "Answer: A"}]
    # Another writer's burst keeps the reader busy, so that the imports' own events are
    # folded late: the window in which a copy used to slip in.
    append(harness.log_path, *[event for n in range(10000) for event in run_history(f"busy-{n}")])
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: httpx.post(
            f"{harness.url}/api/browser-harness/imports",
            json={"pack": pack, "captures": captures}, timeout=90), range(20)))
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.headers["location"] for r in responses}) == 1
    run_id = responses[0].json()["run"]["id"]
    created = [line for line in log_bytes(harness).splitlines()
               if json.loads(line)["type"] == "run_created" and run_id.encode() in line]
    assert len(created) == 1, "the run was written once"


def test_an_import_written_but_not_yet_shown_is_not_written_again(
        settings: Settings, server_factory: Callable[..., RunningServer]) -> None:
    # No time at all for the reader: every append answers 503 once it is written.
    harness = start_harness(settings, server_factory, append_deadline_s=0.0)
    pack = make_pack(harness)
    captures = [{"sequence": 1, "responseText": "Answer: B"}]
    first = send(harness, pack, captures)
    assert first.status_code == 503 and first.json()["error"]["code"] == "log_unavailable"
    again = send(harness, pack, captures)
    assert again.status_code in (200, 503)
    run_id = again.json()["error"]["details"]["runId"] if again.status_code == 503 else \
        again.json()["run"]["id"]
    wait_until(lambda: httpx.get(f"{harness.url}/api/runs/{run_id}").status_code == 200,
               message="the import shown")
    assert send(harness, pack, captures).status_code == 200
    created = [line for line in log_bytes(harness).splitlines()
               if json.loads(line)["type"] == "run_created"]
    assert len(created) == 1, "the run was written once"


def test_a_pack_with_one_changed_byte_is_422_and_writes_nothing(harness: RunningServer) -> None:
    pack = make_pack(harness)
    pack["items"][0]["promptText"] = pack["items"][0]["promptText"].replace("2 + 2", "2 + 3")
    before = log_bytes(harness)
    response = send(harness, pack, [{"sequence": 1, "responseText": "Answer: C"}])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_signature"
    assert log_bytes(harness) == before


def test_an_expired_pack_is_422_and_writes_nothing(harness: RunningServer) -> None:
    signed_long_ago = new_pack(
        dataset_name="quiz", model_name="chat-web", provider_name="browser",
        items=[PackItem(sequence=1, prompt_text="2 + 2?", choices=["3", "4", "5"])],
        key=SECRET.encode(), now=datetime.now(UTC) - timedelta(days=2))
    pack = msgspec.to_builtins(signed_long_ago)
    response = send(harness, pack, [{"sequence": 1, "responseText": "Answer: B"}])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "expired"
    assert log_bytes(harness) == b""


@pytest.mark.parametrize(("captures", "sequence"), [
    ([{"sequence": 1, "responseText": "B"}, {"sequence": 4, "responseText": "A"}], 4),
    ([{"sequence": 2, "responseText": "A"}, {"sequence": 2, "responseText": "B"}], 2),
    ([{"sequence": 1, "responseText": "   "}], 1),
])
def test_a_bad_capture_is_422_naming_its_sequence_and_writes_nothing(
        harness: RunningServer, captures: list[dict], sequence: int) -> None:
    pack = make_pack(harness)
    response = send(harness, pack, captures)
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"sequence": sequence}
    assert log_bytes(harness) == b""


def test_a_pack_for_a_dataset_edited_since_is_refused(harness: RunningServer) -> None:
    pack = make_pack(harness)
    edited = [dict(QUIZ[0], question="2 + 3?"), *QUIZ[1:]]
    (harness.settings.datasets_dir / "quiz.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in edited))
    response = send(harness, pack, [{"sequence": 1, "responseText": "Answer: B"}])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "dataset_changed"
    assert log_bytes(harness) == b""


def test_a_pack_for_an_unknown_dataset_is_404(harness: RunningServer) -> None:
    response = httpx.post(f"{harness.url}/api/browser-harness/packs",
                          json={"datasetName": "nope", "modelName": "chat-web"})
    assert response.status_code == 404


def test_a_pack_from_a_server_with_a_generated_key_verifies_after_a_restart(
        settings: Settings, server_factory: Callable[..., RunningServer]) -> None:
    settings.datasets_dir.mkdir(parents=True)
    (settings.datasets_dir / "quiz.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in QUIZ))
    first = server_factory(settings)
    pack = make_pack(first)
    first.stop()
    second = server_factory(settings)
    response = send(second, pack, [{"sequence": 2, "responseText": "Paris"}])
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("captured_at", ["2026-13-45T99:99:99Z", "yesterday", "2026-03-06"])
def test_a_capture_time_that_is_not_a_time_is_refused_and_writes_nothing(
        harness: RunningServer, captured_at: str) -> None:
    pack = make_pack(harness, datasetName="arithmetic", modelName="m", limit=2)
    before = log_bytes(harness)
    response = send(harness, pack, [{"sequence": 1, "responseText": "A",
                                     "capturedAt": captured_at}])
    assert response.status_code == 422
    assert log_bytes(harness) == before


def test_a_capture_time_in_another_zone_is_written_as_utc_milliseconds(
        harness: RunningServer) -> None:
    pack = make_pack(harness, datasetName="arithmetic", modelName="m", limit=1)
    assert send(harness, pack, [{"sequence": 1, "responseText": "A",
                                 "capturedAt": "2026-03-06T21:50:00+02:00"}]).status_code == 201
    assert b'"ts":"2026-03-06T19:50:00.000Z"' in log_bytes(harness)
