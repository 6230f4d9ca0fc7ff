"""Whole runs against an OpenAI-compatible server: the real executor and the real
OpenAI provider talking to a small fake of the API on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from harness.settings import Settings
from tests.fakes.openai_server import API_KEY, RunningFake
from tests.support.servers import RunningServer
from tests.support.waiting import wait_until

QUESTIONS = [
    {"question": "Capital of France?", "choices": ["Paris", "Lyon", "Nice"], "answer": "A"},
    {"question": "Capital of Italy?", "choices": ["Rome", "Milan", "Turin"], "answer": "Rome"},
    {"question": "Capital of Spain?", "choices": ["Seville", "Madrid"], "answer": "B"},
]


@pytest.fixture
def openai_server(fake_openai: RunningFake, settings: Settings,
                  server_factory: Callable[..., RunningServer]) -> RunningServer:
    datasets = settings.datasets_dir
    datasets.mkdir(parents=True)
    (datasets / "capitals.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return server_factory(replace(settings, openai_base_url=fake_openai.base_url,
                                  openai_api_key=API_KEY))


def run_to_the_end(server: RunningServer, model: str, config: dict | None = None) -> dict:
    created = httpx.post(f"{server.url}/api/runs", json={
        "providerName": "OpenAI", "modelName": model, "datasetName": "capitals",
        "concurrency": 3, "config": config or {}})
    assert created.status_code == 201, created.text
    run_id = created.json()["run"]["id"]

    def finished() -> dict | None:
        detail = httpx.get(f"{server.url}/api/runs/{run_id}").json()
        return detail if detail["run"]["status"] not in ("pending", "running") else None

    wait_until(finished, timeout_s=30, message=f"run {run_id} finished")
    return httpx.get(f"{server.url}/api/runs/{run_id}/items").json()


def test_a_run_streams_answers_from_the_api_and_judges_them(openai_server: RunningServer,
                                                           fake_openai: RunningFake) -> None:
    page = run_to_the_end(openai_server, "gpt-fake")
    # The fake always answers A: right for France and Italy ("Rome" is choice A), not Spain.
    assert page["counts"]["correct"] == 2 and page["counts"]["incorrect"] == 1
    item = page["groups"]["correct"][0]
    assert item["answer"] == "A" and item["responseText"].endswith("Answer: A")
    assert item["usage"] == {"promptTokens": 42, "completionTokens": 17}
    assert item["activity"]["chunks"] >= 1
    assert {r["model"] for r in fake_openai.fake.requests} == {"gpt-fake"}


def test_a_rate_limited_api_is_retried_and_the_run_completes(openai_server: RunningServer,
                                                             fake_openai: RunningFake) -> None:
    page = run_to_the_end(openai_server, "rate-limited-once")
    assert page["counts"]["faulted"] == 0
    assert len(fake_openai.fake.requests) == 4  # one 429, then three answers


def test_a_stalled_api_times_out_and_its_items_are_faulted(openai_server: RunningServer) -> None:
    page = run_to_the_end(openai_server, "stall", {"timeoutS": 1})
    faulted = page["groups"]["faulted"]
    assert len(faulted) == 3
    assert all("timed out" in item["error"] for item in faulted)
