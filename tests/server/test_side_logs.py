"""The files beside the runs log — memory, page feedback, datasets — with lines that
cannot be decoded (invalid UTF-8 inside a string, nesting 5,000 deep): the server starts,
counts them, keeps every good entry, and answers with a clear 4xx where a client asked
for the bad content; never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from harness.settings import Settings
from tests.support.servers import start_server
from tests.support.waiting import wait_until

TS = "2026-03-06T19:43:11.123Z"
INVALID_UTF8 = b'{"id":"m-bad","text":"caf\xff","createdAt":"' + TS.encode() + b'"}'
DEEP = b'{"id":"m-deep","text":"x","createdAt":"' + TS.encode() + b'","extra":' \
       + b"[" * 5000 + b"]" * 5000 + b"}"


def memory_line(entry_id: str, text: str) -> bytes:
    return json.dumps({"id": entry_id, "text": text, "createdAt": TS}).encode()


def page_line(entry_id: str, comment: str) -> bytes:
    return json.dumps({"type": "page_feedback", "id": entry_id, "url": "https://a.test/",
                       "ts": TS, "rating": "up", "comment": comment}).encode()


def write_lines(path: Path, *lines: bytes) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_bad_lines_in_memory_and_page_feedback_are_counted_and_the_good_ones_kept(
        settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    write_lines(settings.data_dir / "memory.jsonl",
                memory_line("m1", "first note"), INVALID_UTF8, DEEP, memory_line("m2", "second"))
    pf_bad_utf8 = page_line("pf-bad", "x").replace(b'"x"', b'"\xfe"')
    pf_deep = page_line("pf-deep", "x").replace(b'"x"', b"[" * 5000 + b"]" * 5000)
    write_lines(settings.data_dir / "page-feedback.jsonl",
                page_line("pf1", "good"), pf_bad_utf8, pf_deep, page_line("pf2", "also good"))
    server = start_server(settings)
    try:
        health = httpx.get(f"{server.url}/api/health")
        assert health.status_code == 200
        side = health.json()["sideLogs"]
        assert (side["memoryBadLines"], side["pageFeedbackBadLines"]) == (2, 2)
        assert side["memoryEntries"] == 2

        memory = httpx.get(f"{server.url}/api/memory")
        assert memory.status_code == 200
        assert {hit["entry"]["id"] for hit in memory.json()["results"]} == {"m1", "m2"}
        searched = httpx.get(f"{server.url}/api/memory", params={"q": "note"})
        assert searched.status_code == 200
        pages = httpx.get(f"{server.url}/api/page-feedback", params={"url": "https://a.test/"})
        assert pages.status_code == 200
        assert {e["id"] for e in pages.json()["entries"]} == {"pf1", "pf2"}

        # Another process appends bad lines while the server runs: counted, not fatal.
        with (settings.data_dir / "memory.jsonl").open("ab") as memory_file:
            memory_file.write(INVALID_UTF8 + b"\n" + DEEP + b"\n" + memory_line("m3", "x") + b"\n")
        added = httpx.post(f"{server.url}/api/memory", json={"text": "after the bad lines"})
        assert added.status_code == 201
        listed = httpx.get(f"{server.url}/api/memory").json()["results"]
        assert {"m1", "m2", "m3", added.json()["id"]} == {hit["entry"]["id"] for hit in listed}
        wait_until(lambda: httpx.get(f"{server.url}/api/health").json()
                   ["sideLogs"]["memoryBadLines"] == 4, message="the new bad lines counted")
    finally:
        server.stop()


@pytest.mark.parametrize("bad_line", [
    b'{"question": "caf\xff?", "choices": ["a", "b"], "answer": "A"}',
    b'{"question": "q?", "choices": ["a", "b"], "answer": "A", "x": '
    + b"[" * 5000 + b"]" * 5000 + b"}",
], ids=["invalid-utf8", "nested-5000-deep"])
def test_a_dataset_with_an_undecodable_line_is_listed_with_its_error_and_refused_by_name(
        settings: Settings, bad_line: bytes) -> None:
    settings.datasets_dir.mkdir(parents=True)
    write_lines(settings.datasets_dir / "broken.jsonl",
                b'{"question": "1 + 1?", "choices": ["1", "2"], "answer": "B"}', bad_line)
    server = start_server(settings)
    try:
        listing = httpx.get(f"{server.url}/api/datasets")
        assert listing.status_code == 200
        [broken] = [d for d in listing.json() if d["name"] == "broken"]
        assert broken["size"] == 0 and "line 2" in broken["error"]

        run = httpx.post(f"{server.url}/api/runs", json={
            "providerName": "simulated", "modelName": "m", "datasetName": "broken"})
        assert run.status_code == 422
        assert "line 2" in run.json()["error"]["message"]
        pack = httpx.post(f"{server.url}/api/browser-harness/packs",
                          json={"datasetName": "broken", "modelName": "m"})
        assert pack.status_code == 422
        assert pack.json()["error"]["details"] == {"file": "broken.jsonl", "line": 2}
        assert not settings.log_path.exists() or settings.log_path.stat().st_size == 0
    finally:
        server.stop()
